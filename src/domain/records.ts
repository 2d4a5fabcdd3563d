/**
 * In-memory shapes of the Avro records in schemas/*.avsc. Avro `long` timestamps are bigint
 * nanoseconds: a double cannot hold them exactly (DESIGN 2).
 */

export type Source = 'flatfile' | 'ws';
export type OptionRight = 'C' | 'P';
export type AggressorSide = 'BUY' | 'SELL' | 'INSIDE' | 'UNKNOWN';
export type AggressorMethod = 'quote' | 'tick';

export interface Provenance {
  source: Source;
  /** File key (flatfile) or connection id (ws). */
  origin: string;
  /** 1-based line number (flatfile) or message sequence (ws). */
  origin_offset: bigint;
}

export interface EquityTrade extends Provenance {
  ticker: string;
  sip_timestamp: bigint;
  participant_timestamp: bigint | null;
  trf_timestamp: bigint | null;
  sequence_number: bigint | null;
  id: string | null;
  exchange: number | null;
  tape: number | null;
  trf_id: number | null;
  price: number;
  size: number;
  conditions: number[];
  correction: number | null;
}

export interface EquityQuote extends Provenance {
  ticker: string;
  sip_timestamp: bigint;
  participant_timestamp: bigint | null;
  trf_timestamp: bigint | null;
  sequence_number: bigint | null;
  /** null when that side is absent (Massive publishes 0). */
  bid_price: number | null;
  bid_size: bigint | null;
  bid_exchange: number | null;
  ask_price: number | null;
  ask_size: bigint | null;
  ask_exchange: number | null;
  conditions: number[];
  indicators: number[];
  tape: number | null;
}

/** Parsed OPRA fields carried on every option record. */
export interface OpraFields {
  underlying: string;
  root: string;
  /** YYYY-MM-DD; expiry instant is 16:00 America/New_York that day. */
  expiration_date: string;
  right: OptionRight;
  strike: number;
}

export interface OptionTrade extends Provenance, OpraFields {
  ticker: string;
  sip_timestamp: bigint;
  participant_timestamp: bigint | null;
  sequence_number: bigint | null;
  price: number;
  size: bigint;
  exchange: number | null;
  conditions: number[];
  correction: number | null;
}

export interface OptionQuote extends Provenance, OpraFields {
  ticker: string;
  sip_timestamp: bigint;
  sequence_number: bigint | null;
  bid_price: number | null;
  bid_size: bigint | null;
  bid_exchange: number | null;
  ask_price: number | null;
  ask_size: bigint | null;
  ask_exchange: number | null;
}

export interface EnrichedOptionTrade extends OptionTrade {
  underlying_price: number | null;
  underlying_timestamp: bigint | null;
  tau: number | null;
  rate: number | null;
  dividend_yield: number;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  vega: number | null;
  theta: number | null;
  intrinsic: number | null;
  flags: number;
  dadvv: number | null;
  gadvv: number | null;
  aggressor_side: AggressorSide | null;
  aggressor_method: AggressorMethod | null;
  quote_age_ns: bigint | null;
  mid_offset_bps: number | null;
  /** Reprocess generation, stamped by the runtime on output (absent = 0); see OutputVersion. */
  generation?: number;
}

export interface DeadLetter {
  reason: string;
  detail: string;
  origin: string;
  position: bigint;
  partition: number | null;
  event_time: bigint | null;
  raw: Buffer;
  recorded_at_ms: bigint;
}

/** Trades per underlying and 1-minute window (topic equity.trade_counts.1m), the reference processor's output. */
export interface TradeCounts {
  underlying: string;
  window_start_ns: bigint;
  window_end_ns: bigint;
  trades: bigint;
  shares: number;
  notional: number;
}

/** One date of Treasury yields (topic rates.treasury, key = date), percent as quoted. */
export type { TreasuryYields } from './rates/treasury';

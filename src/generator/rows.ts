/**
 * Row synthesis per dataset. Rows are named string fields (exactly as they will appear in the
 * CSV, conditions lists already quoted) so malformed variants can be derived by column name.
 */
import type { Contract, PricePath, PricingContext } from './market';
import { intrinsicValue, theoreticalPrice } from './market';
import type { Prng } from './prng';

export type Row = Record<string, string>;

const STOCK_EXCHANGES = [4, 8, 11, 12, 15, 19, 21];
const STOCK_CONDITIONS = ['', '12', '37', '"12,37"', '"12,37"', '"14,12,37,41"', '"12,14,41"'];
const OPTION_EXCHANGES = [300, 301, 302, 303, 304, 307, 309, 312, 313, 315, 316, 319, 322, 325];
const OPTION_CONDITIONS = ['209', '209', '227', '227', '232', '219', '233', '"209,219"', '"227,232"'];
/** TRF (FINRA) prints carry a trf_id and trf_timestamp. */
const TRF_EXCHANGE = 4;

export function cents(x: number): string {
  return (Math.round(x * 100) / 100).toString();
}

/** Massive prints an empty correction almost always, occasionally a code (features drop non-zero). */
function correction(rng: Prng): string {
  const u = rng.next();
  return u < 0.003 ? '1' : u < 0.004 ? '0' : '';
}

/** Sorted event times (ns offsets into the session), busier near the open and close. */
export function eventOffsets(rng: Prng, n: number, sessionNs: number, endNs = sessionNs): Float64Array {
  const out = new Float64Array(n);
  const span = Math.min(endNs, sessionNs);
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    const edge = rng.next() * 0.08;
    const frac = u < 0.15 ? edge : u < 0.3 ? 1 - edge : rng.next();
    out[i] = Math.floor(frac * (span - 1));
  }
  return out.sort();
}

/** Swaps ~1% of neighbours: real files are only mostly time ordered within a ticker. */
export function slightlyDisorder<T>(rows: T[], rng: Prng): T[] {
  for (let i = 0; i + 1 < rows.length; i++) {
    if (rng.chance(0.01)) {
      const t = rows[i];
      rows[i] = rows[i + 1];
      rows[i + 1] = t;
      i++;
    }
  }
  return rows;
}

export interface EventClock {
  openNs: bigint;
  offsetNs: number;
}

function sipOf(clock: EventClock): bigint {
  return clock.openNs + BigInt(clock.offsetNs);
}

export function stockTradeRow(rng: Prng, ticker: string, tape: number, path: PricePath, clock: EventClock, seq: number): Row {
  const sip = sipOf(clock);
  const exchange = rng.chance(0.3) ? TRF_EXCHANGE : rng.pick(STOCK_EXCHANGES);
  const isTrf = exchange === TRF_EXCHANGE;
  const price = path.at(sip) + (isTrf ? rng.int(-1, 1) * 0.0025 : 0);
  return {
    ticker,
    conditions: rng.pick(STOCK_CONDITIONS),
    correction: correction(rng),
    exchange: String(exchange),
    id: String(seq),
    participant_timestamp: String(sip - BigInt(rng.int(1_000, 400_000))),
    price: isTrf ? (Math.round(price * 10000) / 10000).toString() : cents(price),
    sequence_number: String(seq * 3 + rng.int(0, 2)),
    sip_timestamp: String(sip),
    size: String(rng.chance(0.5) ? 100 : rng.int(1, 600)),
    tape: String(tape),
    trf_id: isTrf ? '201' : '',
    trf_timestamp: isTrf ? String(sip - BigInt(rng.int(500, 5_000))) : '0',
  };
}

/** Quote sizes are round lots before 2025-11-03 and shares from then on (DESIGN 2). */
export function stockQuoteRow(
  rng: Prng, ticker: string, tape: number, path: PricePath, clock: EventClock, seq: number, sizeUnit: number,
): Row {
  const sip = sipOf(clock);
  const mid = path.at(sip);
  const ticks = rng.chance(0.8) ? 1 : rng.int(2, 3);
  const bid = Math.floor((mid - ticks * 0.005) * 100) / 100;
  const ask = bid + ticks * 0.01;
  const oneSided = rng.chance(0.002);
  return {
    ticker,
    ask_exchange: String(rng.pick(STOCK_EXCHANGES)),
    ask_price: oneSided && rng.chance(0.5) ? '0' : cents(ask),
    ask_size: String(rng.int(1, 40) * sizeUnit),
    bid_exchange: String(rng.pick(STOCK_EXCHANGES)),
    bid_price: oneSided && rng.chance(0.5) ? '0' : cents(bid),
    bid_size: String(rng.int(1, 40) * sizeUnit),
    conditions: '1',
    indicators: '',
    participant_timestamp: String(sip - BigInt(rng.int(1_000, 40_000))),
    sequence_number: String(seq),
    sip_timestamp: String(sip),
    tape: String(tape),
    trf_timestamp: '0',
  };
}

export interface OptionTradeOutcome {
  row: Row;
  belowIntrinsic: boolean;
}

/**
 * Trade at the theoretical price plus noise, never below intrinsic + 1 cent so the IV is
 * solvable, except for rare deliberate below-intrinsic prints on in-the-money contracts.
 */
export function optionTradeRow(rng: Prng, c: Contract, path: PricePath, clock: EventClock, ctx: PricingContext): OptionTradeOutcome {
  const sip = sipOf(clock);
  const spot = path.at(sip);
  const theo = theoreticalPrice(c, spot, sip, ctx);
  const intrinsic = intrinsicValue(c, spot);
  const noisy = theo * (1 + 0.01 * rng.normal());
  const belowIntrinsic = intrinsic > 0.5 && rng.chance(0.004);
  const price = belowIntrinsic ? intrinsic - 0.1 - rng.int(0, 20) / 100 : Math.max(noisy, intrinsic + 0.01, 0.01);
  const rounded = belowIntrinsic ? Math.floor(price * 100) / 100 : Math.ceil(price * 100 - 1e-9) / 100;
  const row: Row = {
    ticker: c.symbol,
    conditions: rng.pick(OPTION_CONDITIONS),
    correction: correction(rng),
    exchange: String(rng.pick(OPTION_EXCHANGES)),
    participant_timestamp: String(sip - BigInt(rng.int(0, 2) * rng.int(1_000, 900_000))),
    price: cents(rounded),
    sip_timestamp: String(sip),
    size: String(rng.chance(0.6) ? rng.int(1, 5) : rng.chance(0.9) ? rng.int(6, 50) : rng.int(51, 500)),
  };
  return { row, belowIntrinsic };
}

/** Quote around the theoretical price; a side that would be ≤ 0 is published as 0 (absent). */
export function optionQuoteRow(rng: Prng, c: Contract, path: PricePath, clock: EventClock, ctx: PricingContext, seq: number): Row {
  const sip = sipOf(clock);
  const theo = theoreticalPrice(c, path.at(sip), sip, ctx);
  const half = Math.max(0.01, Math.round(theo * 0.01 * 100) / 100 + rng.int(0, 2) * 0.01);
  const bid = Math.floor((theo - half) * 100) / 100;
  const ask = Math.max(Math.ceil((theo + half) * 100) / 100, 0.01);
  const bidAbsent = bid <= 0;
  return {
    ticker: c.symbol,
    ask_exchange: String(rng.pick(OPTION_EXCHANGES)),
    ask_price: cents(ask),
    ask_size: String(rng.int(1, 500)),
    bid_exchange: bidAbsent ? '0' : String(rng.pick(OPTION_EXCHANGES)),
    bid_price: bidAbsent ? '0' : cents(bid),
    bid_size: bidAbsent ? '0' : String(rng.int(1, 500)),
    sequence_number: String(seq),
    sip_timestamp: String(sip),
  };
}

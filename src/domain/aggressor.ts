/**
 * Aggressor side of an option trade from the contract's NBBO as-of the trade (DESIGN 5.2).
 *
 * Deterministic quote rule, checked in this order, with ε the tick tolerance:
 * 1. no quote, a quote older than the staleness bound, no ask, a crossed (bid > ask) or a
 *    locked (bid = ask) quote → UNKNOWN;
 * 2. price ≥ ask − ε → BUY (at or through the ask);
 * 3. price ≤ bid + ε → SELL (at or through the bid);
 * 4. otherwise (strictly inside the spread) → INSIDE.
 * BUY is tested first, which only matters for a spread under 2ε (never with a 0.01 tick).
 *
 * An absent bid (null, as the normaliser maps Massive's 0) is a zero bid: in options "no bid"
 * means nobody pays anything, so a trade at the ask of a no-bid contract is still a BUY. An
 * absent ask leaves no upper bound, so the side is UNKNOWN.
 *
 * Optional tick rule (off by default) for UNKNOWN: price above the previous trade of the same
 * contract by more than ε → BUY, below → SELL, otherwise (zero tick, or no previous trade)
 * UNKNOWN. Method is 'tick' only when the tick rule decided the side.
 */
import type { AggressorMethod, AggressorSide } from './records';

export interface ContractQuote {
  bid_price: number | null;
  ask_price: number | null;
  sip_timestamp: bigint;
}

export interface AggressorConfig {
  /** Tick tolerance ε in price units (default 1e-4). */
  epsilon: number;
  /** A quote older than this (t − quote time > bound) is stale (default 1 s). */
  stalenessNs: bigint;
  /** Classify UNKNOWN trades by the tick rule (default false). */
  tickRuleFallback: boolean;
}

/**
 * How far back the greeks processor's as-of lookups reach (underlying and contract quotes). A quote
 * older than the staleness bound but within this span is still found: the trade is UNKNOWN and
 * carries the quote's age. The flat-file producer's option-quote reduction keeps what this span can see.
 */
export const ASOF_LOOKBACK_NS = 60_000_000_000n;

export const DEFAULT_AGGRESSOR_CONFIG: Readonly<AggressorConfig> = {
  epsilon: 1e-4,
  stalenessNs: 1_000_000_000n,
  tickRuleFallback: false,
};

export interface AggressorResult {
  side: AggressorSide;
  method: AggressorMethod;
  /** t − quote time, whenever there is a quote (stale ones included); null without one. */
  quote_age_ns: bigint | null;
  /** (price − mid) / mid in basis points, when the quote is fresh, has an ask and is not crossed. */
  mid_offset_bps: number | null;
}

/**
 * Side of a trade at `price` and time `t` (ns) given the contract's latest quote with time ≤ t
 * and the previous trade price of the same contract (for the optional tick rule).
 */
export function classifyAggressor(
  price: number,
  t: bigint,
  quote: ContractQuote | null,
  previousPrice: number | null,
  config: AggressorConfig,
): AggressorResult {
  const byQuote = quoteRule(price, t, quote, config);
  if (byQuote.side !== 'UNKNOWN' || !config.tickRuleFallback) return byQuote;
  const byTick = tickRule(price, previousPrice, config.epsilon);
  if (byTick === 'UNKNOWN') return byQuote;
  return { ...byQuote, side: byTick, method: 'tick' };
}

function quoteRule(price: number, t: bigint, quote: ContractQuote | null, config: AggressorConfig): AggressorResult {
  if (quote === null) return unknown(null);
  const age = t - quote.sip_timestamp;
  if (age < 0n) throw new RangeError(`contract quote at ${quote.sip_timestamp} is after the trade at ${t}: not an as-of quote`);
  if (age > config.stalenessNs) return unknown(age);
  const ask = quote.ask_price;
  if (ask === null || !(ask > 0)) return unknown(age);
  const bid = quote.bid_price === null ? 0 : quote.bid_price;
  if (bid > ask) return unknown(age);
  const mid = 0.5 * (bid + ask);
  const offset = ((price - mid) / mid) * 1e4;
  if (bid === ask) return { side: 'UNKNOWN', method: 'quote', quote_age_ns: age, mid_offset_bps: offset };
  const side: AggressorSide =
    price >= ask - config.epsilon ? 'BUY' : price <= bid + config.epsilon ? 'SELL' : 'INSIDE';
  return { side, method: 'quote', quote_age_ns: age, mid_offset_bps: offset };
}

function tickRule(price: number, previousPrice: number | null, epsilon: number): AggressorSide {
  if (previousPrice === null) return 'UNKNOWN';
  if (price > previousPrice + epsilon) return 'BUY';
  if (price < previousPrice - epsilon) return 'SELL';
  return 'UNKNOWN';
}

function unknown(age: bigint | null): AggressorResult {
  return { side: 'UNKNOWN', method: 'quote', quote_age_ns: age, mid_offset_bps: null };
}

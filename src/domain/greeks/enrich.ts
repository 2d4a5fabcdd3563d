/**
 * Pure core of the greeks processor (DESIGN 5.1): one option trade plus the as-of underlying
 * snapshot (latest quote or trade with time ≤ the trade's time) → EnrichedOptionTrade. No I/O.
 *
 * Underlying price S:
 * - a quote side is present when non-null and finite (the normaliser maps Massive's 0 to null);
 * - quote older than the staleness bound (t − time > stalenessNs) → NBBO_STALE, no S;
 * - both sides: ask < bid → CROSSED; ask = bid → LOCKED; mid ≤ 0 → MID_NONPOS; bid ≤ 0 or
 *   ask/bid > maxAskBidRatio → BAD_RATIO (a quote that wide is not trusted); else S = mid;
 * - one side: S = that side (MID_NONPOS when ≤ 0); no side: no S;
 * - last-trade mode (config alternative): S = the trade price, same staleness, MID_NONPOS ≤ 0.
 * Whenever there is no S, NO_UNDERLYING is set as well.
 *
 * Then τ (expiry 16:00 New York), r at τ (from the trade's rate source when given, else the
 * config's; its flags are added only when τ exists, i.e. when r is used), q per underlying, IV
 * and Greeks at the IV (see pricing/iv.ts); expired, no rate or no S → no IV (NO_IV). intrinsic is reported whenever S
 * is; dADVV = |Δ|·S·size·multiplier, gADVV = |Γ|·S²·size·multiplier, null without Greeks.
 * Aggressor fields are filled only when the contract's as-of quote context is passed.
 */
import { classifyAggressor, type AggressorConfig, type ContractQuote } from '../aggressor';
import { BsmContract, type Greeks } from '../pricing/bsm';
import { expiryInstantNs, timeToExpiry } from '../pricing/expiry';
import { FLAGS } from '../pricing/flags';
import { ImpliedVolSolver } from '../pricing/iv';
import { rateAt, type RateSource } from '../pricing/rates';
import type { EnrichedOptionTrade, OptionTrade } from '../records';

export type UnderlyingSnapshot =
  | { kind: 'quote'; bid: number | null; ask: number | null; timestamp: bigint }
  | { kind: 'trade'; price: number; timestamp: bigint };

export interface GreeksConfig {
  /** Contract multiplier (100 for US equity options). */
  multiplier: number;
  /** Underlying quote/trade older than this is stale (1 s by default in config). */
  stalenessNs: bigint;
  /** Constant rate, tenor curve, or null (→ NO_RATE). Continuously compounded decimals. */
  rate: RateSource;
  /** Continuous dividend yield q by underlying symbol. */
  dividendYields: Readonly<Record<string, number>>;
  /** q for an underlying not in dividendYields (explicit so that a missing entry is a choice). */
  defaultDividendYield: number;
  /** A two-sided underlying quote with ask/bid above this is not trusted (BAD_RATIO). */
  maxAskBidRatio: number;
}

/** The contract's own as-of quote and previous trade, for the aggressor side (DESIGN 5.2). */
export interface ContractContext {
  quote: ContractQuote | null;
  previousTradePrice: number | null;
  config: AggressorConfig;
}

/**
 * The rate source chosen for this trade (e.g. the Treasury curve of its date, see rates/book.ts)
 * with the flags of that choice (RATE_FALLBACK); without it, the config's `rate` is used.
 */
export interface TradeRate {
  source: RateSource;
  flags: number;
}

export type EnrichTrade = (
  trade: OptionTrade,
  underlying: UnderlyingSnapshot | null,
  contract?: ContractContext,
  rate?: TradeRate,
) => EnrichedOptionTrade;

/** Validates the config once and returns the per-trade function (reusing its solver state). */
export function createGreeksEnricher(config: GreeksConfig): EnrichTrade {
  validateConfig(config);
  const bsm = new BsmContract();
  const solver = new ImpliedVolSolver();
  const greeks: Greeks = { price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 };
  return (trade, underlying, contract, rate) => enrich(trade, underlying, contract, rate ?? { source: config.rate, flags: 0 }, config, bsm, solver, greeks);
}

interface Spot {
  price: number | null;
  timestamp: bigint | null;
  flags: number;
}

function enrich(
  trade: OptionTrade,
  underlying: UnderlyingSnapshot | null,
  contract: ContractContext | undefined,
  tradeRate: TradeRate,
  config: GreeksConfig,
  bsm: BsmContract,
  solver: ImpliedVolSolver,
  greeks: Greeks,
): EnrichedOptionTrade {
  const t = trade.sip_timestamp;
  const spot = spotPrice(underlying, t, config);
  const time = timeToExpiry(expiryInstantNs(trade.expiration_date), t);
  const rate = time.tau === null ? { rate: null, flags: 0 } : rateAt(tradeRate.source, time.tau);
  const q = dividendYield(config, trade.underlying);
  const rateFlags = time.tau === null ? 0 : rate.flags | tradeRate.flags;
  let flags = spot.flags | time.flags | rateFlags;
  const s = spot.price;
  let iv: number | null = null;
  if (s !== null && time.tau !== null && rate.rate !== null) {
    iv = solver.solve(bsm.set(trade.right, s, trade.strike, time.tau, rate.rate, q), trade.price);
    flags |= solver.flags;
    if (iv !== null) bsm.greeks(iv, greeks);
  } else {
    flags |= FLAGS.NO_IV;
  }
  const notional = Number(trade.size) * config.multiplier;
  const aggressor = contract === undefined ? null : classifyAggressor(trade.price, t, contract.quote, contract.previousTradePrice, contract.config);
  return {
    ticker: trade.ticker,
    underlying: trade.underlying,
    root: trade.root,
    expiration_date: trade.expiration_date,
    right: trade.right,
    strike: trade.strike,
    sip_timestamp: t,
    participant_timestamp: trade.participant_timestamp,
    sequence_number: trade.sequence_number,
    price: trade.price,
    size: trade.size,
    exchange: trade.exchange,
    conditions: trade.conditions,
    correction: trade.correction,
    source: trade.source,
    origin: trade.origin,
    origin_offset: trade.origin_offset,
    underlying_price: s,
    underlying_timestamp: spot.timestamp,
    tau: time.tau,
    rate: rate.rate,
    dividend_yield: q,
    iv,
    delta: iv === null ? null : greeks.delta,
    gamma: iv === null ? null : greeks.gamma,
    vega: iv === null ? null : greeks.vega,
    theta: iv === null ? null : greeks.theta,
    intrinsic: s === null ? null : trade.right === 'C' ? Math.max(s - trade.strike, 0) : Math.max(trade.strike - s, 0),
    flags,
    dadvv: iv === null || s === null ? null : Math.abs(greeks.delta) * s * notional,
    gadvv: iv === null || s === null ? null : Math.abs(greeks.gamma) * s * s * notional,
    aggressor_side: aggressor === null ? null : aggressor.side,
    aggressor_method: aggressor === null ? null : aggressor.method,
    quote_age_ns: aggressor === null ? null : aggressor.quote_age_ns,
    mid_offset_bps: aggressor === null ? null : aggressor.mid_offset_bps,
  };
}

const NO_SPOT = FLAGS.NO_UNDERLYING;

/** S from the as-of snapshot, or null with the reason flags. */
export function spotPrice(underlying: UnderlyingSnapshot | null, t: bigint, config: GreeksConfig): Spot {
  if (underlying === null) return { price: null, timestamp: null, flags: NO_SPOT };
  if (underlying.timestamp > t) {
    throw new RangeError(`underlying ${underlying.kind} at ${underlying.timestamp} is after the trade at ${t}: not an as-of join`);
  }
  if (t - underlying.timestamp > config.stalenessNs) return rejected(FLAGS.NBBO_STALE);
  const price = underlying.kind === 'trade' ? underlying.price : quoteMid(underlying.bid, underlying.ask, config.maxAskBidRatio);
  if (typeof price !== 'number') return rejected(price.flags);
  if (!(price > 0)) return rejected(FLAGS.MID_NONPOS);
  return { price, timestamp: underlying.timestamp, flags: 0 };
}

/** Mid (or the single present side) of a quote, or the rejection flags. */
function quoteMid(bid: number | null, ask: number | null, maxAskBidRatio: number): number | { flags: number } {
  const hasBid = bid !== null && Number.isFinite(bid);
  const hasAsk = ask !== null && Number.isFinite(ask);
  if (hasBid && hasAsk) {
    if (ask < bid) return { flags: FLAGS.CROSSED };
    if (ask === bid) return { flags: FLAGS.LOCKED };
    const mid = 0.5 * (bid + ask);
    if (!(mid > 0)) return { flags: FLAGS.MID_NONPOS };
    if (!(bid > 0) || ask / bid > maxAskBidRatio) return { flags: FLAGS.BAD_RATIO };
    return mid;
  }
  if (hasBid) return bid;
  if (hasAsk) return ask;
  return { flags: 0 };
}

function rejected(reason: number): Spot {
  return { price: null, timestamp: null, flags: reason | NO_SPOT };
}

function dividendYield(config: GreeksConfig, underlying: string): number {
  return Object.prototype.hasOwnProperty.call(config.dividendYields, underlying)
    ? config.dividendYields[underlying]
    : config.defaultDividendYield;
}

function validateConfig(config: GreeksConfig): void {
  const problems: string[] = [];
  if (!(config.multiplier > 0)) problems.push('multiplier must be > 0');
  if (!(config.stalenessNs >= 0n)) problems.push('stalenessNs must be >= 0');
  if (!(config.maxAskBidRatio > 1)) problems.push('maxAskBidRatio must be > 1');
  if (!Number.isFinite(config.defaultDividendYield)) problems.push('defaultDividendYield must be a finite number');
  for (const [symbol, q] of Object.entries(config.dividendYields)) {
    if (!Number.isFinite(q)) problems.push(`dividend yield of ${symbol} must be a finite number`);
  }
  if (problems.length > 0) throw new RangeError(`invalid greeks config: ${problems.join('; ')}`);
}

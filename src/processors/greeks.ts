import { Config } from '../config';
import { ASOF_LOOKBACK_NS, ContractQuote, AggressorConfig } from '../domain/aggressor';
import { ContractContext, createGreeksEnricher, EnrichTrade, GreeksConfig, TradeRate, UnderlyingSnapshot } from '../domain/greeks/enrich';
import { describeFlags } from '../domain/pricing/flags';
import { rateCurveFromTenors, RateCurve, RateSource } from '../domain/pricing/rates';
import { chooseRate, CurveBook, RatePolicy } from '../domain/rates/book';
import { NewYorkDates } from '../domain/new-york';
import { hasQuotedTenor, treasuryCurve, TreasuryYields, treasuryYieldsFrom } from '../domain/rates/treasury';
import { EnrichedOptionTrade, OptionTrade } from '../domain/records';
import { AsOfIndex } from './asof';
import { allowedLatenessNs, input, InputRecord, output, Processor, ProcessorContext, ProcessorDefinition, Read, table } from './runtime/types';

/**
 * The greeks processor (DESIGN 5.1, 5.2): each option trade joined as-of its sip_timestamp with the
 * underlying's NBBO (or last trade) and the contract's own NBBO, then IV, Greeks and aggressor side.
 *
 * Results do not depend on arrival order: a trade is enriched only once the task watermark has passed
 * its time (so every quote with time ≤ t that is not late has arrived), pending trades are released in
 * (time, ticker, origin) order, and lookups look back a fixed span (ASOF_LOOKBACK_NS) rather than
 * "whatever history is retained". A trade older than the watermark by more than the allowed lateness
 * goes to greeks.late.
 *
 * r comes from the Treasury curve of the trade's New York date, read from the rates.treasury table
 * (see rates/book.ts for the choice and RATE_FALLBACK): the table as the member holds it when the
 * trade is released, i.e. all of it as loaded at start plus the curves that arrived since.
 */

/** Daily Treasury yields by date: a table every greeks member reads whole (read but unused when rate_source = config). */
const RATES_TABLE = table('rates.treasury', 'TreasuryYields', (p: GreeksProcessor, date, yields) => p.onCurve(date, yields));

/** How far back an as-of lookup may reach (domain/aggressor.ts). Older than the staleness bound is flagged stale anyway. */
export { ASOF_LOOKBACK_NS };

/** What the as-of indexes keep of a quote (equity or option), and of an underlying trade: all the inputs read of them. */
const QUOTE_READS = ['ticker', 'bid_price', 'ask_price'] as const;
const TRADE_READS = ['ticker', 'price'] as const;
type QuoteRead = (typeof QUOTE_READS)[number];

const MS = 1_000_000n;
const PRUNE_STEP_NS = 60_000_000_000n;

export function greeksConfigFrom(config: Config): GreeksConfig {
  const g = config.greeks;
  const rate: RateSource =
    g.rate_curve !== undefined ? rateCurveFromTenors(Object.fromEntries(g.rate_curve.map((p) => [p.tenor, p.rate]))) : (g.rate ?? null);
  return {
    multiplier: g.multiplier,
    stalenessNs: BigInt(g.staleness_ms) * MS,
    rate,
    dividendYields: g.dividend_yields,
    defaultDividendYield: g.default_dividend_yield,
    maxAskBidRatio: g.max_ask_bid_ratio,
  };
}

export function ratePolicyFrom(config: Config): RatePolicy {
  return { mode: config.greeks.rate_source, maxAgeDays: config.greeks.rate_max_age_days, fallback: greeksConfigFrom(config).rate };
}

/** The curve of one rates.treasury record, or null when it is deleted or quotes no tenor. */
export function curveOfTableRecord(value: TreasuryYields | null): RateCurve | null {
  if (value === null) return null;
  const yields = treasuryYieldsFrom(value, 'table'); // Avro doubles may be NaN or infinite: a curve needs finite yields
  return hasQuotedTenor(yields) ? treasuryCurve(yields) : null;
}

export function aggressorConfigFrom(config: Config): AggressorConfig {
  return {
    epsilon: config.aggressor.epsilon,
    stalenessNs: BigInt(config.aggressor.staleness_ms) * MS,
    tickRuleFallback: config.aggressor.tick_rule_fallback,
  };
}

function compareTrades(a: OptionTrade, b: OptionTrade): number {
  if (a.sip_timestamp !== b.sip_timestamp) return a.sip_timestamp < b.sip_timestamp ? -1 : 1;
  if (a.ticker !== b.ticker) return a.ticker < b.ticker ? -1 : 1;
  if (a.origin !== b.origin) return a.origin < b.origin ? -1 : 1;
  return a.origin_offset < b.origin_offset ? -1 : a.origin_offset > b.origin_offset ? 1 : 0;
}

export class GreeksProcessor implements Processor {
  private readonly enrich: EnrichTrade;
  private readonly underlyingQuotes = new AsOfIndex((timestamp, bid, ask): UnderlyingSnapshot => ({ kind: 'quote', bid, ask, timestamp }));
  private readonly underlyingTrades = new AsOfIndex((timestamp, price): UnderlyingSnapshot => ({ kind: 'trade', price: price!, timestamp }));
  private readonly contractQuotes = new AsOfIndex((sip_timestamp, bid_price, ask_price): ContractQuote => ({ bid_price, ask_price, sip_timestamp }));
  private readonly contractTrades = new AsOfIndex((_time, price) => price!);
  /**
   * Trades waiting for the watermark, in release order (compareTrades), from `pendingHead` on: the
   * released prefix is dropped in bulk, not shifted out on every watermark step (splice(0, k) moved
   * the whole array each time: 12% of greeks through the broker, where the watermark steps per record).
   */
  private pending: OptionTrade[] = [];
  private pendingHead = 0;
  /** The watermark at which state is next pruned. */
  private pruneAtWatermark = 0n;
  private readonly useTrades: boolean;
  private readonly curves = new CurveBook();
  private readonly dates = new NewYorkDates();
  /** The rate choice of the last trade date, valid while the book keeps the same version. */
  private lastRate: { date: string; version: number; rate: TradeRate } | null = null;

  constructor(
    greeks: GreeksConfig,
    private readonly aggressor: AggressorConfig,
    source: 'quotes' | 'trades',
    private readonly allowedLatenessNs: bigint,
    private readonly ratePolicy: RatePolicy = { mode: 'config', maxAgeDays: 0, fallback: greeks.rate },
  ) {
    this.enrich = createGreeksEnricher(greeks);
    this.useTrades = source === 'trades';
  }

  onCurve(date: string, yields: TreasuryYields | null): void {
    this.curves.set(date, curveOfTableRecord(yields));
  }

  /** The rate source of a trade at t: the curve of its New York date, or the constant (rates/book.ts). */
  private tradeRate(t: bigint): TradeRate {
    const date = this.dates.of(t);
    const last = this.lastRate;
    if (last !== null && last.date === date && last.version === this.curves.version) return last.rate;
    const rate = chooseRate(this.curves, date, this.ratePolicy);
    this.lastRate = { date, version: this.curves.version, rate };
    return rate;
  }

  onUnderlyingQuote({ value: q, eventTime: t }: InputRecord<Read<'EquityQuote', QuoteRead>>): void {
    this.underlyingQuotes.insert(q.ticker, t, q.bid_price, q.ask_price);
  }

  onUnderlyingTrade({ value: tr, eventTime: t }: InputRecord<Read<'EquityTrade', (typeof TRADE_READS)[number]>>): void {
    if (this.useTrades) this.underlyingTrades.insert(tr.ticker, t, tr.price);
  }

  onContractQuote({ value: q, eventTime: t }: InputRecord<Read<'OptionQuote', QuoteRead>>): void {
    this.contractQuotes.insert(q.ticker, t, q.bid_price, q.ask_price);
  }

  onTrade(record: InputRecord<OptionTrade>, ctx: ProcessorContext): void {
    const trade = record.value;
    const t = trade.sip_timestamp;
    if (t + this.allowedLatenessNs < ctx.watermark) {
      ctx.late(record, 'behind_watermark', `trade at ${t} arrived after watermark ${ctx.watermark} passed it by more than the allowed lateness`);
      return;
    }
    if (t <= ctx.watermark) this.release(trade, ctx);
    else this.enqueue(trade);
  }

  /** Inserts in release order; trades arrive nearly in that order, so this is almost always an append. */
  private enqueue(trade: OptionTrade): void {
    const pending = this.pending;
    let i = pending.length;
    while (i > this.pendingHead && compareTrades(pending[i - 1], trade) > 0) i--;
    if (i === pending.length) pending.push(trade);
    else pending.splice(i, 0, trade);
  }

  private release(trade: OptionTrade, ctx: ProcessorContext): void {
    const t = trade.sip_timestamp;
    const since = t - ASOF_LOOKBACK_NS;
    const underlying = (this.useTrades ? this.underlyingTrades : this.underlyingQuotes).asOf(trade.underlying, t, since) ?? null;
    const previous = this.contractTrades.asOf(trade.ticker, t - 1n, since) ?? null;
    const contract: ContractContext = {
      quote: this.contractQuotes.asOf(trade.ticker, t, since) ?? null,
      previousTradePrice: previous,
      config: this.aggressor,
    };
    this.contractTrades.insert(trade.ticker, t, trade.price);
    ctx.emit(ENRICHED, trade.underlying, this.enrich(trade, underlying, contract, this.tradeRate(t)));
  }

  onWatermark(watermark: bigint, ctx: ProcessorContext): void {
    // The ready trades are a prefix of the pending ones (ordered by time first), released in order.
    const pending = this.pending;
    let end = this.pendingHead;
    while (end < pending.length && pending[end].sip_timestamp <= watermark) end++;
    for (let i = this.pendingHead; i < end; i++) this.release(pending[i], ctx);
    this.pendingHead = end;
    if (end === pending.length) {
      pending.length = 0;
      this.pendingHead = 0;
    } else if (end >= 4096 && end * 2 >= pending.length) {
      pending.splice(0, end);
      this.pendingHead = 0;
    }
    // State reaches back as far as a non-late trade can look: restore replays exactly this span.
    // Lookups are bounded by their own look-back, so pruning only once per PRUNE_STEP_NS of event time
    // (not on every watermark step, i.e. nearly every record) changes no result. A prune visits every
    // contract series, and a real day lists thousands of contracts (issue 13): every 10 s it was 3% of
    // greeks through the broker on the real-size day. The step is checked with one comparison (this
    // runs for nearly every record, and bigint arithmetic allocates).
    if (watermark < this.pruneAtWatermark) return;
    const horizon = watermark - this.allowedLatenessNs - ASOF_LOOKBACK_NS;
    this.pruneAtWatermark = watermark + PRUNE_STEP_NS;
    this.underlyingQuotes.prune(horizon);
    this.underlyingTrades.prune(horizon);
    this.contractQuotes.prune(horizon);
    this.contractTrades.prune(horizon);
  }
}

/** Each set flag bit by name, and the aggressor side (UNKNOWN included): what operators watch the share of. */
export function enrichedFlags(trade: EnrichedOptionTrade): string[] {
  return [...describeFlags(trade.flags), `SIDE_${trade.aggressor_side ?? 'NONE'}`];
}

/**
 * Cleanup `delete`, not compaction: a trade has no unique key (two prints of a contract may agree in
 * every field), so compaction could merge distinct trades; its records carry the generation, and the
 * lake keeps only the latest.
 */
const ENRICHED = output('option.trades.enriched', 'EnrichedOptionTrade', {
  flags: enrichedFlags,
  eventTime: (v) => v.sip_timestamp,
  shape: { description: 'trades + S, tau, r, q, IV, Greeks, flags, dADVV, gADVV, aggressor side' },
});

export const greeks: ProcessorDefinition<GreeksProcessor> = {
  name: 'greeks',
  description: 'as-of join with the underlying NBBO; IV and Greeks (DESIGN 5.1); aggressor side (5.2)',
  inputs: [
    input('option.trades', 'OptionTrade', (p, record, ctx) => p.onTrade(record, ctx)),
    input('equity.quotes', 'EquityQuote', (p, record) => p.onUnderlyingQuote(record), QUOTE_READS),
    input('equity.trades', 'EquityTrade', (p, record) => p.onUnderlyingTrade(record), TRADE_READS),
    input('option.quotes', 'OptionQuote', (p, record) => p.onContractQuote(record), QUOTE_READS),
  ],
  outputs: [ENRICHED],
  tables: [RATES_TABLE],
  stateHorizonNs: (config) => allowedLatenessNs(config) + ASOF_LOOKBACK_NS,
  create: (config) =>
    new GreeksProcessor(greeksConfigFrom(config), aggressorConfigFrom(config), config.greeks.underlying_price_source, allowedLatenessNs(config), ratePolicyFrom(config)),
};

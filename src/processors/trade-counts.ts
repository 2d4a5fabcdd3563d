import { Config } from '../config';
import { EquityTrade } from '../domain/records';
import { InputRecord, Processor, ProcessorContext, ProcessorDefinition, sipTimestamp } from './runtime/types';
import { Aggregation, TumblingWindows } from './runtime/windows';

/**
 * Trade counts per underlying and 1-minute window (count, shares, notional) from equity.trades.
 * The smallest complete processor: an Aggregator window with lateness, as a model for new ones.
 */

export interface TradeCounts {
  underlying: string;
  window_start_ns: bigint;
  window_end_ns: bigint;
  trades: bigint;
  shares: number;
  notional: number;
}

/** Sums in exact micro-units so the result does not depend on arrival order (float addition does). */
interface Totals {
  trades: number;
  microShares: bigint;
  microNotional: bigint;
}

const MICRO = 1_000_000;

const MINUTE_NS = 60_000_000_000n;

const totals: Aggregation<EquityTrade, Totals, Totals> = {
  initialize: () => ({ trades: 0, microShares: 0n, microNotional: 0n }),
  agg: (s, t) => {
    const shares = BigInt(Math.round(t.size * MICRO));
    s.trades += 1;
    s.microShares += shares;
    s.microNotional += (BigInt(Math.round(t.price * MICRO)) * shares) / BigInt(MICRO);
    return s;
  },
  result: (s) => s,
};

class TradeCountsProcessor implements Processor {
  private readonly windows: TumblingWindows<EquityTrade, Totals, Totals>;

  constructor(allowedLatenessNs: bigint) {
    this.windows = new TumblingWindows(MINUTE_NS, allowedLatenessNs, totals);
  }

  process(record: InputRecord, ctx: ProcessorContext): void {
    const trade = record.value as EquityTrade;
    if (!this.windows.add(trade.ticker, record.eventTime, trade, ctx.watermark)) {
      ctx.late(record, 'window_closed', `1m window of ${record.eventTime} closed at watermark ${ctx.watermark}`);
    }
  }

  onWatermark(watermark: bigint, ctx: ProcessorContext): void {
    for (const w of this.windows.close(watermark)) {
      const value: TradeCounts = {
        underlying: w.key,
        window_start_ns: w.start,
        window_end_ns: w.end,
        trades: BigInt(w.result.trades),
        shares: Number(w.result.microShares) / MICRO,
        notional: Number(w.result.microNotional) / MICRO,
      };
      ctx.emit('equity.trade_counts.1m', w.key, value);
    }
  }
}

function allowedLatenessNs(config: Config): bigint {
  return BigInt(config.event_time.allowed_lateness_ms) * 1_000_000n;
}

export const tradeCounts: ProcessorDefinition = {
  name: 'trade-counts',
  inputs: [{ topic: 'equity.trades', schema: 'EquityTrade', eventTime: sipTimestamp }],
  outputs: [{ topic: 'equity.trade_counts.1m', schema: 'TradeCounts', eventTime: (v) => (v as TradeCounts).window_start_ns }],
  stateHorizonNs: (config) => MINUTE_NS + allowedLatenessNs(config),
  create: (config) => new TradeCountsProcessor(allowedLatenessNs(config)),
};

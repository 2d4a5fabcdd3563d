import { TradeCounts } from '../domain/records';
import { allowedLatenessNs, input, InputRecord, output, Processor, ProcessorContext, ProcessorDefinition, Read } from './runtime/types';
import { Aggregation, TumblingWindows } from './runtime/tumbling-windows';

/**
 * Trade counts per underlying and 1-minute window (count, shares, notional) from equity.trades.
 * The smallest complete processor: an Aggregator window with lateness, as a model for new ones.
 */

/** Sums in exact micro-units so the result does not depend on arrival order (float addition does). */
interface Totals {
  trades: number;
  microShares: bigint;
  microNotional: bigint;
}

/** All the processor reads of a trade: the runtime decodes only these (and sip_timestamp). */
const READS = ['ticker', 'price', 'size'] as const;
type CountedTrade = Read<'EquityTrade', (typeof READS)[number]>;

const MICRO = 1_000_000;

const MINUTE_NS = 60_000_000_000n;

const totals: Aggregation<CountedTrade, Totals, Totals> = {
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

const TRADE_COUNTS = output('equity.trade_counts.1m', 'TradeCounts', {
  eventTime: (v) => v.window_start_ns,
  shape: { description: 'trades, shares, notional per underlying and minute' },
});

class TradeCountsProcessor implements Processor {
  private readonly windows: TumblingWindows<CountedTrade, Totals, Totals>;

  constructor(allowedLatenessNs: bigint) {
    this.windows = new TumblingWindows(MINUTE_NS, allowedLatenessNs, totals);
  }

  onTrade(record: InputRecord<CountedTrade>, ctx: ProcessorContext): void {
    const trade = record.value;
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
      ctx.emit(TRADE_COUNTS, w.key, value);
    }
  }
}

export const tradeCounts: ProcessorDefinition<TradeCountsProcessor> = {
  name: 'trade-counts',
  description: 'trades per underlying and minute: the reference processor of the runtime',
  inputs: [input('equity.trades', 'EquityTrade', (p, record, ctx) => p.onTrade(record, ctx), READS)],
  outputs: [TRADE_COUNTS],
  stateHorizonNs: (config) => MINUTE_NS + allowedLatenessNs(config),
  create: (config) => new TradeCountsProcessor(allowedLatenessNs(config)),
};

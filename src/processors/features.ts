import { Config } from '../config';
import { compileTradeFilter } from '../domain/features/filters';
import {
  appendOptionTrade, appendUnderlyingTrade, capacityAfter, ClosingWindow, closeWindowOf, createWindowState, FeatureConfig, OPTION_TRADE_READS, stateBuffers,
  UNDERLYING_TRADE_READS, WindowCapacity, WindowOptionTrade, WindowState, WindowUnderlyingTrade,
} from '../domain/features/window-features';
import { parseWindowNs } from '../domain/features/window-time';
import { acceptEquityTrade, acceptOptionTrade, FILTER_READS, TradeFilter } from '../domain/features/filters';
import { allowedLatenessNs, input, InputRecord, output, Processor, ProcessorContext, ProcessorDefinition, Read } from './runtime/types';
import { Aggregation, TumblingWindows } from './runtime/tumbling-windows';
import { offloadable } from './runtime/offload';

/**
 * The features processor (DESIGN 5.3): per underlying and configured window (1m, 5m, 15m, 30m), one
 * record with the 149 named features, emitted once when the watermark passes end + allowed lateness.
 * Window state is a Collector (src/domain/features/window-features.ts keeps the values, computes at close),
 * so exact quantiles and the dip test see every trade. A close, most of the processor's work, is
 * computed off the task's thread (WINDOW_CLOSE), the window's columns moved there. Output key:
 * `underlying|window|window_start_ns` (`windowKey`): it identifies the window, so the compacted topic
 * and any key-value reader keep its latest version (the record's `generation` says which version it is).
 */

type WindowItem = { kind: 'underlying'; trade: WindowUnderlyingTrade } | { kind: 'option'; trade: WindowOptionTrade };

/** What the processor reads of its inputs: the filter's fields, what a window keeps, and the underlying. */
const UNDERLYING_READS = ['ticker', ...FILTER_READS, ...UNDERLYING_TRADE_READS] as const;
const OPTION_READS = ['underlying', ...FILTER_READS, ...OPTION_TRADE_READS] as const;

export function featureConfigFrom(config: Config): FeatureConfig {
  const f = config.features;
  return {
    multiplier: config.greeks.multiplier,
    filter: compileTradeFilter({ session: f.session, excludedEquityConditions: f.exclude_equity_conditions, excludedOptionConditions: f.exclude_option_conditions }),
    dip: f.dip_pvalue === 'bootstrap' ? { method: 'bootstrap', draws: f.bootstrap_draws } : { method: 'table' },
  };
}

/** A window's close: the runtime may run it in a worker (runtime/offload.ts). */
export const WINDOW_CLOSE = offloadable(require.resolve('../domain/features/window-features'), 'closeWindowOf', closeWindowOf, (closing: ClosingWindow) => stateBuffers(closing.state));

function collector(label: string, sizeNs: bigint, config: FeatureConfig): Aggregation<WindowItem, WindowState, ClosingWindow> {
  /** Per underlying, the room its last closed window of this size needed (capacityAfter). */
  const sized = new Map<string, WindowCapacity>();
  // What a close reads of the config, built once: it travels with each closing window to the worker.
  const closeConfig = { multiplier: config.multiplier, dip: config.dip };
  return {
    initialize: (underlying, start) => createWindowState({ underlying, window: label, startNs: start, sizeNs }, sized.get(underlying)),
    agg: (state, item) => {
      // The processor accepted the trade under config.filter before routing it to its windows.
      if (item.kind === 'underlying') appendUnderlyingTrade(state, item.trade);
      else appendOptionTrade(state, item.trade);
      return state;
    },
    result: (state) => {
      sized.set(state.key.underlying, capacityAfter(state));
      return { state, config: closeConfig };
    },
  };
}

/**
 * `features` holds window records that can be upserted: the key names the window (underlying, label,
 * start), partitioned like the inputs (task p writes partition p: partition = the underlying's), and
 * every record carries the generation of the run that wrote it (`optflow reprocess` bumps it).
 * Cleanup `compact,delete`: compaction keeps only the latest version of each window once a reprocess
 * has written it again (consumers reading the whole topic see one record per window, up to the
 * uncompacted head), and delete still drops windows older than 90 days. Window records carry no
 * watermark markers (a null value would be a tombstone).
 */
const FEATURES = output('features', 'Features', {
  eventTime: (v) => v.window_start_ns,
  shape: {
    keyedBy: 'underlying|window|window_start_ns',
    retentionHours: 90 * 24,
    cleanupPolicy: 'compact,delete',
    description: 'one record per (underlying, window, start) and generation; compacted to the latest version of each window',
  },
});

export class FeaturesProcessor implements Processor {
  private readonly windows: { label: string; store: TumblingWindows<WindowItem, WindowState, ClosingWindow> }[];
  private readonly filter: TradeFilter;

  constructor(labels: string[], allowedLatenessNs: bigint, config: FeatureConfig) {
    this.filter = config.filter;
    this.windows = labels.map((label) => ({ label, store: new TumblingWindows(parseWindowNs(label), allowedLatenessNs, collector(label, parseWindowNs(label), config)) }));
  }

  onUnderlyingTrade(record: InputRecord<Read<'EquityTrade', (typeof UNDERLYING_READS)[number]>>, ctx: ProcessorContext): void {
    const trade = record.value;
    if (acceptEquityTrade(trade, this.filter)) this.add(record, trade.ticker, { kind: 'underlying', trade }, ctx);
  }

  onOptionTrade(record: InputRecord<Read<'EnrichedOptionTrade', (typeof OPTION_READS)[number]>>, ctx: ProcessorContext): void {
    const trade = record.value;
    if (acceptOptionTrade(trade, this.filter)) this.add(record, trade.underlying, { kind: 'option', trade }, ctx);
  }

  private add(record: InputRecord<unknown>, underlying: string, item: WindowItem, ctx: ProcessorContext): void {
    let missed: string[] | null = null;
    for (const w of this.windows) if (!w.store.add(underlying, record.eventTime, item, ctx.watermark)) (missed ??= []).push(w.label);
    if (missed !== null) {
      ctx.late(record, 'window_closed', `window(s) ${missed.join(', ')} of ${underlying} at ${record.eventTime} already closed (watermark ${ctx.watermark})`);
    }
  }

  onWatermark(watermark: bigint, ctx: ProcessorContext): void {
    for (const { label, store } of this.windows) {
      for (const closed of store.close(watermark)) ctx.emitComputed(FEATURES, windowKey(closed.key, label, closed.start), WINDOW_CLOSE, closed.result);
    }
  }
}

/** The key of a window record: underlying, window label and start (ns), e.g. `SPY|5m|1741357800000000000`. */
export function windowKey(underlying: string, window: string, startNs: bigint): string {
  return `${underlying}|${window}|${startNs}`;
}

export const features: ProcessorDefinition<FeaturesProcessor> = {
  name: 'features',
  description: 'tumbling windows 1m/5m/15m/30m, the 149 named features at window close (DESIGN 5.3)',
  inputs: [
    input('option.trades.enriched', 'EnrichedOptionTrade', (p, record, ctx) => p.onOptionTrade(record, ctx), OPTION_READS),
    input('equity.trades', 'EquityTrade', (p, record, ctx) => p.onUnderlyingTrade(record, ctx), UNDERLYING_READS),
  ],
  outputs: [FEATURES],
  stateHorizonNs: (config) => {
    const longest = config.features.windows.map(parseWindowNs).reduce((a, b) => (a > b ? a : b));
    return longest + allowedLatenessNs(config);
  },
  create: (config) => new FeaturesProcessor(config.features.windows, allowedLatenessNs(config), featureConfigFrom(config)),
};

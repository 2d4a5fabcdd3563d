/**
 * Per-window feature computation (DESIGN 5.3) for one (underlying, window, start). Collector
 * style: the state keeps the accepted trades' values as plain arrays and everything is computed
 * at close. Every output is a function of the multiset of accepted trades, so arrival order
 * cannot change a bit of it: stats and sums work on sorted values, OHLC picks extremes under a
 * total order.
 *
 * Counts: underlying_trades, calls, puts = accepted trades; *_with_underlying = trades with S
 * (the intrinsic-pct denominator); *_with_greeks = trades with a dadvv (the n of *_dadvv);
 * *_agg_buy / *_agg_sell = trades classified BUY / SELL.
 * Aggression splits are the dadvv of BUY / SELL trades; while no accepted option trade carries
 * an aggressor side (classification absent), all split features are null.
 */
import type { AggressorSide, EnrichedOptionTrade, EquityTrade } from '../records';
import { DipPValueMethod, StatsRecord, STAT_NAMES, computeStatsInPlace, neumaierSum } from '../stats/family';
import { sortFloat64 } from '../stats/sort';
import { FilterableTrade, TradeFilter, acceptEquityTrade, acceptOptionTrade } from './filters';
import { COUNT_NAMES, CountName, FeatureField, GROUP_NAMES, GroupName, SPLIT_GROUPS } from './names';

/** The fields of an underlying trade, and of an enriched option trade, that a window keeps. */
export const UNDERLYING_TRADE_READS = ['sip_timestamp', 'price', 'size', 'sequence_number'] as const;
export const OPTION_TRADE_READS = ['sip_timestamp', 'right', 'price', 'size', 'underlying_price', 'strike', 'dadvv', 'gadvv', 'aggressor_side'] as const;
export type WindowUnderlyingTrade = Pick<EquityTrade, (typeof UNDERLYING_TRADE_READS)[number]>;
export type WindowOptionTrade = Pick<EnrichedOptionTrade, (typeof OPTION_TRADE_READS)[number]>;

export type DipConfig = { method: 'table' } | { method: 'bootstrap'; draws: number };

export interface FeatureConfig {
  /** Contract multiplier for dollar values (DESIGN 5.1: 100). */
  multiplier: number;
  filter: TradeFilter;
  dip: DipConfig;
}

export interface WindowKey {
  underlying: string;
  /** Window label as configured, e.g. '5m'. */
  window: string;
  startNs: bigint;
  sizeNs: bigint;
}

export type FeatureRecord = {
  underlying: string;
  window: string;
  window_start_ns: bigint;
  window_end_ns: bigint;
  /** Reprocess generation, stamped by the runtime on output (absent = 0); see OutputVersion. */
  generation?: number;
} & Record<CountName, bigint> &
  Record<FeatureField, number | null>;

interface OptionColumns {
  price: number[];
  size: number[];
  /** S, NaN when absent. */
  spot: number[];
  strike: number[];
  dadvv: number[];
  gadvv: number[];
  side: (AggressorSide | null)[];
}

export interface WindowState {
  key: WindowKey;
  endNs: bigint;
  underlying: { price: number[]; size: number[]; ts: bigint[]; seq: (bigint | null)[] };
  calls: OptionColumns;
  puts: OptionColumns;
  /** Accepted option trades that carry an aggressor side. */
  classified: number;
}

function emptyOptionColumns(): OptionColumns {
  return { price: [], size: [], spot: [], strike: [], dadvv: [], gadvv: [], side: [] };
}

export function createWindowState(key: WindowKey): WindowState {
  return { key, endNs: key.startNs + key.sizeNs, underlying: { price: [], size: [], ts: [], seq: [] }, calls: emptyOptionColumns(), puts: emptyOptionColumns(), classified: 0 };
}

function checkInWindow(state: WindowState, tNs: bigint): void {
  if (tNs < state.key.startNs || tNs >= state.endNs) throw new RangeError(`trade at ${tNs} is outside window ${state.key.startNs}+${state.key.sizeNs}`);
}

/** Adds an underlying trade; false when filtered out. Throws if it belongs to another window. */
export function addUnderlyingTrade(state: WindowState, trade: WindowUnderlyingTrade & FilterableTrade, filter: TradeFilter): boolean {
  if (!acceptEquityTrade(trade, filter)) {
    checkInWindow(state, trade.sip_timestamp);
    return false;
  }
  appendUnderlyingTrade(state, trade);
  return true;
}

/** Adds an enriched option trade; false when filtered out. Throws if it belongs to another window. */
export function addOptionTrade(state: WindowState, trade: WindowOptionTrade & FilterableTrade, filter: TradeFilter): boolean {
  if (!acceptOptionTrade(trade, filter)) {
    checkInWindow(state, trade.sip_timestamp);
    return false;
  }
  appendOptionTrade(state, trade);
  return true;
}

/**
 * Adds an underlying trade the caller has already accepted under the filter (a processor filters
 * once per trade, not once per window size). Throws if it belongs to another window.
 */
export function appendUnderlyingTrade(state: WindowState, trade: WindowUnderlyingTrade): void {
  checkInWindow(state, trade.sip_timestamp);
  const u = state.underlying;
  u.price.push(trade.price);
  u.size.push(trade.size);
  u.ts.push(trade.sip_timestamp);
  u.seq.push(trade.sequence_number);
}

/** Adds an enriched option trade the caller has already accepted under the filter. Throws if it belongs to another window. */
export function appendOptionTrade(state: WindowState, trade: WindowOptionTrade): void {
  checkInWindow(state, trade.sip_timestamp);
  const cols = trade.right === 'C' ? state.calls : state.puts;
  cols.price.push(trade.price);
  cols.size.push(Number(trade.size));
  cols.spot.push(trade.underlying_price ?? NaN);
  cols.strike.push(trade.strike);
  cols.dadvv.push(trade.dadvv ?? NaN);
  cols.gadvv.push(trade.gadvv ?? NaN);
  cols.side.push(trade.aggressor_side);
  if (trade.aggressor_side !== null) state.classified++;
}

/** `${group}_${stat}` for every group and stat, built once (closeWindow runs for every window). */
const GROUP_STAT_FIELDS: readonly (readonly string[])[] = GROUP_NAMES.map((group) => STAT_NAMES.map((stat) => `${group}_${stat}`));

/**
 * A window at close, split where the work is: `closingWindow` reads the state (counts, OHLC, the
 * option sides' sums) and builds each group's values; `windowRecord` computes the groups' stats, the
 * bulk of the work, from this alone. The runtime may run the second off the task's thread: every
 * field is structured-cloneable and the groups' buffers move instead of being copied.
 */
export interface ClosingWindow {
  key: WindowKey;
  counts: Record<string, bigint>;
  fields: Record<string, number | null>;
  /** Values of each group in GROUP_NAMES order, built for this close only (the stats sort them in place); null: every stat null. */
  groups: (Float64Array | null)[];
  dip: DipConfig;
}

/** The feature record of the window. Does not modify the state. */
export function closeWindow(state: WindowState, config: FeatureConfig): FeatureRecord {
  return windowRecord(closingWindow(state, config));
}

/** The first half of closeWindow (ClosingWindow). Does not modify the state. */
export function closingWindow(state: WindowState, config: FeatureConfig): ClosingWindow {
  const fields: Record<string, number | null> = {};
  const counts: Record<string, bigint> = Object.fromEntries(COUNT_NAMES.map((c) => [c, 0n]));
  Object.assign(fields, ohlc(state.underlying));

  const u = state.underlying;
  counts.underlying_trades = BigInt(u.price.length);
  const groups = new Map<GroupName, Float64Array>();
  const dollarValues = new Float64Array(u.price.length);
  for (let i = 0; i < dollarValues.length; i++) dollarValues[i] = u.price[i] * u.size[i];
  groups.set('underlying_dollar_value', dollarValues);

  for (const [right, cols] of [['calls', state.calls] as const, ['puts', state.puts] as const]) {
    const side = optionSide(cols, right === 'calls', config.multiplier);
    counts[right] = BigInt(cols.price.length);
    counts[`${right}_with_underlying`] = BigInt(side.withSpot);
    counts[`${right}_with_greeks`] = BigInt(side.dadvv.length);
    counts[`${right}_agg_buy`] = BigInt(side.buyCount);
    counts[`${right}_agg_sell`] = BigInt(side.sellCount);
    fields[`${right}_dollar_value`] = side.dollarValue;
    fields[`${right}_below_intrinsic_pct`] = side.withSpot === 0 ? null : side.below / side.withSpot;
    fields[`${right}_above_intrinsic_pct`] = side.withSpot === 0 ? null : side.above / side.withSpot;
    groups.set(`${right}_dadvv`, side.dadvv);
    groups.set(`${right}_gadvv`, side.gadvv);
    groups.set(`${right}_dadvv_agg_buy`, side.buyDadvv);
    groups.set(`${right}_dadvv_agg_sell`, side.sellDadvv);
  }
  const absent = (group: GroupName): boolean => state.classified === 0 && SPLIT_GROUPS.includes(group);
  return { key: state.key, counts, fields, groups: GROUP_NAMES.map((group) => (absent(group) ? null : (groups.get(group) as Float64Array))), dip: config.dip };
}

/** The second half of closeWindow: the groups' stats, and the record. Sorts the groups' values in place. */
export function windowRecord(closing: ClosingWindow): FeatureRecord {
  const { key, counts, groups } = closing;
  const fields = { ...closing.fields };
  for (const [g, group] of GROUP_NAMES.entries()) {
    const values = groups[g];
    const stats = values === null ? null : computeStatsInPlace(values, { dip: dipMethod(closing.dip, key, group) });
    const names = GROUP_STAT_FIELDS[g];
    for (let s = 0; s < STAT_NAMES.length; s++) fields[names[s]] = stats === null ? null : (stats as StatsRecord)[STAT_NAMES[s]];
  }
  return {
    underlying: key.underlying,
    window: key.window,
    window_start_ns: key.startNs,
    window_end_ns: key.startNs + key.sizeNs,
    ...counts,
    ...fields,
  } as FeatureRecord;
}

/** The buffers of a closing window's groups: they move to a worker rather than being copied. */
export function closingBuffers(closing: ClosingWindow): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const values of closing.groups) if (values !== null) buffers.add(values.buffer as ArrayBuffer);
  return [...buffers];
}

function dipMethod(dip: DipConfig, key: WindowKey, group: GroupName): DipPValueMethod {
  if (dip.method === 'table') return { kind: 'table' };
  return { kind: 'bootstrap', draws: dip.draws, seedParts: [key.underlying, key.window, key.startNs.toString(), group] };
}

interface SideSummary {
  withSpot: number;
  below: number;
  above: number;
  dollarValue: number;
  dadvv: Float64Array;
  gadvv: Float64Array;
  buyDadvv: Float64Array;
  sellDadvv: Float64Array;
  buyCount: number;
  sellCount: number;
}

function optionSide(cols: OptionColumns, isCall: boolean, multiplier: number): SideSummary {
  const n = cols.price.length;
  let withSpot = 0;
  let below = 0;
  let above = 0;
  let buyCount = 0;
  let sellCount = 0;
  const dollars = new Float64Array(n);
  const dadvv = new Values(n);
  const gadvv = new Values(n);
  const buyDadvv = new Values(n);
  const sellDadvv = new Values(n);
  for (let i = 0; i < n; i++) {
    const price = cols.price[i];
    dollars[i] = price * cols.size[i] * multiplier;
    const spot = cols.spot[i];
    if (!Number.isNaN(spot)) {
      const intrinsic = Math.max(isCall ? spot - cols.strike[i] : cols.strike[i] - spot, 0);
      withSpot++;
      if (price < intrinsic) below++;
      else if (price > intrinsic) above++;
    }
    const d = cols.dadvv[i];
    const side = cols.side[i];
    if (side === 'BUY') buyCount++;
    if (side === 'SELL') sellCount++;
    if (!Number.isNaN(cols.gadvv[i])) gadvv.push(cols.gadvv[i]);
    if (Number.isNaN(d)) continue;
    dadvv.push(d);
    if (side === 'BUY') buyDadvv.push(d);
    if (side === 'SELL') sellDadvv.push(d);
  }
  return {
    withSpot, below, above, buyCount, sellCount,
    dollarValue: neumaierSum(sortFloat64(dollars)),
    dadvv: dadvv.values(), gadvv: gadvv.values(), buyDadvv: buyDadvv.values(), sellDadvv: sellDadvv.values(),
  };
}

/** Up to `capacity` numbers appended into one typed array. */
class Values {
  private readonly buffer: Float64Array;
  private length = 0;

  constructor(capacity: number) {
    this.buffer = new Float64Array(capacity);
  }

  push(v: number): void {
    this.buffer[this.length++] = v;
  }

  values(): Float64Array {
    return this.buffer.subarray(0, this.length);
  }
}

/**
 * OHLC ordered by (sip_timestamp, sequence_number), a missing sequence first, and price as the
 * last tie-break so that equal keys still give one answer. Null when there are no trades.
 */
function ohlc(u: WindowState['underlying']): Record<string, number | null> {
  const n = u.price.length;
  if (n === 0) return { underlying_price_open: null, underlying_price_high: null, underlying_price_low: null, underlying_price_close: null };
  let first = 0;
  let last = 0;
  let high = u.price[0];
  let low = u.price[0];
  for (let i = 1; i < n; i++) {
    if (compareTrades(u, i, first) < 0) first = i;
    if (compareTrades(u, i, last) > 0) last = i;
    if (u.price[i] > high) high = u.price[i];
    if (u.price[i] < low) low = u.price[i];
  }
  return { underlying_price_open: u.price[first], underlying_price_high: high, underlying_price_low: low, underlying_price_close: u.price[last] };
}

function compareTrades(u: WindowState['underlying'], a: number, b: number): number {
  if (u.ts[a] !== u.ts[b]) return u.ts[a] < u.ts[b] ? -1 : 1;
  const sa = u.seq[a];
  const sb = u.seq[b];
  if (sa !== sb) {
    if (sa === null) return -1;
    if (sb === null) return 1;
    return sa < sb ? -1 : 1;
  }
  return u.price[a] - u.price[b];
}

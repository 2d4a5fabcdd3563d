/**
 * Per-window feature computation (DESIGN 5.3) for one (underlying, window, start). Collector
 * style: the state keeps the accepted trades' values in typed columns and everything is computed
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

/** Aggressor sides as a window stores them: 0 = none. */
const SIDE_CODES: Readonly<Record<AggressorSide, number>> = { BUY: 1, SELL: 2, INSIDE: 3, UNKNOWN: 4 };
const BUY = SIDE_CODES.BUY;
const SELL = SIDE_CODES.SELL;
/** Trades a window's columns have room for before they double. */
export interface WindowCapacity {
  underlying: number;
  calls: number;
  puts: number;
}

const MIN_CAPACITY = 256;
const INITIAL_CAPACITY: WindowCapacity = { underlying: MIN_CAPACITY, calls: MIN_CAPACITY, puts: MIN_CAPACITY };

/**
 * A window's columns are typed arrays that double when full: the values live outside the JS heap, so
 * the GC neither scans nor copies them, and a closing window moves to a worker whole (stateBuffers).
 */
interface UnderlyingColumns {
  length: number;
  price: Float64Array;
  size: Float64Array;
  ts: BigInt64Array;
  seq: BigInt64Array;
  /** 1 where the trade has no sequence number. */
  seqAbsent: Uint8Array;
}

interface OptionColumns {
  length: number;
  price: Float64Array;
  size: Float64Array;
  /** S, NaN when absent. */
  spot: Float64Array;
  strike: Float64Array;
  /** NaN when absent. */
  dadvv: Float64Array;
  gadvv: Float64Array;
  /** SIDE_CODES. */
  side: Uint8Array;
}

export interface WindowState {
  key: WindowKey;
  endNs: bigint;
  underlying: UnderlyingColumns;
  calls: OptionColumns;
  puts: OptionColumns;
  /** Accepted option trades that carry an aggressor side. */
  classified: number;
}

function underlyingColumns(capacity: number): UnderlyingColumns {
  return { length: 0, price: new Float64Array(capacity), size: new Float64Array(capacity), ts: new BigInt64Array(capacity), seq: new BigInt64Array(capacity), seqAbsent: new Uint8Array(capacity) };
}

function optionColumns(capacity: number): OptionColumns {
  const f = (): Float64Array => new Float64Array(capacity);
  return { length: 0, price: f(), size: f(), spot: f(), strike: f(), dadvv: f(), gadvv: f(), side: new Uint8Array(capacity) };
}

type Column = Float64Array | BigInt64Array | Uint8Array;

/** The columns with twice the capacity, values kept. */
function doubled<C extends { length: number }>(columns: C): C {
  const out = { ...columns };
  for (const [name, column] of Object.entries(columns) as [keyof C & string, unknown][]) {
    if (!ArrayBuffer.isView(column)) continue;
    const old = column as Column;
    const grown = new (old.constructor as new (length: number) => Column)(2 * old.length);
    (grown as { set(values: Column): void }).set(old);
    out[name] = grown as C[keyof C & string];
  }
  return out;
}

export function createWindowState(key: WindowKey, capacity: WindowCapacity = INITIAL_CAPACITY): WindowState {
  return {
    key, endNs: key.startNs + key.sizeNs, classified: 0,
    underlying: underlyingColumns(capacity.underlying), calls: optionColumns(capacity.calls), puts: optionColumns(capacity.puts),
  };
}

/**
 * Room for a quarter more trades than the window holds: the capacity to give the next window of the
 * same underlying and size. Each doubling allocates the columns again (outside the JS heap, which V8
 * answers with full collections), so a window sized like its predecessor seldom grows.
 */
export function capacityAfter(state: WindowState): WindowCapacity {
  const room = (n: number): number => Math.max(MIN_CAPACITY, Math.ceil(1.25 * n));
  return { underlying: room(state.underlying.length), calls: room(state.calls.length), puts: room(state.puts.length) };
}

/** The buffers of a window's columns: what moves to a worker instead of being copied. */
export function stateBuffers(state: WindowState): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const columns of [state.underlying, state.calls, state.puts]) {
    for (const column of Object.values(columns)) if (ArrayBuffer.isView(column)) buffers.push(column.buffer as ArrayBuffer);
  }
  return buffers;
}

function checkInWindow(state: WindowState, tNs: bigint): void {
  if (tNs < state.key.startNs || tNs >= state.endNs) throw new RangeError(`trade at ${tNs} is outside window ${state.key.startNs}+${state.key.sizeNs}`);
}

/** Adds an underlying trade; false when filtered out. Throws if it belongs to another window. */
export function addUnderlyingTrade(state: WindowState, trade: WindowUnderlyingTrade & FilterableTrade, filter: TradeFilter): boolean {
  checkInWindow(state, trade.sip_timestamp);
  if (!acceptEquityTrade(trade, filter)) return false;
  appendUnderlyingTrade(state, trade);
  return true;
}

/** Adds an enriched option trade; false when filtered out. Throws if it belongs to another window. */
export function addOptionTrade(state: WindowState, trade: WindowOptionTrade & FilterableTrade, filter: TradeFilter): boolean {
  checkInWindow(state, trade.sip_timestamp);
  if (!acceptOptionTrade(trade, filter)) return false;
  appendOptionTrade(state, trade);
  return true;
}

/**
 * Adds an underlying trade the caller has already accepted under the filter and placed in this window
 * (a processor filters once per trade, not once per window size, and its windows place trades by time).
 */
export function appendUnderlyingTrade(state: WindowState, trade: WindowUnderlyingTrade): void {
  let u = state.underlying;
  if (u.length === u.price.length) u = state.underlying = doubled(u);
  const i = u.length++;
  u.price[i] = trade.price;
  u.size[i] = trade.size;
  u.ts[i] = trade.sip_timestamp;
  u.seq[i] = trade.sequence_number ?? 0n;
  u.seqAbsent[i] = trade.sequence_number === null ? 1 : 0;
}

/** Adds an enriched option trade the caller has already accepted under the filter and placed in this window. */
export function appendOptionTrade(state: WindowState, trade: WindowOptionTrade): void {
  const isCall = trade.right === 'C';
  let cols = isCall ? state.calls : state.puts;
  if (cols.length === cols.price.length) {
    cols = doubled(cols);
    if (isCall) state.calls = cols;
    else state.puts = cols;
  }
  const i = cols.length++;
  cols.price[i] = trade.price;
  cols.size[i] = Number(trade.size);
  cols.spot[i] = trade.underlying_price ?? NaN;
  cols.strike[i] = trade.strike;
  cols.dadvv[i] = trade.dadvv ?? NaN;
  cols.gadvv[i] = trade.gadvv ?? NaN;
  cols.side[i] = trade.aggressor_side === null ? 0 : SIDE_CODES[trade.aggressor_side];
  if (trade.aggressor_side !== null) state.classified++;
}

/** `${group}_${stat}` for every group and stat, built once (closeWindow runs for every window). */
const GROUP_STAT_FIELDS: readonly (readonly string[])[] = GROUP_NAMES.map((group) => STAT_NAMES.map((stat) => `${group}_${stat}`));

/** What a close reads of the processor's config. */
export type CloseConfig = Pick<FeatureConfig, 'multiplier' | 'dip'>;

/** The feature record of the window. Does not modify the state. */
export function closeWindow(state: WindowState, config: CloseConfig): FeatureRecord {
  const { key } = state;
  const fields: Record<string, number | null> = {};
  const counts: Record<string, bigint> = Object.fromEntries(COUNT_NAMES.map((c) => [c, 0n]));
  Object.assign(fields, ohlc(state.underlying));

  const u = state.underlying;
  counts.underlying_trades = BigInt(u.length);
  const groups = new Map<GroupName, Float64Array>();
  const dollarValues = new Float64Array(u.length);
  for (let i = 0; i < dollarValues.length; i++) dollarValues[i] = u.price[i] * u.size[i];
  groups.set('underlying_dollar_value', dollarValues);

  for (const [right, cols] of [['calls', state.calls] as const, ['puts', state.puts] as const]) {
    const side = optionSide(cols, right === 'calls', config.multiplier);
    counts[right] = BigInt(cols.length);
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

  for (const [g, group] of GROUP_NAMES.entries()) {
    const absent = state.classified === 0 && SPLIT_GROUPS.includes(group);
    // Each group's array is built for this close only, so the stats may sort it in place.
    const stats = absent ? null : computeStatsInPlace(groups.get(group) as Float64Array, { dip: dipMethod(config.dip, key, group) });
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

/** A window to close with the config it closes under: what a worker receives (the state's buffers move, see stateBuffers). */
export interface ClosingWindow {
  state: WindowState;
  config: CloseConfig;
}

/** closeWindow of a ClosingWindow (the form a worker runs it in). */
export function closeWindowOf({ state, config }: ClosingWindow): FeatureRecord {
  return closeWindow(state, config);
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
  const n = cols.length;
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
    if (side === BUY) buyCount++;
    if (side === SELL) sellCount++;
    if (!Number.isNaN(cols.gadvv[i])) gadvv.push(cols.gadvv[i]);
    if (Number.isNaN(d)) continue;
    dadvv.push(d);
    if (side === BUY) buyDadvv.push(d);
    if (side === SELL) sellDadvv.push(d);
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
function ohlc(u: UnderlyingColumns): Record<string, number | null> {
  const n = u.length;
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

function compareTrades(u: UnderlyingColumns, a: number, b: number): number {
  if (u.ts[a] !== u.ts[b]) return u.ts[a] < u.ts[b] ? -1 : 1;
  if (u.seqAbsent[a] !== u.seqAbsent[b]) return u.seqAbsent[a] === 1 ? -1 : 1;
  if (u.seqAbsent[a] === 0 && u.seq[a] !== u.seq[b]) return u.seq[a] < u.seq[b] ? -1 : 1;
  return u.price[a] - u.price[b];
}

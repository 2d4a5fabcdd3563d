/**
 * Massive WebSocket frames (DESIGN 2) → normalised records, status events or rejections. Pure: the
 * caller supplies the connection id and the per-connection event counter.
 *
 * A frame is a JSON array of events. Field semantics mirror the flat-file normaliser
 * (src/producers/flatfile/parse/normalise.ts): timestamps are exact bigint ns, a quote side whose price
 * is 0 is absent (price, size, exchange → null), prices and trade sizes must be positive. The trade
 * size is `s`; `q` is the sequence number and never a size.
 */
import { tryParseOpra, type RootMap } from '../../domain/opra';
import type { EquityQuote, EquityTrade, OptionQuote, OptionTrade } from '../../domain/records';
import { MAX_TIMESTAMP_NS, MIN_TIMESTAMP_NS } from '../flatfile/parse/fields';
import { parseJsonExact } from './json';

export type Feed = 'stocks' | 'options';
export type MarketTopic = 'equity.trades' | 'equity.quotes' | 'option.trades' | 'option.quotes';
export type WsRecord = EquityTrade | EquityQuote | OptionTrade | OptionQuote;

/** Where a frame whose topic cannot be told (invalid JSON, unknown event) is dead-lettered. */
export const FALLBACK_DLQ_TOPIC: MarketTopic = 'equity.trades';

export const FEED_TOPICS: Record<Feed, readonly MarketTopic[]> = {
  stocks: ['equity.trades', 'equity.quotes'],
  options: ['option.trades', 'option.quotes'],
};

export interface StatusEvent {
  kind: 'status';
  status: string;
  message: string;
}

export interface RecordEvent {
  kind: 'record';
  topic: MarketTopic;
  /** Kafka key: the underlying symbol. */
  key: string;
  record: WsRecord;
  /** `T` or `Q` + symbol: the stream whose sequence numbers `q` are checked for gaps. */
  stream: string;
}

export interface Rejection {
  kind: 'reject';
  /** The market topic whose `.dlq` receives it. */
  topic: MarketTopic;
  reason: string;
  detail: string;
  /** The frame (invalid JSON) or the one event, as text. */
  raw: string;
  /** Connection event counter of the event (0 for a whole frame). */
  position: bigint;
  /** Connection id the event arrived on. */
  origin: string;
  /** The event's underlying (or symbol) when readable, for the DLQ key. */
  key: string | null;
}

export interface IgnoredEvent {
  kind: 'ignored';
  ev: string;
}

export type FrameItem = StatusEvent | RecordEvent | Rejection | IgnoredEvent;

export interface FrameContext {
  feed: Feed;
  origin: string;
  rootMap: RootMap;
  /** Next event sequence on this connection (1-based, incremented per event). */
  nextOffset: () => bigint;
}

class EventRejection extends Error {
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

const NS_PER_MS = 1_000_000n;
const NS_PER_US = 1_000n;
/** Below this a Unix timestamp is ms (ms now ≈ 1.7e12; µs ≈ 1.7e15; ns ≈ 1.7e18). */
const MS_LIMIT = 100_000_000_000_000n; // 1e14
const US_LIMIT = 100_000_000_000_000_000n; // 1e17
const STOCK_SYMBOL = /^[A-Za-z][A-Za-z0-9.\-/]{0,15}$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Integer-valued field (number or decimal string from parseJsonExact) → bigint; null when absent. */
export function integerField(value: unknown, name: string): bigint | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new EventRejection('bad_field', `${name}=${value} is not an exact integer`);
    return BigInt(value);
  }
  if (typeof value === 'string' && /^-?\d+$/.test(value)) {
    const n = value.length > 20 ? INT64_MAX + 1n : BigInt(value);
    // Records carry these as Avro long: a larger one would fail encoding in the drain loop.
    if (n > INT64_MAX || n < INT64_MIN) throw new EventRejection('bad_field', `${name}=${value.slice(0, 40)} exceeds int64`);
    return n;
  }
  throw new EventRejection('bad_field', `${name}=${JSON.stringify(value).slice(0, 60)} is not an integer`);
}

/** A Unix timestamp in ms, µs or ns (told apart by magnitude) → exact ns. */
export function timestampNs(value: bigint): bigint {
  if (value < MS_LIMIT) return value * NS_PER_MS;
  if (value < US_LIMIT) return value * NS_PER_US;
  return value;
}

function requiredTimestamp(event: Record<string, unknown>): bigint {
  const t = integerField(event.t, 't');
  if (t === null) throw new EventRejection('missing_field', 't is missing');
  if (t <= 0n) throw new EventRejection('bad_timestamp', `t=${t}`);
  const ns = timestampNs(t);
  // The flat files' accepted range: a stray year-1970 or year-2500 stamp would drag or push watermarks.
  if (ns < MIN_TIMESTAMP_NS || ns >= MAX_TIMESTAMP_NS) throw new EventRejection('bad_timestamp', `t=${t} is outside [2000-01-01, 2100-01-01)`);
  return ns;
}

function numberField(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new EventRejection('bad_field', `${name}=${JSON.stringify(value)} is not a number`);
  return n;
}

function smallInt(value: unknown, name: string): number | null {
  const n = numberField(value, name);
  if (n === null) return null;
  if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) throw new EventRejection('bad_field', `${name}=${n} is not an int`);
  return n;
}

function positivePrice(value: unknown, name: string): number {
  const p = numberField(value, name);
  if (p === null) throw new EventRejection('missing_field', `${name} is missing`);
  if (!(p > 0)) throw new EventRejection('non_positive_price', `${name}=${p}`);
  return p;
}

function positiveSize(value: unknown, name: string): number {
  const s = numberField(value, name);
  if (s === null) throw new EventRejection('missing_field', `${name} is missing`);
  if (!(s > 0)) throw new EventRejection('non_positive_size', `${name}=${s}`);
  return s;
}

function positiveIntegerSize(value: unknown, name: string): bigint {
  if (value === undefined || value === null) throw new EventRejection('missing_field', `${name} is missing`);
  const s = integerField(value, name)!;
  if (s <= 0n) throw new EventRejection('non_positive_size', `${name}=${s}`);
  return s;
}

function codeList(value: unknown, name: string): number[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.map((v, i) => smallInt(v, `${name}[${i}]`)!);
}

function symbolOf(event: Record<string, unknown>): string {
  const sym = event.sym;
  if (sym === undefined || sym === null || sym === '') throw new EventRejection('missing_field', 'sym is missing');
  if (typeof sym !== 'string') throw new EventRejection('bad_symbol', `sym=${JSON.stringify(sym)}`);
  return sym;
}

function stockSymbol(event: Record<string, unknown>): string {
  const sym = symbolOf(event);
  if (!STOCK_SYMBOL.test(sym)) throw new EventRejection('bad_symbol', `sym="${sym}"`);
  return sym;
}

function optionSymbol(event: Record<string, unknown>, rootMap: RootMap): { ticker: string } & NonNullable<ReturnType<typeof tryParseOpra>> {
  const sym = symbolOf(event);
  const parsed = tryParseOpra(sym, rootMap);
  if (parsed === null) throw new EventRejection('bad_symbol', `sym="${sym}" is not an OPRA symbol`);
  return { ticker: sym, ...parsed };
}

interface Side {
  price: number | null;
  size: bigint | null;
  exchange: number | null;
}

/** Massive publishes an absent side as price 0: the whole side → null. */
function quoteSide(event: Record<string, unknown>, p: string, s: string, x: string): Side {
  const price = numberField(event[p], p);
  if (price === null) throw new EventRejection('missing_field', `${p} is missing`);
  if (price === 0) return { price: null, size: null, exchange: null };
  if (price < 0) throw new EventRejection('non_positive_price', `${p}=${price}`);
  return { price, size: positiveIntegerSize(event[s], s), exchange: smallInt(event[x], x) };
}

function optionalString(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  return typeof value === 'string' ? value : String(value);
}

function provenance(origin: string, offset: bigint): { source: 'ws'; origin: string; origin_offset: bigint } {
  return { source: 'ws', origin, origin_offset: offset };
}

function stockTrade(e: Record<string, unknown>, origin: string, offset: bigint): EquityTrade {
  const ticker = stockSymbol(e);
  const sip = requiredTimestamp(e);
  const price = positivePrice(e.p, 'p');
  const size = positiveSize(e.s, 's');
  return {
    ticker, sip_timestamp: sip, participant_timestamp: null, trf_timestamp: null,
    sequence_number: integerField(e.q, 'q'), id: optionalString(e.i), exchange: smallInt(e.x, 'x'),
    tape: smallInt(e.z, 'z'), trf_id: null, price, size, conditions: codeList(e.c, 'c'), correction: null,
    ...provenance(origin, offset),
  };
}

function stockQuote(e: Record<string, unknown>, origin: string, offset: bigint): EquityQuote {
  const ticker = stockSymbol(e);
  const sip = requiredTimestamp(e);
  const bid = quoteSide(e, 'bp', 'bs', 'bx');
  const ask = quoteSide(e, 'ap', 'as', 'ax');
  return {
    ticker, sip_timestamp: sip, participant_timestamp: null, trf_timestamp: null,
    sequence_number: integerField(e.q, 'q'),
    bid_price: bid.price, bid_size: bid.size, bid_exchange: bid.exchange,
    ask_price: ask.price, ask_size: ask.size, ask_exchange: ask.exchange,
    conditions: codeList(e.c, 'c'), indicators: codeList(e.i, 'i'), tape: smallInt(e.z, 'z'),
    ...provenance(origin, offset),
  };
}

function optionTrade(e: Record<string, unknown>, rootMap: RootMap, origin: string, offset: bigint): OptionTrade {
  const c = optionSymbol(e, rootMap);
  const sip = requiredTimestamp(e);
  const price = positivePrice(e.p, 'p');
  const size = positiveIntegerSize(e.s, 's');
  return {
    ticker: c.ticker, underlying: c.underlying, root: c.root, expiration_date: c.expiration_date, right: c.right, strike: c.strike,
    sip_timestamp: sip, participant_timestamp: null, sequence_number: integerField(e.q, 'q'),
    price, size, exchange: smallInt(e.x, 'x'), conditions: codeList(e.c, 'c'), correction: null,
    ...provenance(origin, offset),
  };
}

function optionQuote(e: Record<string, unknown>, rootMap: RootMap, origin: string, offset: bigint): OptionQuote {
  const c = optionSymbol(e, rootMap);
  const sip = requiredTimestamp(e);
  const bid = quoteSide(e, 'bp', 'bs', 'bx');
  const ask = quoteSide(e, 'ap', 'as', 'ax');
  return {
    ticker: c.ticker, underlying: c.underlying, root: c.root, expiration_date: c.expiration_date, right: c.right, strike: c.strike,
    sip_timestamp: sip, sequence_number: integerField(e.q, 'q'),
    bid_price: bid.price, bid_size: bid.size, bid_exchange: bid.exchange,
    ask_price: ask.price, ask_size: ask.size, ask_exchange: ask.exchange,
    ...provenance(origin, offset),
  };
}

function topicOf(feed: Feed, ev: 'T' | 'Q'): MarketTopic {
  if (feed === 'stocks') return ev === 'T' ? 'equity.trades' : 'equity.quotes';
  return ev === 'T' ? 'option.trades' : 'option.quotes';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Stringifies an event for the DLQ (bigints from parseJsonExact are strings already). JSON.parse
 * takes nesting that JSON.stringify's recursion cannot print back (a few thousand `[`): such an
 * event's raw is its whole frame instead of a stack overflow out of the socket handler.
 */
function rawOf(event: unknown, frame: string): string {
  try {
    return JSON.stringify(event);
  } catch {
    return frame;
  }
}

/** DLQ key of a rejected event: its underlying when the symbol parses, else the symbol, else null. */
function keyOf(sym: unknown, rootMap: RootMap): string | null {
  if (typeof sym !== 'string' || sym.length === 0) return null;
  return tryParseOpra(sym, rootMap)?.underlying ?? sym;
}

/** One event → one item. */
export function parseEvent(event: unknown, ctx: FrameContext, frame = ''): FrameItem {
  if (!isObject(event)) {
    return { kind: 'reject', topic: FALLBACK_DLQ_TOPIC, reason: 'bad_event', detail: 'event is not an object', raw: rawOf(event, frame), position: ctx.nextOffset(), origin: ctx.origin, key: null };
  }
  const ev = event.ev;
  if (ev === 'status') {
    return { kind: 'status', status: String(event.status ?? ''), message: String(event.message ?? '') };
  }
  if (ev !== 'T' && ev !== 'Q') return { kind: 'ignored', ev: String(ev) };
  const topic = topicOf(ctx.feed, ev);
  const offset = ctx.nextOffset();
  try {
    let record: WsRecord;
    if (ctx.feed === 'stocks') record = ev === 'T' ? stockTrade(event, ctx.origin, offset) : stockQuote(event, ctx.origin, offset);
    else record = ev === 'T' ? optionTrade(event, ctx.rootMap, ctx.origin, offset) : optionQuote(event, ctx.rootMap, ctx.origin, offset);
    const key = 'underlying' in record ? record.underlying : record.ticker;
    return { kind: 'record', topic, key, record, stream: `${ev}.${record.ticker}` };
  } catch (err) {
    if (!(err instanceof EventRejection)) throw err;
    return { kind: 'reject', topic, reason: err.reason, detail: err.detail, raw: rawOf(event, frame), position: offset, origin: ctx.origin, key: keyOf(event.sym, ctx.rootMap) };
  }
}

/** One frame (text) → its items, in order. Invalid JSON or a non-array → one rejection of the frame. */
export function parseFrame(text: string, ctx: FrameContext): FrameItem[] {
  let parsed: unknown;
  try {
    parsed = parseJsonExact(text);
  } catch (err) {
    return [{ kind: 'reject', topic: FALLBACK_DLQ_TOPIC, reason: 'invalid_json', detail: (err as Error).message, raw: text, position: 0n, origin: ctx.origin, key: null }];
  }
  const events = Array.isArray(parsed) ? parsed : isObject(parsed) ? [parsed] : null;
  if (events === null) {
    return [{ kind: 'reject', topic: FALLBACK_DLQ_TOPIC, reason: 'bad_frame', detail: 'frame is not a JSON array of events', raw: text, position: 0n, origin: ctx.origin, key: null }];
  }
  return events.map((e) => parseEvent(e, ctx, text));
}

/**
 * Option quotes in proportion to trades (issue 13). The greeks processor reads a contract's quotes
 * only through one lookup: the contract's as-of quote at each of its trades, i.e. the latest quote
 * with time ≤ t no older than the look-back (ASOF_LOOKBACK_NS; a quote older than the staleness
 * bound is still found and reported as stale with its age, so the look-back, not the staleness
 * bound, is what must be kept). Every other quote cannot change an output. This module decides, for
 * a day's option-quote file in its sorted order, which quotes some trade of the same day can see:
 *
 *   keep q (contract c, time tq) ⇔ c trades at exactly tq, or c trades at some t with
 *   tq < t ≤ tq + look-back and the next quote of c (in sorted order) is at ≥ t, or there is none.
 *
 * All quotes at a trade's own time are kept, and so is the last quote before it: whichever of them
 * the processor sees depends only on how far the partition has been read, and it sees the same one
 * with or without the others. Proof that the rule is lossless, and exact: test/unit/flatfile/quote-reduction.test.ts
 * (brute force) and test/unit/flatfile/quote-reduction-day.test.ts (a day through greeks and features).
 *
 * Three stages, all pure functions of the day's option-trade file and the quote file, so a resumed
 * run (which skips `position` items of the file's sequence) sees the same sequence as the run it
 * resumes:
 *   - at read time, `candidate` drops quotes with no trade of their contract in [tq, tq + look-back]
 *     before they reach the sort (most of OPRA: contracts that do not trade that minute). Every such
 *     quote is also dropped by the exact rule, and dropping it changes no other quote's decision
 *     (a later quote at tq' with no trade in [tq', tq' + look-back] lies after every trade an earlier
 *     kept quote serves).
 *   - at read time too, `ReadAhead` applies the exact rule one quote ahead in the file's order (below),
 *     in the encoding workers as each batch is written (`BatchReadAhead`), batches joined in order
 *     (`ReadAheadJoin`).
 *   - on the sorted stream, `reduceSorted` applies the exact rule with a look-ahead of at most the
 *     look-back in event time: a quote is decided when the next quote of its contract arrives or the
 *     stream passes the contract's next trade. Dropped quotes still count as items of the file's
 *     sequence (checkpoint positions), like duplicates of a re-publication.
 */
import { ASOF_LOOKBACK_NS } from '../../../domain/aggressor';
import { fromHalves, halvesOf, type FrameWriter } from '../encode/encoded';

/**
 * A contract's sorted trade times as uint32 halves, [lo, hi] per trade: the bytes of its sorted
 * BigInt64Array (little-endian, like encoded.ts halvesOf), read with no BigInt made. The read-time
 * rule runs for every option quote of the day (20 million on the real-size day), and its BigInts
 * (the quote's time built from its halves, each array element read) were a fifth of the read's CPU.
 * Event times are positive (parse/fields.ts bounds them to [2000, 2100)), so the unsigned halves
 * order them as the signed values do.
 */
type TimeHalves = Uint32Array;

const EMPTY: TimeHalves = new Uint32Array(0);
const TWO_32 = 4_294_967_296;
/** Later than every event time (2^63 ns): the limit of a quote with no trade within the look-back. */
const NEVER_HI = 0x8000_0000;

function halvesView(times: BigInt64Array): TimeHalves {
  return new Uint32Array(times.buffer, times.byteOffset, times.length * 2);
}

/** (aHi, aLo) < (bHi, bLo). */
function before(aHi: number, aLo: number, bHi: number, bLo: number): boolean {
  return aHi < bHi || (aHi === bHi && aLo < bLo);
}

/** Whether trade i is at exactly (hi, lo). */
function tradeAt(times: TimeHalves, i: number, hi: number, lo: number): boolean {
  return 2 * i < times.length && times[2 * i + 1] === hi && times[2 * i] === lo;
}

/** The option trades' times of a day, per contract, sorted. */
export class TradeTimes {
  private building: Map<string, bigint[]> | null = new Map();
  private readonly times = new Map<string, BigInt64Array>();
  private readonly halves = new Map<string, TimeHalves>();
  private count = 0;
  /** The last contract looked up (a file's quotes come grouped by contract). */
  private lastTicker: string | null = null;
  private lastTimes: TimeHalves = EMPTY;

  add(ticker: string, time: bigint): void {
    const b = this.building;
    if (b === null) throw new Error('TradeTimes: add() after seal()');
    const list = b.get(ticker);
    if (list === undefined) b.set(ticker, [time]);
    else list.push(time);
    this.count++;
  }

  /** Sealed times, as sent to another thread (structured clone). */
  get sealedTimes(): ReadonlyMap<string, BigInt64Array> {
    this.seal();
    return this.times;
  }

  /** Sealed times received from another thread. */
  static fromSealed(times: ReadonlyMap<string, BigInt64Array>): TradeTimes {
    const sealed = new TradeTimes();
    sealed.building = null;
    for (const [ticker, list] of times) {
      sealed.times.set(ticker, list);
      sealed.halves.set(ticker, halvesView(list));
      sealed.count += list.length;
    }
    return sealed;
  }

  /** Ends building: sorts each contract's times into a typed array. */
  seal(): this {
    if (this.building === null) return this;
    for (const [ticker, list] of this.building) {
      const sorted = BigInt64Array.from(list).sort();
      this.times.set(ticker, sorted);
      this.halves.set(ticker, halvesView(sorted));
    }
    this.building = null;
    return this;
  }

  get trades(): number {
    return this.count;
  }

  get contracts(): number {
    return this.building?.size ?? this.times.size;
  }

  /** The contract's sorted trade times as halves (empty when it has none). */
  of(ticker: string): TimeHalves {
    if (ticker === this.lastTicker) return this.lastTimes;
    if (this.building !== null) throw new Error('TradeTimes: read before seal()');
    this.lastTicker = ticker;
    this.lastTimes = this.halves.get(ticker) ?? EMPTY;
    return this.lastTimes;
  }
}

/** Index of the first trade at or after (hi, lo) (the trade count when none). */
function lowerBound(times: TimeHalves, hi: number, lo: number): number {
  let low = 0;
  let high = times.length >>> 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (before(times[2 * mid + 1], times[2 * mid], hi, lo)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** nextTradesAt: a trade of the contract at exactly the quote's time; one after it within the look-back. */
const TRADE_AT = 1;
const TRADE_AFTER = 2;
const SCRATCH = new Uint32Array(2);

interface NextTrades {
  /** A trade of the contract at exactly tq. */
  at: boolean;
  /** The first trade after tq within the look-back, or null. */
  after: bigint | null;
}

export class QuoteReduction {
  private readonly lookback: number;

  constructor(readonly trades: TradeTimes, readonly lookbackNs: bigint = ASOF_LOOKBACK_NS) {
    trades.seal();
    this.lookback = Number(lookbackNs);
  }

  nextTrades(ticker: string, tq: bigint): NextTrades {
    const halves = halvesOf(tq);
    const next = this.nextTradesAt(ticker, halves[1], halves[0], SCRATCH, 0);
    return { at: (next & TRADE_AT) !== 0, after: next & TRADE_AFTER ? fromHalves(SCRATCH[1], SCRATCH[0]) : null };
  }

  /**
   * `nextTrades` of a time given as its halves: TRADE_AT | TRADE_AFTER, the first trade after it
   * within the look-back written as halves to `after` at [2 * slot, 2 * slot + 1] ([lo, hi]).
   */
  nextTradesAt(ticker: string, hi: number, lo: number, after: Uint32Array, slot: number): number {
    const times = this.trades.of(ticker);
    let i = lowerBound(times, hi, lo);
    const at = tradeAt(times, i, hi, lo);
    while (tradeAt(times, i, hi, lo)) i++;
    if (!this.withinLookback(times, i, hi, lo)) return at ? TRADE_AT : 0;
    after[2 * slot] = times[2 * i];
    after[2 * slot + 1] = times[2 * i + 1];
    return (at ? TRADE_AT : 0) | TRADE_AFTER;
  }

  /** Read-time pre-filter: false only for quotes the exact rule drops whatever else is quoted. */
  candidate(ticker: string, tq: bigint): boolean {
    const halves = halvesOf(tq);
    return this.candidateAt(ticker, halves[1], halves[0]);
  }

  /** `candidate` of a time given as its halves. */
  candidateAt(ticker: string, hi: number, lo: number): boolean {
    const times = this.trades.of(ticker);
    return this.withinLookback(times, lowerBound(times, hi, lo), hi, lo);
  }

  /**
   * For ReadAhead, of a quote at (hi, lo): the time before which a later quote of its contract drops
   * it, as halves into `limit` ([lo, hi]); false when none can (a trade at its own time keeps it).
   */
  dropLimit(ticker: string, hi: number, lo: number, limit: Uint32Array): boolean {
    const times = this.trades.of(ticker);
    const i = lowerBound(times, hi, lo);
    if (tradeAt(times, i, hi, lo)) return false;
    const within = this.withinLookback(times, i, hi, lo); // trade i, if any, is after the quote
    limit[0] = within ? times[2 * i] : 0;
    limit[1] = within ? times[2 * i + 1] : NEVER_HI;
    return true;
  }

  /**
   * Whether trade i exists and is at most the look-back after (hi, lo), which it is not before. The
   * difference is exact below 2^53 ns, and rounds to no less than the look-back above it.
   */
  private withinLookback(times: TimeHalves, i: number, hi: number, lo: number): boolean {
    return 2 * i < times.length && (times[2 * i + 1] - hi) * TWO_32 + (times[2 * i] - lo) <= this.lookback;
  }
}

/**
 * The exact rule applied at read, one quote ahead, in the file's own order (after the read-time
 * filter): a quote with no trade at its own time is dropped when the next quote of the file is of
 * its contract, strictly later, and before the first trade after it (or there is none within the
 * look-back). In sorted order that quote's successor in its contract is at most that later quote, so
 * the exact rule drops it too; and dropping it changes no other decision (a quote that would now be
 * decided by a later successor could only differ if a trade fell between, and that trade would have
 * made some dropped quote a kept one: test/unit/flatfile/quote-reduction.test.ts checks it on random
 * files, out of order and with ties). A pure function of the file, whatever its chunking: a resumed
 * run drops the same quotes. Massive's files come grouped by contract in time order, so on a day
 * whose contracts trade about once a minute this drops most of what the read-time filter keeps,
 * before the sort. Times come as BigInts or, on the read's path, as their uint32 halves.
 */
export class ReadAhead {
  private ticker: string | null = null;
  private hi = 0;
  private lo = 0;
  /** Whether a next quote of the contract can drop the previous one (false: a trade at its time keeps it)… */
  private dropping = false;
  /** …when it comes before this time, [lo, hi]. */
  private readonly limit = new Uint32Array(2);

  constructor(private readonly reduction: QuoteReduction) {}

  /** The file's next quote; true when the previous one is dropped. */
  next(ticker: string, time: bigint): boolean {
    const halves = halvesOf(time);
    return this.nextAt(ticker, halves[1], halves[0]);
  }

  nextAt(ticker: string, hi: number, lo: number): boolean {
    const dropPrevious = this.dropsPreviousAt(ticker, hi, lo);
    this.followAt(ticker, hi, lo);
    return dropPrevious;
  }

  /** Whether this quote, next in the file, drops the previous one. */
  dropsPrevious(ticker: string, time: bigint): boolean {
    const halves = halvesOf(time);
    return this.dropsPreviousAt(ticker, halves[1], halves[0]);
  }

  private dropsPreviousAt(ticker: string, hi: number, lo: number): boolean {
    return this.dropping && this.ticker === ticker && before(this.hi, this.lo, hi, lo) && before(hi, lo, this.limit[1], this.limit[0]);
  }

  /** This quote is now the previous one. */
  follow(ticker: string, time: bigint): void {
    const halves = halvesOf(time);
    this.followAt(ticker, halves[1], halves[0]);
  }

  private followAt(ticker: string, hi: number, lo: number): void {
    this.ticker = ticker;
    this.hi = hi;
    this.lo = lo;
    this.dropping = this.reduction.dropLimit(ticker, hi, lo, this.limit);
  }
}

/**
 * A batch's first and last quotes under ReadAhead (after the read-time filter), and the last one's
 * frame, held out of the batch's frames: whether it is dropped depends on the next batch's first quote.
 */
export interface ReadAheadEdges {
  firstTicker: string;
  firstTime: bigint;
  lastTicker: string;
  lastTime: bigint;
  lastFrame: Buffer;
}

/** A quote's frame not written yet (encode/quote-rows.ts): written if ReadAhead keeps the quote, else discarded. */
export interface HeldFrame {
  write(): void;
  discard(): void;
}

/**
 * ReadAhead inside one batch of encoded frames (file-encoding.ts RowEncoder), as the batch is written.
 * A quote's frame is held, not written, while its fate waits on the next quote (the byte-level writer
 * holds its line); a quote that drops the previous one discards a held frame, or takes back a written
 * one (the parser's rows are written at once). The batch's first quote has no previous one here and
 * its last no next one: `ReadAheadJoin` decides those pairs, so each pair of consecutive quotes of the
 * file is decided once, as ReadAhead over the whole file decides it, whatever the batches (a worker's
 * blocks are not consecutive).
 */
export class BatchReadAhead {
  private rule: ReadAhead;
  private first: { ticker: string; hi: number; lo: number } | null = null;
  private lastTicker = '';
  private lastHi = 0;
  private lastLo = 0;
  /** The last quote's frame, when held. */
  private lastHeld: HeldFrame | null = null;
  /** Where the last quote's frame starts in the writer, when written. */
  private lastFrameAt = 0;

  constructor(private readonly reduction: QuoteReduction) {
    this.rule = new ReadAhead(reduction);
  }

  /** The next quote, at (hi, lo), its frame `held` or about to be written; true when the previous quote is dropped. */
  next(ticker: string, hi: number, lo: number, frames: FrameWriter, held: HeldFrame | null): boolean {
    this.first ??= { ticker, hi, lo };
    const dropPrevious = this.rule.nextAt(ticker, hi, lo);
    if (this.lastHeld !== null) {
      if (dropPrevious) this.lastHeld.discard();
      else this.lastHeld.write();
    } else if (dropPrevious) {
      frames.dropLast(this.lastFrameAt);
    }
    this.lastTicker = ticker;
    this.lastHi = hi;
    this.lastLo = lo;
    this.lastHeld = held;
    this.lastFrameAt = frames.position;
    return dropPrevious;
  }

  /** The batch's frames (and their count), less the last quote's, held in `edges` (null: no quote in the batch); starts the next batch. */
  take(frames: FrameWriter): { frames: Buffer; count: number; edges: ReadAheadEdges | null } {
    const first = this.first;
    this.first = null;
    this.rule = new ReadAhead(this.reduction);
    if (first === null) return { count: frames.count, frames: frames.take(), edges: null };
    if (this.lastHeld !== null) {
      this.lastFrameAt = frames.position;
      this.lastHeld.write();
      this.lastHeld = null;
    }
    const count = frames.count - 1;
    const [ahead, lastFrame] = frames.takeSplit(this.lastFrameAt);
    const edges = { firstTicker: first.ticker, firstTime: fromHalves(first.hi, first.lo), lastTicker: this.lastTicker, lastTime: fromHalves(this.lastHi, this.lastLo), lastFrame };
    return { frames: ahead, count, edges };
  }
}

/**
 * Joins batches read with BatchReadAhead, in file order: decides each batch's held last frame by the
 * next batch's first quote, so the frames passed on are those of ReadAhead over the whole file.
 */
export class ReadAheadJoin {
  private readonly rule: ReadAhead;
  private held: Buffer | null = null;
  dropped = 0;

  constructor(reduction: QuoteReduction) {
    this.rule = new ReadAhead(reduction);
  }

  /** The batch's frames in file order: the previous batch's held one (unless this batch's first quote drops it), then its own. */
  push(frames: Buffer, edges: ReadAheadEdges | null): Buffer[] {
    if (edges === null) return frames.length === 0 ? [] : [frames];
    const out: Buffer[] = [];
    if (this.held !== null) {
      if (this.rule.dropsPrevious(edges.firstTicker, edges.firstTime)) this.dropped++;
      else out.push(this.held);
    }
    this.rule.follow(edges.lastTicker, edges.lastTime);
    if (frames.length > 0) out.push(frames);
    this.held = edges.lastFrame;
    return out;
  }

  /** The last frame, which nothing follows. */
  end(): Buffer[] {
    const last = this.held;
    this.held = null;
    return last === null ? [] : [last];
  }
}

/** A batch of a file's records in sort order, as columns: `skips[i]` is 1 for a record not to send (null: none is). */
export interface SortedRecords<T> {
  records: T[];
  skips: Uint8Array | null;
}

/** Sorted quotes with the reduction's decisions: `skips[i]` is 1 for a quote no trade can see. */
export interface DecidedQuotes<T> extends SortedRecords<T> {
  skips: Uint8Array;
}

const KEEP = 1;
const DECIDED = 2;

/**
 * reduceSorted's look-ahead: the quotes not yet handed out, in arrival order, as columns (no object
 * per quote: the produce phase's main thread is its limit). A slot's state is KEEP | DECIDED; an
 * undecided quote holds its contract's first trade after it within the look-back, as halves [lo, hi].
 */
class LookAhead<T extends { ticker: string }> {
  private records: (T | undefined)[] = [];
  private state = new Uint8Array(1024);
  private after = new Uint32Array(2048);
  private head = 0;
  /** Arrival number of slot 0. */
  private offset = 0;
  /** Each contract's undecided quote, by arrival number. */
  private readonly open = new Map<string, number>();

  constructor(private readonly reduction: QuoteReduction) {}

  get size(): number {
    return this.records.length - this.head;
  }

  /** The next quote, at (hi, lo): it decides its contract's previous one. */
  arrive(record: T, hi: number, lo: number): void {
    const previous = this.open.get(record.ticker);
    // The previous quote serves its next trade unless this quote comes before that trade.
    if (previous !== undefined) this.decide(previous - this.offset, this.reached(previous - this.offset, hi, lo));
    const slot = this.push(record);
    const next = this.reduction.nextTradesAt(record.ticker, hi, lo, this.after, slot);
    this.state[slot] = (next & TRADE_AT ? KEEP : 0) | (next & TRADE_AFTER ? 0 : DECIDED);
    if (next & TRADE_AFTER) this.open.set(record.ticker, slot + this.offset);
    else this.open.delete(record.ticker);
  }

  /**
   * The stream has reached (hi, lo): a quote whose next trade is at or before it serves that trade
   * (no later quote of its contract can come first). Hands out the decided quotes at the head.
   */
  release(hi: number, lo: number, out: DecidedQuotes<T>): void {
    for (; this.head < this.records.length; this.head++) {
      const slot = this.head;
      if (!(this.state[slot] & DECIDED)) {
        if (!this.reached(slot, hi, lo)) break;
        this.decide(slot, true);
      }
      this.handOut(slot, out);
    }
    if (this.head > 4096 && this.head * 2 > this.records.length) this.compact();
  }

  /** No later quote comes: each undecided quote serves its next trade. */
  finish(out: DecidedQuotes<T>): void {
    for (; this.head < this.records.length; this.head++) {
      if (!(this.state[this.head] & DECIDED)) this.state[this.head] |= KEEP;
      this.handOut(this.head, out);
    }
  }

  /** Whether (hi, lo) is at or after the next trade of the undecided quote in `slot`. */
  private reached(slot: number, hi: number, lo: number): boolean {
    return !before(hi, lo, this.after[2 * slot + 1], this.after[2 * slot]);
  }

  private decide(slot: number, serves: boolean): void {
    this.state[slot] |= DECIDED | (serves ? KEEP : 0);
    const ticker = this.records[slot]!.ticker;
    if (this.open.get(ticker) === slot + this.offset) this.open.delete(ticker);
  }

  private handOut(slot: number, out: DecidedQuotes<T>): void {
    out.skips[out.records.length] = this.state[slot] & KEEP ? 0 : 1;
    out.records.push(this.records[slot]!);
    this.records[slot] = undefined;
  }

  private push(record: T): number {
    const slot = this.records.length;
    if (slot === this.state.length) {
      const state = new Uint8Array(2 * slot);
      state.set(this.state);
      this.state = state;
      const after = new Uint32Array(4 * slot);
      after.set(this.after);
      this.after = after;
    }
    this.records.push(record);
    return slot;
  }

  private compact(): void {
    const { head } = this;
    this.state.copyWithin(0, head, this.records.length);
    this.after.copyWithin(0, 2 * head, 2 * this.records.length);
    this.records.splice(0, head);
    this.offset += head;
    this.head = 0;
  }
}

/**
 * The exact rule on a stream of one day's option quotes sorted by event time (ties in any fixed
 * order), batch by batch: every quote once, in order, with its decision. Holds at most the
 * look-back's worth of undecided quotes.
 */
export async function* reduceSorted<T extends { ticker: string }>(
  quotes: AsyncIterable<readonly T[]>,
  reduction: QuoteReduction,
  timeOf: (quote: T) => bigint,
): AsyncGenerator<DecidedQuotes<T>> {
  const lookAhead = new LookAhead<T>(reduction);
  const batchOf = (capacity: number): DecidedQuotes<T> => ({ records: [], skips: new Uint8Array(capacity) });
  for await (const batch of quotes) {
    const out = batchOf(lookAhead.size + batch.length);
    for (const record of batch) {
      const halves = halvesOf(timeOf(record));
      const lo = halves[0];
      const hi = halves[1];
      lookAhead.arrive(record, hi, lo);
      lookAhead.release(hi, lo, out);
    }
    if (out.records.length > 0) yield { records: out.records, skips: out.skips.subarray(0, out.records.length) };
  }
  const rest = batchOf(lookAhead.size);
  lookAhead.finish(rest);
  if (rest.records.length > 0) yield rest;
}

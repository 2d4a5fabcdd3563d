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
import type { FrameWriter } from '../encode/encoded';

const EMPTY = new BigInt64Array(0);

/** The option trades' times of a day, per contract, sorted. */
export class TradeTimes {
  private building: Map<string, bigint[]> | null = new Map();
  private readonly times = new Map<string, BigInt64Array>();
  private count = 0;
  /** The last contract looked up (a file's quotes come grouped by contract). */
  private lastTicker: string | null = null;
  private lastTimes: BigInt64Array = EMPTY;

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
      sealed.count += list.length;
    }
    return sealed;
  }

  /** Ends building: sorts each contract's times into a typed array. */
  seal(): this {
    if (this.building === null) return this;
    for (const [ticker, list] of this.building) this.times.set(ticker, BigInt64Array.from(list).sort());
    this.building = null;
    return this;
  }

  get trades(): number {
    return this.count;
  }

  get contracts(): number {
    return this.building?.size ?? this.times.size;
  }

  /** The contract's sorted trade times (empty when it has none). */
  of(ticker: string): BigInt64Array {
    if (ticker === this.lastTicker) return this.lastTimes;
    if (this.building !== null) throw new Error('TradeTimes: read before seal()');
    this.lastTicker = ticker;
    this.lastTimes = this.times.get(ticker) ?? EMPTY;
    return this.lastTimes;
  }
}

/** Index of the first element ≥ t (a.length when none). */
function lowerBound(a: BigInt64Array, t: bigint): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface NextTrades {
  /** A trade of the contract at exactly tq. */
  at: boolean;
  /** The first trade after tq within the look-back, or null. */
  after: bigint | null;
}

export class QuoteReduction {
  constructor(readonly trades: TradeTimes, readonly lookbackNs: bigint = ASOF_LOOKBACK_NS) {
    trades.seal();
  }

  nextTrades(ticker: string, tq: bigint): NextTrades {
    const times = this.trades.of(ticker);
    let i = lowerBound(times, tq);
    const at = i < times.length && times[i] === tq;
    while (i < times.length && times[i] === tq) i++;
    const after = i < times.length && times[i] - tq <= this.lookbackNs ? times[i] : null;
    return { at, after };
  }

  /** Read-time pre-filter: false only for quotes the exact rule drops whatever else is quoted. */
  candidate(ticker: string, tq: bigint): boolean {
    const times = this.trades.of(ticker);
    const i = lowerBound(times, tq);
    return i < times.length && times[i] - tq <= this.lookbackNs;
  }
}

/** Later than every event time: the limit of a quote with no trade within the look-back. */
const NEVER = 1n << 63n;

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
 * before the sort.
 */
export class ReadAhead {
  private ticker: string | null = null;
  private time = 0n;
  /** The previous quote is dropped by a next one of its contract before this time (null: kept, a trade at its time). */
  private limit: bigint | null = null;

  constructor(private readonly reduction: QuoteReduction) {}

  /** The file's next quote; true when the previous one is dropped. */
  next(ticker: string, time: bigint): boolean {
    const dropPrevious = this.dropsPrevious(ticker, time);
    this.follow(ticker, time);
    return dropPrevious;
  }

  /** Whether this quote, next in the file, drops the previous one. */
  dropsPrevious(ticker: string, time: bigint): boolean {
    return this.limit !== null && this.ticker === ticker && time > this.time && time < this.limit;
  }

  /** This quote is now the previous one. */
  follow(ticker: string, time: bigint): void {
    const { at, after } = this.reduction.nextTrades(ticker, time);
    this.ticker = ticker;
    this.time = time;
    this.limit = at ? null : after ?? NEVER;
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
  private first: { ticker: string; time: bigint } | null = null;
  private lastTicker = '';
  private lastTime = 0n;
  /** The last quote's frame, when held. */
  private lastHeld: HeldFrame | null = null;
  /** Where the last quote's frame starts in the writer, when written. */
  private lastFrameAt = 0;

  constructor(private readonly reduction: QuoteReduction) {
    this.rule = new ReadAhead(reduction);
  }

  /** The next quote, its frame `held` or about to be written; true when the previous quote is dropped. */
  next(ticker: string, time: bigint, frames: FrameWriter, held: HeldFrame | null): boolean {
    this.first ??= { ticker, time };
    const dropPrevious = this.rule.next(ticker, time);
    if (this.lastHeld !== null) {
      if (dropPrevious) this.lastHeld.discard();
      else this.lastHeld.write();
    } else if (dropPrevious) {
      frames.dropLast(this.lastFrameAt);
    }
    this.lastTicker = ticker;
    this.lastTime = time;
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
    const [before, lastFrame] = frames.takeSplit(this.lastFrameAt);
    return { frames: before, count, edges: { firstTicker: first.ticker, firstTime: first.time, lastTicker: this.lastTicker, lastTime: this.lastTime, lastFrame } };
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

export interface Reduced<T> {
  record: T;
  keep: boolean;
}

interface Pending<T> extends Reduced<T> {
  decided: boolean;
  /** The contract's first trade after the quote, within the look-back; null once decided. */
  after: bigint | null;
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
): AsyncGenerator<Reduced<T>[]> {
  const queue: Pending<T>[] = [];
  let head = 0;
  const open = new Map<string, Pending<T>>();
  const decide = (p: Pending<T>, keep: boolean): void => {
    p.keep = keep;
    p.decided = true;
    p.after = null;
  };
  for await (const batch of quotes) {
    const out: Reduced<T>[] = [];
    for (const record of batch) {
      const tq = timeOf(record);
      const previous = open.get(record.ticker);
      // The previous quote serves its next trade unless this quote comes before that trade.
      if (previous !== undefined) decide(previous, previous.keep || previous.after! <= tq);
      const next = reduction.nextTrades(record.ticker, tq);
      const entry: Pending<T> = { record, keep: next.at, decided: next.after === null, after: next.after };
      if (entry.decided) open.delete(record.ticker);
      else open.set(record.ticker, entry);
      queue.push(entry);
      // The stream has reached tq: a quote whose next trade is at or before tq serves it (no later quote of its contract can come first).
      while (head < queue.length) {
        const p = queue[head];
        if (!p.decided) {
          if (p.after! > tq) break;
          decide(p, true);
          if (open.get(p.record.ticker) === p) open.delete(p.record.ticker);
        }
        out.push(p); // decided: its record and keep are final
        queue[head++] = undefined as unknown as Pending<T>;
      }
      if (head > 4096 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
    }
    if (out.length > 0) yield out;
  }
  // No later quote of its contract: each undecided quote serves its next trade.
  const rest = queue.slice(head).map((p) => ({ record: p.record, keep: p.decided ? p.keep : true }));
  if (rest.length > 0) yield rest;
}

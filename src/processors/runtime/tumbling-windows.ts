/**
 * Tumbling event-time windows aligned to the UTC epoch, [start, end). A window closes when the
 * watermark reaches end + allowed lateness and yields one final result; a record for a closed window
 * is late. State per window is an Aggregation in the Quix Streams sense: an Aggregator keeps constant
 * state (count, sum), a Collector keeps the items and computes at close (exact quantiles, dip test).
 */

export interface Aggregation<I, S, R> {
  initialize(key: string, start: bigint, end: bigint): S;
  agg(state: S, item: I): S;
  result(state: S): R;
}

export interface ClosedWindow<R> {
  key: string;
  start: bigint;
  end: bigint;
  result: R;
}

export function windowStart(eventTime: bigint, sizeNs: bigint): bigint {
  const r = eventTime % sizeNs;
  return r >= 0n ? eventTime - r : eventTime - r - sizeNs;
}

interface OpenWindow<S> {
  key: string;
  start: bigint;
  end: bigint;
  /** end + allowed lateness: kept, as `add` compares it for every item (a bigint sum allocates). */
  closesAt: bigint;
  state: S;
}

export class TumblingWindows<I, S, R> {
  /** Open windows by end time, then key: closing walks ends in order. */
  private readonly byEnd = new Map<bigint, Map<string, OpenWindow<S>>>();
  private ends: bigint[] = [];
  /** The window the last item went to: consecutive items mostly share one (skips the bigint modulo and two map lookups). */
  private recent: OpenWindow<S> | null = null;

  constructor(
    readonly sizeNs: bigint,
    private readonly allowedLatenessNs: bigint,
    private readonly aggregation: Aggregation<I, S, R>,
  ) {}

  /** Adds the item to its window, or returns false when that window has already closed (late). */
  add(key: string, eventTime: bigint, item: I, watermark: bigint): boolean {
    const recent = this.recent;
    const w = recent !== null && recent.key === key && eventTime >= recent.start && eventTime < recent.end ? recent : this.open(key, eventTime, watermark);
    if (w === null || w.closesAt <= watermark) return false;
    w.state = this.aggregation.agg(w.state, item);
    return true;
  }

  /** The window of (key, eventTime), created if new; null when it has already closed. */
  private open(key: string, eventTime: bigint, watermark: bigint): OpenWindow<S> | null {
    const start = windowStart(eventTime, this.sizeNs);
    const end = start + this.sizeNs;
    const closesAt = end + this.allowedLatenessNs;
    if (closesAt <= watermark) return null;
    let windows = this.byEnd.get(end);
    if (!windows) {
      windows = new Map();
      this.byEnd.set(end, windows);
      this.ends.push(end);
      this.ends.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
    let w = windows.get(key);
    if (!w) {
      w = { key, start, end, closesAt, state: this.aggregation.initialize(key, start, end) };
      windows.set(key, w);
    }
    this.recent = w;
    return w;
  }

  /** Closes every window with end + lateness ≤ watermark, in (end, key) order. */
  close(watermark: bigint): ClosedWindow<R>[] {
    const closed: ClosedWindow<R>[] = [];
    let i = 0;
    while (i < this.ends.length && this.ends[i] + this.allowedLatenessNs <= watermark) {
      const end = this.ends[i];
      const windows = this.byEnd.get(end)!;
      for (const key of [...windows.keys()].sort()) {
        const w = windows.get(key)!;
        closed.push({ key, start: w.start, end, result: this.aggregation.result(w.state) });
      }
      this.byEnd.delete(end);
      if (this.recent?.end === end) this.recent = null;
      i += 1;
    }
    if (i > 0) this.ends = this.ends.slice(i);
    return closed;
  }

  get openWindows(): number {
    let n = 0;
    for (const w of this.byEnd.values()) n += w.size;
    return n;
  }
}

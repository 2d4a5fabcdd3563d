/**
 * A time series for as-of lookups in event time: "the latest entry with time ≤ t", looking back at
 * most a fixed span so that results never depend on how much history happens to be retained.
 * Entries arrive nearly in time order (inserts are appends or short moves from the end); equal times
 * keep arrival order, which is partition order and so deterministic.
 *
 * An entry is its time and up to two numbers (each may be null), kept in typed columns; a lookup
 * makes the caller's value from them (`view`). Kept as an object per entry, each of a real day's 12M
 * underlying quotes outlived a young-generation collection or two before it was pruned: greeks
 * through the broker copied and promoted about 100 bytes a record.
 */
export type EntryView<V> = (time: bigint, a: number | null, b: number | null) => V;

const A_NULL = 1;
const B_NULL = 2;
const INITIAL_CAPACITY = 8;
/** Pruned entries are dropped from the columns' front once there are this many and they are the majority. */
const COMPACT_AFTER = 256;

export class AsOfSeries<V> {
  private times = new BigInt64Array(INITIAL_CAPACITY);
  private as = new Float64Array(INITIAL_CAPACITY);
  private bs = new Float64Array(INITIAL_CAPACITY);
  private nulls = new Uint8Array(INITIAL_CAPACITY);
  private head = 0;
  private length = 0;

  constructor(private readonly view: EntryView<V>) {}

  insert(time: bigint, a: number | null, b: number | null = null): void {
    if (this.length === this.times.length) this.grow();
    let i = this.length;
    while (i > this.head && this.times[i - 1] > time) i -= 1;
    if (i < this.length) this.shiftRight(i);
    this.times[i] = time;
    this.as[i] = a ?? 0;
    this.bs[i] = b ?? 0;
    this.nulls[i] = (a === null ? A_NULL : 0) | (b === null ? B_NULL : 0);
    this.length += 1;
  }

  /** The latest entry with notBefore ≤ time ≤ t, or undefined. */
  asOf(t: bigint, notBefore: bigint): V | undefined {
    const times = this.times;
    let lo = this.head;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i < this.head || times[i] < notBefore) return undefined;
    const nulls = this.nulls[i];
    return this.view(times[i], nulls & A_NULL ? null : this.as[i], nulls & B_NULL ? null : this.bs[i]);
  }

  /** Forgets entries older than `minTime`. */
  prune(minTime: bigint): void {
    while (this.head < this.length && this.times[this.head] < minTime) this.head += 1;
    if (this.head > COMPACT_AFTER && this.head * 2 > this.length) {
      for (const column of this.columns()) column.copyWithin(0, this.head, this.length);
      this.length -= this.head;
      this.head = 0;
    }
  }

  get size(): number {
    return this.length - this.head;
  }

  private columns(): (BigInt64Array | Float64Array | Uint8Array)[] {
    return [this.times, this.as, this.bs, this.nulls];
  }

  private shiftRight(from: number): void {
    for (const column of this.columns()) column.copyWithin(from + 1, from, this.length);
  }

  private grow(): void {
    const capacity = this.times.length * 2;
    const times = new BigInt64Array(capacity);
    const as = new Float64Array(capacity);
    const bs = new Float64Array(capacity);
    const nulls = new Uint8Array(capacity);
    times.set(this.times);
    as.set(this.as);
    bs.set(this.bs);
    nulls.set(this.nulls);
    this.times = times;
    this.as = as;
    this.bs = bs;
    this.nulls = nulls;
  }
}

/** AsOfSeries by key, dropping keys that become empty. */
export class AsOfIndex<V> {
  private readonly series = new Map<string, AsOfSeries<V>>();

  constructor(private readonly view: EntryView<V>) {}

  insert(key: string, time: bigint, a: number | null, b: number | null = null): void {
    let s = this.series.get(key);
    if (!s) {
      s = new AsOfSeries<V>(this.view);
      this.series.set(key, s);
    }
    s.insert(time, a, b);
  }

  asOf(key: string, t: bigint, notBefore: bigint): V | undefined {
    return this.series.get(key)?.asOf(t, notBefore);
  }

  prune(minTime: bigint): void {
    for (const [key, s] of this.series) {
      s.prune(minTime);
      if (s.size === 0) this.series.delete(key);
    }
  }
}

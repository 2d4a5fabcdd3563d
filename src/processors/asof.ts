/**
 * A time series for as-of lookups in event time: "the latest entry with time ≤ t", looking back at
 * most a fixed span so that results never depend on how much history happens to be retained.
 * Entries arrive nearly in time order (inserts are appends or short moves from the end); equal times
 * keep arrival order, which is partition order and so deterministic.
 */
export class AsOfSeries<V> {
  private times: bigint[] = [];
  private values: V[] = [];
  private head = 0;

  insert(time: bigint, value: V): void {
    let i = this.times.length;
    while (i > this.head && this.times[i - 1] > time) i -= 1;
    if (i === this.times.length) {
      this.times.push(time);
      this.values.push(value);
    } else {
      this.times.splice(i, 0, time);
      this.values.splice(i, 0, value);
    }
  }

  /** Latest entry with notBefore ≤ time ≤ t, or undefined. */
  asOf(t: bigint, notBefore: bigint): { time: bigint; value: V } | undefined {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i < this.head || this.times[i] < notBefore) return undefined;
    return { time: this.times[i], value: this.values[i] };
  }

  /** Forgets entries older than `minTime`. */
  prune(minTime: bigint): void {
    while (this.head < this.times.length && this.times[this.head] < minTime) this.head += 1;
    if (this.head > 256 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
  }

  get size(): number {
    return this.times.length - this.head;
  }
}

/** AsOfSeries by key, dropping keys that become empty. */
export class AsOfIndex<V> {
  private readonly series = new Map<string, AsOfSeries<V>>();

  insert(key: string, time: bigint, value: V): void {
    let s = this.series.get(key);
    if (!s) {
      s = new AsOfSeries<V>();
      this.series.set(key, s);
    }
    s.insert(time, value);
  }

  asOf(key: string, t: bigint, notBefore: bigint): { time: bigint; value: V } | undefined {
    return this.series.get(key)?.asOf(t, notBefore);
  }

  prune(minTime: bigint): void {
    for (const [key, s] of this.series) {
      s.prune(minTime);
      if (s.size === 0) this.series.delete(key);
    }
  }
}

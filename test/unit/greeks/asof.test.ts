import { AsOfIndex, AsOfSeries } from '../../../src/processors/asof';
import { Xoshiro128ss } from '../../../src/domain/stats/prng';

/**
 * The typed-column as-of series against a plain model: entries kept sorted by time, ties in arrival
 * order, pruning dropping every entry older than the bound, a lookup taking the last entry at or
 * before t and not before the look-back.
 */

interface Entry {
  time: bigint;
  a: number | null;
  b: number | null;
}

class ModelSeries {
  entries: Entry[] = [];

  insert(e: Entry): void {
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1].time > e.time) i--;
    this.entries.splice(i, 0, e);
  }

  asOf(t: bigint, notBefore: bigint): Entry | undefined {
    const found = this.entries.filter((e) => e.time <= t).at(-1);
    return found && found.time >= notBefore ? found : undefined;
  }

  prune(minTime: bigint): void {
    this.entries = this.entries.filter((e) => e.time >= minTime);
  }
}

const view = (time: bigint, a: number | null, b: number | null): Entry => ({ time, a, b });

describe('AsOfSeries', () => {
  it.each([1, 2, 3, 4])('agrees with the model through growth, out-of-order inserts, ties, nulls and compaction (seed %i)', (seed) => {
    const rnd = new Xoshiro128ss([seed, 7, 11, 13]);
    const series = new AsOfSeries(view);
    const model = new ModelSeries();
    let clock = 1_741_354_200_000_000_000n;
    let pruned = clock;
    for (let step = 0; step < 5_000; step++) {
      const roll = rnd.nextDouble();
      if (roll < 0.6) {
        // Nearly in order: mostly forward, some ties, some a little back (never before the pruned bound).
        clock += BigInt(Math.floor(rnd.nextDouble() * 3));
        const back = rnd.nextDouble() < 0.1 ? BigInt(Math.floor(rnd.nextDouble() * 5)) : 0n;
        const time = clock - back < pruned ? pruned : clock - back;
        const a = rnd.nextDouble() < 0.1 ? null : Math.round(rnd.nextDouble() * 1e4) / 100;
        const b = rnd.nextDouble() < 0.1 ? null : step === 7 ? -0 : Math.round(rnd.nextDouble() * 1e4) / 100;
        series.insert(time, a, b);
        model.insert({ time, a, b });
      } else if (roll < 0.98) {
        const t = clock - BigInt(Math.floor(rnd.nextDouble() * 40));
        const notBefore = t - BigInt(Math.floor(rnd.nextDouble() * 10));
        expect(series.asOf(t, notBefore)).toEqual(model.asOf(t, notBefore));
      } else {
        pruned = clock - BigInt(Math.floor(rnd.nextDouble() * 20));
        series.prune(pruned);
        model.prune(pruned);
      }
      expect(series.size).toBe(model.entries.length);
    }
    // Compaction happened (more than 256 entries pruned at once) and growth went past the first capacity.
    expect(model.entries.length).toBeGreaterThan(8);
  });

  it('keeps nulls and negative zero apart from 0', () => {
    const series = new AsOfSeries(view);
    series.insert(10n, null, 0);
    series.insert(20n, -0, null);
    expect(series.asOf(15n, 0n)).toEqual({ time: 10n, a: null, b: 0 });
    expect(Object.is(series.asOf(25n, 0n)!.a, -0)).toBe(true);
    expect(series.asOf(25n, 0n)!.b).toBeNull();
  });

  it('looks back no further than asked, and finds nothing before the first entry', () => {
    const series = new AsOfSeries(view);
    series.insert(100n, 1, 2);
    expect(series.asOf(99n, 0n)).toBeUndefined();
    expect(series.asOf(150n, 101n)).toBeUndefined();
    expect(series.asOf(150n, 100n)).toEqual({ time: 100n, a: 1, b: 2 });
  });

  it('equal times keep arrival order: the last one arrived is the as-of entry', () => {
    const series = new AsOfSeries(view);
    series.insert(5n, 1, null);
    series.insert(7n, 3, null);
    series.insert(5n, 2, null);
    expect(series.asOf(6n, 0n)!.a).toBe(2);
    expect(series.asOf(7n, 0n)!.a).toBe(3);
  });

  it('compacts a long pruned prefix and keeps answering', () => {
    const series = new AsOfSeries(view);
    for (let i = 0; i < 1_000; i++) series.insert(BigInt(i), i, null);
    series.prune(900n);
    expect(series.size).toBe(100);
    expect(series.asOf(899n, 0n)).toBeUndefined();
    expect(series.asOf(950n, 0n)).toEqual({ time: 950n, a: 950, b: null });
    series.insert(1_000n, 1_000, null);
    expect(series.asOf(2_000n, 0n)!.a).toBe(1_000);
  });
});

describe('AsOfIndex', () => {
  it('keeps a series per key and drops keys pruned empty', () => {
    const index = new AsOfIndex(view);
    index.insert('A', 1n, 1, null);
    index.insert('B', 5n, 2, null);
    expect(index.asOf('A', 3n, 0n)!.a).toBe(1);
    expect(index.asOf('C', 3n, 0n)).toBeUndefined();
    index.prune(2n);
    expect(index.asOf('A', 3n, 0n)).toBeUndefined();
    expect(index.asOf('B', 6n, 0n)!.a).toBe(2);
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ss from 'simple-statistics';
import { BOX_COX_GRID, STAT_NAMES, StatName, StatsRecord, computeStats, quantileSorted } from '../../../src/domain/stats/family';

interface StatsCase {
  name: string;
  x: number[];
  stats: Record<StatName, number | null>;
}
const fixtures = JSON.parse(fs.readFileSync(path.join(__dirname, '../../fixtures/stats/stats_fixtures.json'), 'utf8')) as { cases: StatsCase[] };

/** Stats in the units of x are compared relative to the sample's scale, dimensionless ones to 1. */
const SCALED: ReadonlySet<StatName> = new Set(['total', 'minimum', 'q1', 'q2', 'q3', 'maximum', 'mean', 'stddev', 'iqr', 'mad', 'mode']);

function expectClose(actual: number | null, expected: number | null, scale: number, label: string): void {
  if (expected === null) {
    expect({ label, actual }).toEqual({ label, actual: null });
    return;
  }
  expect(actual).not.toBeNull();
  const tolerance = 1e-9 * Math.max(Math.abs(expected), scale);
  if (!(Math.abs((actual as number) - expected) <= tolerance)) throw new Error(`${label}: ${actual} vs ${expected} (tol ${tolerance})`);
}

describe('stat family against numpy/scipy/diptest fixtures', () => {
  it('has fixtures for every stat and the interesting shapes', () => {
    expect(fixtures.cases.length).toBeGreaterThanOrEqual(30);
    expect(Object.keys(fixtures.cases[0].stats).sort()).toEqual([...STAT_NAMES].sort());
  });

  it.each(fixtures.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const got = computeStats(c.x);
    const scale = c.x.reduce((m, v) => Math.max(m, Math.abs(v)), 0) * Math.max(1, c.x.length);
    for (const stat of STAT_NAMES) {
      const perStatScale = stat === 'total' ? scale : SCALED.has(stat) ? scale / Math.max(1, c.x.length) : 1;
      expectClose(got[stat], c.stats[stat], perStatScale, `${c.name}.${stat}`);
    }
  });
});

describe('hand-worked values', () => {
  it('x = [10, 1, 3, 2]', () => {
    const s = computeStats([10, 1, 3, 2]);
    // deviations from mean 4: 6, −3, −1, −2 → m2 = 50, m3 = 180, m4 = 1394
    expect(s.total).toBe(16);
    expect(s.mean).toBe(4);
    expect(s.q1).toBe(1.75);
    expect(s.q2).toBe(2.5);
    expect(s.q3).toBe(4.75);
    expect(s.iqr).toBe(3);
    expect(s.mad).toBe(1); // |x − 2.5| = 7.5, 1.5, 0.5, 0.5 → median 1
    expect(s.stddev).toBeCloseTo(Math.sqrt(50 / 3), 14);
    expect(s.skew).toBeCloseTo((2 * 180) / Math.pow(50, 1.5), 14);
    expect(s.kurtosis).toBeCloseTo((4 * 1394) / 2500, 14);
    expect(s.cv).toBeCloseTo(Math.sqrt(50 / 3) / 4, 14);
    expect(s.mode).toBe(1);
    expect(s.kde_peaks).toBe(1);
    expect(s.dip_pval).toBeCloseTo(0.4, 12); // dip = 1/8, the n = 4 table row
  });

  it('n = 0 gives total 0, kde_peaks 0 and nulls elsewhere', () => {
    const s = computeStats([]);
    expect(s.total).toBe(0);
    expect(s.kde_peaks).toBe(0);
    for (const k of STAT_NAMES.filter((k) => k !== 'total' && k !== 'kde_peaks')) expect(s[k]).toBeNull();
  });

  it('n = 1: location stats are the value, spread stats 0, shape stats null', () => {
    const s = computeStats([3.5]);
    expect([s.total, s.minimum, s.q1, s.q2, s.q3, s.maximum, s.mean, s.mode]).toEqual([3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5]);
    expect([s.iqr, s.mad]).toEqual([0, 0]);
    expect([s.stddev, s.skew, s.kurtosis, s.cv, s.bc, s.dip_pval]).toEqual([null, null, null, null, null, null]);
    expect(s.kde_peaks).toBe(1);
  });

  it('all-equal values: stddev 0, mean exact, skew/kurtosis/bc null, one KDE peak', () => {
    const s = computeStats(new Array(25).fill(0.1));
    expect(s.mean).toBe(0.1);
    expect(s.stddev).toBe(0);
    expect(s.cv).toBe(0);
    expect([s.skew, s.kurtosis, s.bc]).toEqual([null, null, null]);
    expect(s.mode).toBe(0.1); // iqr = stddev = 0 → the median
    expect(s.kde_peaks).toBe(1);
  });

  it('n ≤ 16 mode is the most frequent value, smallest on ties', () => {
    expect(computeStats([5, 3, 5, 3, 9]).mode).toBe(3);
    expect(computeStats([5, 3, 5, 9]).mode).toBe(5);
  });

  it('histogram mode: centre of the first fullest bin of width 2·iqr/n^(1/3) from the minimum', () => {
    // 27 values: iqr = 6.5 − 0 ... computed below; bin width 2·iqr/3
    const x = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 10, 10, 10, 10, 10, 10, 11, 11, 12];
    const s = computeStats(x);
    const w = (2 * (s.iqr as number)) / Math.pow(27, 1 / 3);
    const bins = new Map<number, number>();
    for (const v of x) bins.set(Math.floor(v / w), (bins.get(Math.floor(v / w)) ?? 0) + 1);
    const fullest = Math.max(...bins.values());
    const first = Math.min(...[...bins].filter(([, c]) => c === fullest).map(([b]) => b));
    expect(s.mode).toBeCloseTo((first + 0.5) * w, 12);
  });

  it('bc is null for any value ≤ 0 and for n < 2', () => {
    expect(computeStats([1, 2, 0]).bc).toBeNull();
    expect(computeStats([1, 2, -3]).bc).toBeNull();
    expect(computeStats([2]).bc).toBeNull();
    expect(BOX_COX_GRID).toEqual([-2, -1.75, -1.5, -1.25, -1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]);
  });

  it('never returns NaN', () => {
    const samples = [[], [1], [1, 1], [0, 0, 0], [-1, 1], [1e-300, 1e-300, 2e-300], [1e300, -1e300, 0]];
    for (const x of samples) for (const v of Object.values(computeStats(x)) as (number | null)[]) expect(Number.isNaN(v)).toBe(false);
  });

  it('rejects non-finite input', () => {
    expect(() => computeStats([1, NaN])).toThrow(RangeError);
    expect(() => computeStats([1, Infinity])).toThrow(RangeError);
  });

  it('depends only on the multiset of values', () => {
    const x = Array.from({ length: 3001 }, (_, i) => Math.exp(Math.sin(i * 12.9898) * 3) * 1000);
    const shuffled = [...x].reverse();
    expect(computeStats(shuffled)).toEqual(computeStats(x));
  });
});

describe('simple-statistics as a second oracle where definitions agree', () => {
  const x = Array.from({ length: 777 }, (_, i) => 100 + 30 * Math.sin(i * 0.37) + (i % 13));
  const s: StatsRecord = computeStats(x);
  it('mean, sample stddev, median, MAD, sum', () => {
    expect(s.mean).toBeCloseTo(ss.mean(x), 10);
    expect(s.stddev).toBeCloseTo(ss.sampleStandardDeviation(x), 10);
    expect(s.q2).toBe(ss.median(x));
    expect(s.mad).toBeCloseTo(ss.medianAbsoluteDeviation(x), 12);
    expect(s.total).toBeCloseTo(ss.sum(x), 8);
  });
  it('exact mode for n ≤ 16', () => {
    const small = [4, 2, 2, 7, 7, 1];
    expect(computeStats(small).mode).toBe(ss.modeSorted([...small].sort((a, b) => a - b)));
  });
  it('quantiles use numpy linear interpolation at p·(n−1)', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8];
    expect(quantileSorted(sorted, 0.25)).toBe(2.75);
    expect(quantileSorted(sorted, 0.75)).toBe(6.25);
  });
});

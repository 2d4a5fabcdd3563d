/**
 * The 17-stat family of DESIGN 5.3, computed from one ascending sort of the group's values.
 * Undefined values are null, never NaN. Choices the design leaves open:
 * - n = 0: total = 0 (the empty sum) and kde_peaks = 0 (n < 3 → n); every other stat is null.
 * - "variance 0" means all values are equal (min = max): stddev = 0, skew and kurtosis null,
 *   cv = 0, and the mean is that value exactly (the rounded Σx/n may be an ulp off).
 * - total is a compensated (Neumaier) sum over the sorted values, so it depends only on the
 *   multiset of values, not on arrival order.
 * - bc: λ = 0 uses y = ln x; var_pop(y_λ) is computed as var_pop(x^λ)/λ² (the −1 shift does not
 *   change the variance and only costs precision); ties in the log-likelihood go to the smallest λ;
 *   null when n < 2, any x ≤ 0, or all values equal (every λ has var 0: λ is not identified).
 * - mode histogram bins are [min + k·w, min + (k+1)·w); value = min + (k + ½)·w of the first
 *   fullest bin.
 */
import { dipPValueBootstrap, dipPValueTable, dipStatistic } from './dip';
import { kdePeaks, lowerBound } from './kde';
import { Xoshiro128ss } from './prng';
import { sortFloat64 } from './sort';

export const STAT_NAMES = [
  'total',
  'minimum',
  'q1',
  'q2',
  'q3',
  'maximum',
  'mean',
  'stddev',
  'skew',
  'kurtosis',
  'iqr',
  'mad',
  'cv',
  'mode',
  'bc',
  'dip_pval',
  'kde_peaks',
] as const;
export type StatName = (typeof STAT_NAMES)[number];
export type StatsRecord = Record<StatName, number | null>;

/** How dip_pval is obtained: table interpolation (default) or a seeded uniform bootstrap. */
export type DipPValueMethod = { kind: 'table' } | { kind: 'bootstrap'; draws: number; seedParts: readonly string[] };

export interface StatsOptions {
  dip?: DipPValueMethod;
}

export const BOX_COX_GRID: readonly number[] = Array.from({ length: 17 }, (_, k) => -2 + 0.25 * k);
const MODE_EXACT_MAX_N = 16;
const CV_MEAN_FLOOR = 1e-9;

/** Stats of arbitrary-order values (copied and sorted once). Non-finite values are a caller bug. */
export function computeStats(values: ArrayLike<number>, options: StatsOptions = {}): StatsRecord {
  return computeStatsInPlace(Float64Array.from(values), options);
}

/** computeStats of values the caller hands over: sorted in place instead of copied. */
export function computeStatsInPlace(values: Float64Array, options: StatsOptions = {}): StatsRecord {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) throw new RangeError(`stat input must be finite, got ${values[i]}`);
  return computeStatsSorted(sortFloat64(values), options);
}

/** Stats of values already sorted ascending. */
export function computeStatsSorted(sorted: Float64Array, options: StatsOptions = {}): StatsRecord {
  const n = sorted.length;
  if (n === 0) return emptyStats();
  const minimum = sorted[0];
  const maximum = sorted[n - 1];
  const constant = minimum === maximum;
  const total = neumaierSum(sorted);
  const mean = constant ? minimum : Math.min(maximum, Math.max(minimum, total / n));
  const [m2, m3, m4] = constant ? [0, 0, 0] : centralMomentSums(sorted, mean);
  const stddev = n < 2 ? null : Math.sqrt(m2 / (n - 1));
  const shaped = n >= 2 && !constant;
  const q1 = quantileSorted(sorted, 0.25);
  const q2 = quantileSorted(sorted, 0.5);
  const q3 = quantileSorted(sorted, 0.75);
  const iqr = q3 - q1;
  return finiteOrNull({
    total,
    minimum,
    q1,
    q2,
    q3,
    maximum,
    mean,
    stddev,
    skew: shaped ? (Math.sqrt(n) * m3) / Math.pow(m2, 1.5) : null,
    kurtosis: shaped ? (n * m4) / (m2 * m2) : null,
    iqr,
    mad: medianAbsoluteDeviation(sorted, q2),
    cv: stddev === null ? null : stddev / Math.max(Math.abs(mean), CV_MEAN_FLOOR),
    mode: mode(sorted, iqr, stddev ?? 0, q2),
    bc: boxCoxLambda(sorted),
    dip_pval: dipPValue(sorted, options.dip ?? { kind: 'table' }),
    kde_peaks: kdePeaks(sorted, stddev),
  });
}

/** Values that overflow or underflow into ±Infinity/NaN (e.g. |x| near 1e300) are not representable: null. */
function finiteOrNull(stats: StatsRecord): StatsRecord {
  for (const name of STAT_NAMES) {
    const v = stats[name];
    if (v !== null && !Number.isFinite(v)) stats[name] = null;
  }
  return stats;
}

function emptyStats(): StatsRecord {
  const out = Object.fromEntries(STAT_NAMES.map((s) => [s, null])) as StatsRecord;
  out.total = 0;
  out.kde_peaks = 0;
  return out;
}

export function neumaierSum(values: ArrayLike<number>): number {
  let sum = 0;
  let carry = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    carry += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + carry;
}

/** Σ(x−mean)², Σ(x−mean)³, Σ(x−mean)⁴. */
function centralMomentSums(values: Float64Array, mean: number): [number, number, number] {
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  return [m2, m3, m4];
}

/** Linear interpolation at p·(n−1) between order statistics, with numpy's lerp rounding. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  return orderStatisticLerp((k) => sorted[k], sorted.length, p);
}

function orderStatisticLerp(at: (k: number) => number, n: number, p: number): number {
  const h = (n - 1) * p;
  const below = Math.floor(h);
  const above = Math.min(below + 1, n - 1);
  const t = h - below;
  const a = at(below);
  const b = at(above);
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * Median of |x − centre| without a second sort: below the centre the deviations ascend walking
 * left, above it they ascend walking right, so the k-th smallest comes from a two-way merge.
 */
function medianAbsoluteDeviation(sorted: Float64Array, centre: number): number {
  const split = lowerBound(sorted, centre);
  let left = split - 1;
  let right = split;
  let produced = -1;
  let current = 0;
  const kth = (k: number): number => {
    while (produced < k) {
      const dl = left >= 0 ? centre - sorted[left] : Infinity;
      const dr = right < sorted.length ? sorted[right] - centre : Infinity;
      if (dl <= dr) {
        current = dl;
        left--;
      } else {
        current = dr;
        right++;
      }
      produced++;
    }
    return current;
  };
  return orderStatisticLerp(kth, sorted.length, 0.5);
}

function mode(sorted: Float64Array, iqr: number, stddev: number, median: number): number {
  const n = sorted.length;
  if (n <= MODE_EXACT_MAX_N) return mostFrequentSmallest(sorted);
  const root = Math.pow(n, 1 / 3);
  const width = iqr > 0 ? (2 * iqr) / root : stddev > 0 ? (3.5 * stddev) / root : 0;
  if (width === 0) return median;
  const min = sorted[0];
  let bestBin = 0;
  let bestCount = 0;
  let bin = -1;
  let count = 0;
  for (let i = 0; i <= n; i++) {
    const b = i < n ? Math.floor((sorted[i] - min) / width) : -1;
    if (b === bin) {
      count++;
      continue;
    }
    if (count > bestCount) {
      bestCount = count;
      bestBin = bin;
    }
    bin = b;
    count = 1;
  }
  return min + (bestBin + 0.5) * width;
}

function mostFrequentSmallest(sorted: Float64Array): number {
  let best = sorted[0];
  let bestRun = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    if (j - i > bestRun) {
      bestRun = j - i;
      best = sorted[i];
    }
    i = j;
  }
  return best;
}

/**
 * var_pop(x^λ) for every non-zero λ of the grid, in two passes (means, then squared deviations).
 * x^(k/4) comes from repeated multiplication (or division) by x^(1/4) = √√x: at most 8 roundings,
 * far cheaper than Math.pow with fractional exponents.
 */
function quarterPowerVariances(sorted: Float64Array): Map<number, number> {
  const n = sorted.length;
  const roots = new Float64Array(n);
  for (let i = 0; i < n; i++) roots[i] = Math.sqrt(Math.sqrt(sorted[i]));
  const sums = new Float64Array(16);
  for (let i = 0; i < n; i++) accumulatePowers(roots[i], sums, null);
  const means = sums.map((s) => s / n);
  const squares = new Float64Array(16);
  for (let i = 0; i < n; i++) accumulatePowers(roots[i], squares, means);
  const out = new Map<number, number>();
  for (let k = 0; k < 8; k++) {
    out.set(0.25 * (k + 1), squares[k] / n);
    out.set(-0.25 * (k + 1), squares[8 + k] / n);
  }
  return out;
}

/** Slots 0..7 get x^(k+1)/4, slots 8..15 x^−(k+1)/4: the value itself, or its squared deviation from `means`. */
function accumulatePowers(root: number, into: Float64Array, means: Float64Array | null): void {
  let up = 1;
  let down = 1;
  for (let k = 0; k < 8; k++) {
    up *= root;
    down /= root;
    if (means === null) {
      into[k] += up;
      into[8 + k] += down;
    } else {
      const du = up - means[k];
      const dd = down - means[8 + k];
      into[k] += du * du;
      into[8 + k] += dd * dd;
    }
  }
}

function logVariance(sorted: Float64Array): { sumLog: number; variance: number } {
  const logs = new Float64Array(sorted.length);
  for (let i = 0; i < sorted.length; i++) logs[i] = Math.log(sorted[i]);
  let sumLog = 0;
  for (let i = 0; i < logs.length; i++) sumLog += logs[i];
  const mean = sumLog / logs.length;
  let ss = 0;
  for (let i = 0; i < logs.length; i++) ss += (logs[i] - mean) ** 2;
  return { sumLog, variance: ss / logs.length };
}

/** Box–Cox λ on BOX_COX_GRID maximising the profile log-likelihood (see module comment). */
export function boxCoxLambda(sorted: Float64Array): number | null {
  const n = sorted.length;
  if (n < 2 || sorted[0] <= 0 || sorted[0] === sorted[n - 1]) return null;
  const { sumLog, variance: logVar } = logVariance(sorted);
  const powerVar = quarterPowerVariances(sorted);
  let best: number | null = null;
  let bestLlf = -Infinity;
  for (const lambda of BOX_COX_GRID) {
    const variance = lambda === 0 ? logVar : (powerVar.get(lambda) as number) / (lambda * lambda);
    const llf = (lambda - 1) * sumLog - (n / 2) * Math.log(variance);
    if (llf > bestLlf) {
      bestLlf = llf;
      best = lambda;
    }
  }
  return best;
}

function dipPValue(sorted: Float64Array, method: DipPValueMethod): number | null {
  const n = sorted.length;
  if (n < 4) return null;
  const dip = dipStatistic(sorted) as number;
  if (method.kind === 'table') return dipPValueTable(dip, n);
  const rng = Xoshiro128ss.fromParts(...method.seedParts);
  return dipPValueBootstrap(dip, n, method.draws, () => rng.nextDouble());
}

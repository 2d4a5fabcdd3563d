/**
 * kde_peaks (DESIGN 5.3): Gaussian KDE with bandwidth h = 1.06·stddev·n^(−1/5) evaluated at 129
 * evenly spaced points on [min, max]; the number of points where the forward difference goes
 * from > 0 straight to < 0 (an exact zero difference in between breaks the pair), at least 1.
 * n < 3 → n; all values equal (stddev 0, a single point mass) → 1.
 *
 * Speed: the density at a grid point t is summed only over the sorted values within R·h of t
 * (R = 9, one binary search per side). Every dropped term is below e^(−R²/2) ≈ 2.6e−18, so each
 * truncated density is within n·e^(−R²/2) of the full sum. A difference whose magnitude is not
 * clearly above twice that bound plus a rounding allowance has its two densities recomputed over
 * all n values (the allowance also covers a worst-case n·ε summation rounding), so the sign
 * pattern, hence the count, equals that of the full sum.
 */

export const KDE_GRID_POINTS = 129;
const CUTOFF_SIGMAS = 9;
const TAIL_TERM = Math.exp(-(CUTOFF_SIGMAS * CUTOFF_SIGMAS) / 2);

/** Unnormalised Gaussian kernel sum Σ exp(−½((t − x_i)/h)²) over sorted[from..to). */
function kernelSum(sorted: ArrayLike<number>, from: number, to: number, t: number, h: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) {
    const z = (t - sorted[i]) / h;
    sum += Math.exp(-0.5 * z * z);
  }
  return sum;
}

/** First index i with sorted[i] >= v (sorted.length if none). */
export function lowerBound(sorted: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with sorted[i] > v. */
function upperBound(sorted: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function kdeGrid(min: number, max: number): Float64Array {
  const grid = new Float64Array(KDE_GRID_POINTS);
  const step = (max - min) / (KDE_GRID_POINTS - 1);
  // As numpy.linspace: j·step + min, with the last point exactly max.
  for (let j = 0; j < KDE_GRID_POINTS; j++) grid[j] = j * step + min;
  grid[KDE_GRID_POINTS - 1] = max;
  return grid;
}

export function kdeBandwidth(stddev: number, n: number): number {
  return 1.06 * stddev * Math.pow(n, -0.2);
}

/** Densities at the grid, truncated at ±R·h, with exact recomputation where a sign is in doubt. */
function densities(sorted: ArrayLike<number>, grid: Float64Array, h: number): Float64Array {
  const n = sorted.length;
  const dens = new Float64Array(grid.length);
  const exact = new Uint8Array(grid.length);
  for (let j = 0; j < grid.length; j++) {
    const from = lowerBound(sorted, grid[j] - CUTOFF_SIGMAS * h);
    const to = upperBound(sorted, grid[j] + CUTOFF_SIGMAS * h);
    dens[j] = kernelSum(sorted, from, to, grid[j], h);
    exact[j] = from === 0 && to === n ? 1 : 0;
  }
  // Tail bound for both densities plus a worst-case bound on summation rounding (n·ε each).
  const doubt = 2 * n * TAIL_TERM;
  const rounding = 2 * n * Number.EPSILON;
  for (let j = 0; j + 1 < grid.length; j++) {
    if (exact[j] && exact[j + 1]) continue;
    const diff = dens[j + 1] - dens[j];
    if (Math.abs(diff) > doubt + rounding * Math.max(dens[j], dens[j + 1])) continue;
    for (const k of [j, j + 1]) {
      if (exact[k]) continue;
      dens[k] = kernelSum(sorted, 0, n, grid[k], h);
      exact[k] = 1;
    }
  }
  return dens;
}

/** Peaks counted on a density already evaluated at the grid. */
export function countPeaks(dens: ArrayLike<number>): number {
  let peaks = 0;
  let prev = dens[1] - dens[0];
  for (let j = 1; j + 1 < dens.length; j++) {
    const diff = dens[j + 1] - dens[j];
    if (prev > 0 && diff < 0) peaks++;
    prev = diff;
  }
  return Math.max(peaks, 1);
}

/** kde_peaks of an ascending-sorted sample with its sample standard deviation. */
export function kdePeaks(sorted: ArrayLike<number>, stddev: number | null): number {
  const n = sorted.length;
  if (n < 3) return n;
  if (stddev === null || stddev === 0 || sorted[0] === sorted[n - 1]) return 1;
  const h = kdeBandwidth(stddev, n);
  return countPeaks(densities(sorted, kdeGrid(sorted[0], sorted[n - 1]), h));
}

/** The same count with every density summed over all n values (the definition; test oracle). */
export function kdePeaksExact(sorted: ArrayLike<number>, stddev: number | null): number {
  const n = sorted.length;
  if (n < 3) return n;
  if (stddev === null || stddev === 0 || sorted[0] === sorted[n - 1]) return 1;
  const h = kdeBandwidth(stddev, n);
  const grid = kdeGrid(sorted[0], sorted[n - 1]);
  return countPeaks(grid.map((t) => kernelSum(sorted, 0, n, t, h)));
}

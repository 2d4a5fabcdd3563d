/**
 * Hartigan & Hartigan (1985) dip statistic and its p-value.
 *
 * Written from the algorithm in the paper (section 3): with the sample sorted, keep a modal
 * interval [lo, hi] (indices), starting with the whole sample and D = 0. Repeat:
 *   1. G = greatest convex minorant and L = least concave majorant of the empirical distribution
 *      function F on [x_lo, x_hi];
 *   2. d = largest L − G at the interior touching points of G and L; stop if d < D;
 *   3. the new modal interval runs from the G touching point at or left of the maximiser to the L
 *      touching point at or right of it; D = max(D, sup |G − F| on [old lo, new lo],
 *      sup |L − F| on [new hi, old hi]);
 * and return dip = D / 2. Distances are kept in counts (units of 1/n). G touches F at left limits
 * (x_i, i) and L at right values (x_i, i + 1) (0-based i), so both hulls are built on the points
 * (x_i, i) and L is shifted up by one jump. The statistic is never below 1/(2n), as in R's
 * `dip()` default (`min.is.0 = FALSE`) on which the p-value table is calibrated.
 */
import { DIP_TABLE_N, DIP_TABLE_PROB, DIP_TABLE_QUANTILE } from './dipTable';

/**
 * Andrew's monotone chain over the points (x_i, i), lo ≤ i ≤ hi, left to right, for the lower
 * (convex) or upper (concave) hull, collinear points dropped. It keeps no stack: `before[i]` is the
 * point under i once i is pushed, so the stack after point h is h, before[h], before[before[h]], ….
 */
function chain(x: ArrayLike<number>, lower: boolean, before: Int32Array, lo: number, hi: number): void {
  before[lo] = lo;
  for (let i = lo + 1; i <= hi; i++) {
    let b = i - 1;
    while (b > lo) {
      const a = before[b];
      // cross((a), (b), (i)) with y = index: > 0 is a left (convex) turn.
      const cross = (x[b] - x[a]) * (i - a) - (b - a) * (x[i] - x[a]);
      if (lower ? cross > 0 : cross < 0) break;
      b = a;
    }
    before[i] = b;
  }
}

/**
 * Indices of the hull of the points lo..hi into `out`, ascending; its length. Read off the chain when
 * lo is still on its stack after hi: the chain then made the same decisions above lo as a chain begun
 * at lo, so the hull is the same to the bit. Otherwise the chain is made again from lo. The modal
 * interval only shrinks, and its new lower end is a vertex of the convex hull (which stays a vertex
 * of the hull of any subset holding it), so after the first chain the convex hull is never made
 * again (AS 217's `mn` chain), and the concave one only when that end is not on it: 0.4 times a dip
 * on dollar values, against once per iteration for both hulls before (the dip in half the time).
 */
function hull(x: ArrayLike<number>, lower: boolean, before: Int32Array, lo: number, hi: number, out: Int32Array): number {
  let len = 1;
  let i = hi;
  for (; i > lo; i = before[i]) len++;
  if (i !== lo) {
    chain(x, lower, before, lo, hi);
    return hull(x, lower, before, lo, hi, out);
  }
  for (let k = len - 1, j = hi; k >= 0; k--, j = before[j]) out[k] = j;
  return len;
}

/** Line through the points (x_a, a) and (x_b, b), evaluated at x_j, relative to a. */
function rise(x: ArrayLike<number>, a: number, b: number, j: number): number {
  return ((x[j] - x[a]) * (b - a)) / (x[b] - x[a]);
}

/** sup (F − G) over the GCM segments from vertex index `from` to `to` (positions in `gcm`). */
function gcmDeviation(x: ArrayLike<number>, gcm: Int32Array, from: number, to: number): number {
  let worst = 1;
  for (let s = from; s < to; s++) {
    const a = gcm[s];
    const b = gcm[s + 1];
    if (b - a <= 1 || x[b] === x[a]) continue;
    for (let j = a + 1; j < b; j++) {
      const t = j - a + 1 - rise(x, a, b, j);
      if (t > worst) worst = t;
    }
  }
  return worst;
}

/** sup (L − F) over the LCM segments from vertex position `from` to `to`. */
function lcmDeviation(x: ArrayLike<number>, lcm: Int32Array, from: number, to: number): number {
  let worst = 1;
  for (let s = from; s < to; s++) {
    const c = lcm[s];
    const e = lcm[s + 1];
    if (e - c <= 1 || x[e] === x[c]) continue;
    for (let j = c + 1; j < e; j++) {
      const t = rise(x, c, e, j) - (j - c - 1);
      if (t > worst) worst = t;
    }
  }
  return worst;
}

interface Widest {
  d: number;
  /** Position in gcm of the new lower end, and in lcm of the new upper end. */
  g: number;
  l: number;
}

/**
 * Largest L − G over the interior touching points, scanned in ascending order (a G point first
 * when both touch at the same index); on equal distances the later point wins.
 */
function widestGap(x: ArrayLike<number>, gcm: Int32Array, nG: number, lcm: Int32Array, nL: number): Widest {
  const best: Widest = { d: 0, g: 0, l: nL - 1 };
  let ig = 1;
  let il = 1;
  while (ig < nG - 1 || il < nL - 1) {
    const gi = gcm[Math.min(ig, nG - 1)];
    const li = lcm[Math.min(il, nL - 1)];
    if (ig < nG - 1 && gi <= li) {
      // G touching point gi lies on the L segment (lcm[il-1], lcm[il]].
      const c = lcm[il - 1];
      const dx = rise(x, c, lcm[il], gi) - (gi - c - 1);
      if (dx >= best.d) Object.assign(best, { d: dx, g: ig, l: il });
      ig++;
    } else {
      // L touching point li lies on the G segment [gcm[ig-1], gcm[ig]).
      const a = gcm[ig - 1];
      const dx = li - a + 1 - rise(x, a, gcm[ig], li);
      if (dx >= best.d) Object.assign(best, { d: dx, g: ig - 1, l: il });
      il++;
    }
  }
  if (nG === 2 && nL === 2) best.d = 1;
  return best;
}

/** Dip statistic of an ascending-sorted sample; null for n = 0. */
export function dipStatistic(sorted: ArrayLike<number>): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  if (n < 3 || sorted[0] === sorted[n - 1]) return 1 / (2 * n);
  const gcm = new Int32Array(n);
  const lcm = new Int32Array(n);
  const gcmChain = new Int32Array(n);
  const lcmChain = new Int32Array(n);
  chain(sorted, true, gcmChain, 0, n - 1);
  chain(sorted, false, lcmChain, 0, n - 1);
  let lo = 0;
  let hi = n - 1;
  let dip = 1;
  for (;;) {
    const nG = hull(sorted, true, gcmChain, lo, hi, gcm);
    const nL = hull(sorted, false, lcmChain, lo, hi, lcm);
    const w = widestGap(sorted, gcm, nG, lcm, nL);
    if (w.d < dip) break;
    const deviation = Math.max(gcmDeviation(sorted, gcm, 0, w.g), lcmDeviation(sorted, lcm, w.l, nL - 1));
    if (deviation > dip) dip = deviation;
    const newLo = gcm[w.g];
    const newHi = lcm[w.l];
    if (newLo === lo && newHi === hi) break;
    lo = newLo;
    hi = newHi;
  }
  return dip / (2 * n);
}

/**
 * P-value by linear interpolation in the null table, as R's `dip.test` does: the table row for n
 * is interpolated linearly in n between the neighbouring tabulated sizes on the √n·dip scale; the
 * probability P(dip ≤ observed) is read off by linear interpolation (clamped to [0, 1] outside
 * the row, and at a run of equal table values the last one applies); p = 1 − that probability.
 * Beyond the largest tabulated n (72 000) the last row is used as the asymptotic null.
 * Null for n < 4.
 */
export function dipPValueTable(dip: number, n: number): number | null {
  if (n < 4) return null;
  const sizes = DIP_TABLE_N;
  let i1 = sizes.findIndex((s) => s >= n);
  if (i1 < 0) i1 = sizes.length - 1;
  const i0 = Math.max(0, sizes[i1] >= n ? i1 - 1 : i1);
  const n0 = sizes[i0];
  const n1 = sizes[i1];
  const row0 = DIP_TABLE_QUANTILE[i0];
  const row1 = DIP_TABLE_QUANTILE[i1];
  const f = i0 === i1 ? 0 : (n - n0) / (n1 - n0);
  const xp = row0.map((q, j) => {
    const y0 = Math.sqrt(n0) * q;
    return i0 === i1 ? y0 : y0 + f * (Math.sqrt(n1) * row1[j] - y0);
  });
  return 1 - interpolateClamped(Math.sqrt(n) * dip, xp, DIP_TABLE_PROB);
}

function interpolateClamped(v: number, xp: readonly number[], fp: readonly number[]): number {
  const last = xp.length - 1;
  if (v < xp[0]) return fp[0];
  if (v >= xp[last]) return fp[last];
  let k = 0;
  while (k < last && xp[k + 1] <= v) k++;
  if (v === xp[k]) return fp[k];
  return fp[k] + ((fp[k + 1] - fp[k]) * (v - xp[k])) / (xp[k + 1] - xp[k]);
}

/** A source of uniform doubles in [0, 1). */
export type UniformSource = () => number;

/**
 * Bootstrap p-value: the fraction of `draws` uniform samples of size n whose dip is ≥ the
 * observed dip (R's `dip.test(simulate.p.value = TRUE)` rule). Null for n < 4.
 * Cost is draws × (n log n), so it is opt-in.
 */
export function dipPValueBootstrap(dip: number, n: number, draws: number, uniform: UniformSource): number | null {
  if (n < 4) return null;
  if (!Number.isInteger(draws) || draws < 1) throw new RangeError(`bootstrap draws must be a positive integer, got ${draws}`);
  const sample = new Float64Array(n);
  let atLeast = 0;
  for (let b = 0; b < draws; b++) {
    for (let i = 0; i < n; i++) sample[i] = uniform();
    sample.sort();
    if ((dipStatistic(sample) as number) >= dip) atLeast++;
  }
  return atLeast / draws;
}

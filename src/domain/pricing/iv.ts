/**
 * Implied volatility from a trade price, exactly as DESIGN 5.1 (carried over from the Rust
 * system):
 *
 * 1. price < intrinsic(S) − 1e-4 → no IV, PRICE_BELOW_INTRINSIC (intrinsic undiscounted, at S).
 * 2. Newton from σ = 0.3, each iterate clamped to [1e-4, 5], at most 50 steps; converged when
 *    |model − price| < 1e-4 or |model − price| < 1e-6·price.
 * 3. If Newton does not converge: IV_NEWTON_FAIL, then bisection on [1e-4, 5] with the same
 *    tolerance, at most 150 steps; if that fails too: IV_BISECT_FAIL and no IV.
 *
 * Two additions that do not change which trades get an IV:
 * - Once converged, up to IV_REFINE_MAX_STEPS further Newton steps are taken, each kept only if
 *   it reprices the trade strictly better. The 1e-4 price tolerance alone leaves σ off by up to
 *   1e-4/vega (1e-2 for a short-dated wing); refined, the IV reprices the trade to ~1e-13.
 * - A loop that can no longer change (Newton at a fixed point or in a 2-cycle, typically
 *   bouncing between the bounds; a price outside [price(1e-4), price(5)] ± tolerance, which
 *   bisection can only chase down to adjacent doubles) stops early: the remaining steps would
 *   end the same way.
 *
 * VEGA_TINY is set when the vega at the reported IV is below VEGA_TINY_THRESHOLD (1e-4 price
 * units per 1.00 of vol): then a price change as small as the tolerance moves σ by more than
 * 1.00, so the IV is ill-determined (typically deep in-the-money, or at the 1e-4 / 5 bounds).
 * The IV and Greeks are still reported (Δ and Γ are near their σ-independent limits there); a
 * consumer that needs a meaningful σ drops such trades.
 */
import type { OptionRight } from '../records';
import { BsmContract } from './bsm';
import { FLAGS } from './flags';

export const IV_MIN = 1e-4;
export const IV_MAX = 5;
export const IV_START = 0.3;
export const IV_ABS_TOL = 1e-4;
export const IV_REL_TOL = 1e-6;
export const IV_NEWTON_MAX_STEPS = 50;
export const IV_BISECT_MAX_STEPS = 150;
export const BELOW_INTRINSIC_TOL = 1e-4;
export const VEGA_TINY_THRESHOLD = 1e-4;
export const IV_REFINE_MAX_STEPS = 4;
/** Refinement stops once the next Newton move is below this fraction of σ. */
const REFINE_STOP = 1e-12;

/** Reusable solver: `solve` returns σ or null and leaves the flags and step counts behind. */
export class ImpliedVolSolver {
  /** IV_NEWTON_FAIL | IV_BISECT_FAIL | VEGA_TINY | PRICE_BELOW_INTRINSIC | NO_IV of the last solve. */
  flags = 0;
  newtonSteps = 0;
  bisectSteps = 0;
  /** Vega at the returned σ (0 when none). */
  vega = 0;

  solve(contract: BsmContract, price: number): number | null {
    this.flags = 0;
    this.newtonSteps = 0;
    this.bisectSteps = 0;
    this.vega = 0;
    if (!(price > 0) || !Number.isFinite(price)) {
      return this.fail(FLAGS.IV_NEWTON_FAIL | FLAGS.IV_BISECT_FAIL);
    }
    const intrinsic = contract.isCall ? contract.s - contract.k : contract.k - contract.s;
    if (price < intrinsic - BELOW_INTRINSIC_TOL) return this.fail(FLAGS.PRICE_BELOW_INTRINSIC);
    const tol = Math.max(IV_ABS_TOL, IV_REL_TOL * price);
    const newton = this.newton(contract, price, tol);
    if (newton !== null) return this.finish(newton);
    this.flags |= FLAGS.IV_NEWTON_FAIL;
    const bisected = this.bisect(contract, price, tol);
    if (bisected !== null) return this.finish(bisected);
    return this.fail(FLAGS.IV_BISECT_FAIL);
  }

  private newton(contract: BsmContract, price: number, tol: number): number | null {
    let sigma = IV_START;
    let previous = NaN;
    for (let step = 1; step <= IV_NEWTON_MAX_STEPS; step++) {
      this.newtonSteps = step;
      const diff = contract.priceAndVega(sigma) - price;
      if (Math.abs(diff) < tol) return this.refine(contract, price, sigma, diff);
      const next = clamp(sigma - diff / contract.lastVega);
      // A fixed point or a 2-cycle (typically bouncing between the bounds) would repeat to the
      // step limit with the same outcome.
      if (next === sigma || next === previous) return null;
      previous = sigma;
      sigma = next;
    }
    return null;
  }

  private bisect(contract: BsmContract, price: number, tol: number): number | null {
    let lo = IV_MIN;
    let hi = IV_MAX;
    // The price is increasing in σ: a target beyond the bracket's prices by more than the
    // tolerance can never be met, so the bisection would only run down to adjacent doubles.
    if (contract.priceAndVega(lo) - price > tol || price - contract.priceAndVega(hi) > tol) return null;
    for (let step = 1; step <= IV_BISECT_MAX_STEPS; step++) {
      this.bisectSteps = step;
      const mid = 0.5 * (lo + hi);
      const diff = contract.priceAndVega(mid) - price;
      if (Math.abs(diff) < tol) return this.refine(contract, price, mid, diff);
      if (mid === lo || mid === hi) return null;
      if (diff > 0) hi = mid;
      else lo = mid;
    }
    return null;
  }

  /**
   * Newton steps from a converged σ while each one reprices strictly better, at most
   * IV_REFINE_MAX_STEPS. Leaves the vega at the returned σ in `this.vega`.
   */
  private refine(contract: BsmContract, price: number, sigma: number, diff: number): number {
    let vega = contract.lastVega;
    for (let step = 0; step < IV_REFINE_MAX_STEPS && vega > 0; step++) {
      const move = diff / vega;
      if (!(Math.abs(move) > REFINE_STOP * sigma)) break;
      const next = clamp(sigma - move);
      const nextDiff = contract.priceAndVega(next) - price;
      if (!(Math.abs(nextDiff) < Math.abs(diff))) break;
      sigma = next;
      diff = nextDiff;
      vega = contract.lastVega;
    }
    this.vega = vega;
    return sigma;
  }

  private finish(sigma: number): number {
    if (this.vega < VEGA_TINY_THRESHOLD) this.flags |= FLAGS.VEGA_TINY;
    return sigma;
  }

  private fail(flags: number): null {
    this.flags |= flags | FLAGS.NO_IV;
    return null;
  }
}

function clamp(sigma: number): number {
  return sigma < IV_MIN ? IV_MIN : sigma > IV_MAX ? IV_MAX : sigma;
}

export interface ImpliedVolResult {
  iv: number | null;
  flags: number;
  vega: number | null;
}

const sharedContract = new BsmContract();
const sharedSolver = new ImpliedVolSolver();

/** Implied volatility of one trade price (allocates the result; use ImpliedVolSolver in loops). */
export function impliedVol(
  right: OptionRight,
  price: number,
  s: number,
  k: number,
  tau: number,
  r: number,
  q: number,
): ImpliedVolResult {
  const iv = sharedSolver.solve(sharedContract.set(right, s, k, tau, r, q), price);
  return { iv, flags: sharedSolver.flags, vega: iv === null ? null : sharedSolver.vega };
}

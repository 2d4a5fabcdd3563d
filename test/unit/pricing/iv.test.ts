import cases from '../../fixtures/pricing/iv.json';
import { BsmContract, bsmPrice } from '../../../src/domain/pricing/bsm';
import { describeFlags, FLAGS } from '../../../src/domain/pricing/flags';
import { ImpliedVolSolver, impliedVol, VEGA_TINY_THRESHOLD } from '../../../src/domain/pricing/iv';
import type { OptionRight } from '../../../src/domain/records';

describe('impliedVol', () => {
  it('matches scipy brentq IVs of cent-rounded trade prices to 1e-8', () => {
    for (const c of cases) {
      const { iv, flags } = impliedVol(c.right as OptionRight, c.price, c.S, c.K, c.tau, c.r, c.q);
      expect(flags).toBe(0);
      expect(Math.abs((iv ?? NaN) - c.iv)).toBeLessThan(1e-8);
    }
  });

  it('round-trips price(σ) → IV → σ within 1e-6 wherever vega is not tiny', () => {
    // Grid of moneyness × τ (1 hour … 2 years) × σ (0.05 … 4.5). Skipped: prices whose value
    // above the no-arbitrage bound max(S·e^{−qτ} − K·e^{−rτ}, 0) (the only part σ can explain) is
    // below half the 0.01 tick, so the 1e-4 tolerance swamps it; and
    // European ITM puts worth less than intrinsic (r > 0), which must be PRICE_BELOW_INTRINSIC.
    const contract = new BsmContract();
    const solver = new ImpliedVolSolver();
    let checked = 0;
    let belowIntrinsic = 0;
    let vegaTiny = 0;
    let worst = 0;
    for (const right of ['C', 'P'] as const) {
      for (const moneyness of [0.6, 0.8, 0.9, 0.97, 1, 1.03, 1.1, 1.25, 1.6]) {
        for (const tau of [1 / 365 / 24, 1 / 365, 7 / 365, 30 / 365, 0.5, 2]) {
          for (const sigma of [0.05, 0.12, 0.3, 0.8, 1.5, 3, 4.5]) {
            const s = 600 * moneyness;
            contract.set(right, s, 600, tau, 0.045, 0.012);
            const price = contract.priceAndVega(sigma);
            const vega = contract.lastVega;
            const intrinsic = right === 'C' ? Math.max(s - 600, 0) : Math.max(600 - s, 0);
            const iv = solver.solve(contract, price);
            if (price < intrinsic - 1e-4) {
              expect(solver.flags).toBe(FLAGS.NO_IV | FLAGS.PRICE_BELOW_INTRINSIC);
              belowIntrinsic++;
              continue;
            }
            if (vega < VEGA_TINY_THRESHOLD || price - lowerBound(right, s, tau) < 0.005) continue;
            expect(solver.flags & FLAGS.NO_IV).toBe(0);
            if (solver.flags & FLAGS.VEGA_TINY) {
              // Flat price in σ at the solution (e.g. deep ITM, value ≈ forward intrinsic): any σ
              // there reprices the trade within the tolerance, which is what the flag says.
              expect(solver.vega).toBeLessThan(VEGA_TINY_THRESHOLD);
              expect(Math.abs(contract.priceAndVega(iv ?? NaN) - price)).toBeLessThan(Math.max(1e-4, 1e-6 * price));
              vegaTiny++;
              continue;
            }
            worst = Math.max(worst, Math.abs((iv ?? NaN) - sigma));
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(450);
    expect(belowIntrinsic).toBeGreaterThan(20);
    expect(vegaTiny).toBeLessThanOrEqual(2);
    expect(worst).toBeLessThan(1e-6);
  });

  it('converges by Newton from 0.3 in a few steps for an at-the-money trade', () => {
    const solver = new ImpliedVolSolver();
    const contract = new BsmContract().set('C', 650, 650, 7 / 365, 0.045, 0.012);
    const iv = solver.solve(contract, contract.priceAndVega(0.16));
    expect(iv).toBeCloseTo(0.16, 9);
    expect(solver.newtonSteps).toBeLessThanOrEqual(4);
    expect(solver.bisectSteps).toBe(0);
  });

  it('flags PRICE_BELOW_INTRINSIC (no IV) only below intrinsic − 1e-4', () => {
    const below = impliedVol('C', 9.99, 110, 100, 0.1, 0.045, 0);
    expect(below.iv).toBeNull();
    expect(below.vega).toBeNull();
    expect(describeFlags(below.flags)).toEqual(['NO_IV', 'PRICE_BELOW_INTRINSIC']);
    const put = impliedVol('P', 4.5, 95, 100, 0.1, 0.045, 0);
    expect(describeFlags(put.flags)).toEqual(['NO_IV', 'PRICE_BELOW_INTRINSIC']);
    const withinTolerance = impliedVol('C', 10 - 0.00009, 110, 100, 0.1, 0, 0);
    expect(withinTolerance.flags & FLAGS.PRICE_BELOW_INTRINSIC).toBe(0);
  });

  it('falls back to bisection when Newton cannot converge (bouncing between the bounds)', () => {
    // Far-OTM call at σ = 0.8: from 0.3 Newton jumps to 3.39, then alternates between the
    // clamps 1e-4 (vega 0) and 5; bisection finds it.
    const solver = new ImpliedVolSolver();
    const contract = new BsmContract().set('C', 360, 600, 0.5, 0.045, 0.012);
    const target = contract.priceAndVega(0.8);
    const iv = solver.solve(contract, target);
    expect(Math.abs((iv ?? NaN) - 0.8)).toBeLessThan(1e-9);
    expect(describeFlags(solver.flags)).toEqual(['IV_NEWTON_FAIL']);
    expect(solver.newtonSteps).toBe(4);
    expect(solver.bisectSteps).toBeGreaterThan(0);
  });

  it('flags IV_NEWTON_FAIL and IV_BISECT_FAIL when the price is above the σ=5 price', () => {
    const contract = new BsmContract().set('C', 100, 100, 0.25, 0.03, 0);
    const solver = new ImpliedVolSolver();
    const iv = solver.solve(contract, contract.priceAndVega(5) + 0.5);
    expect(iv).toBeNull();
    expect(describeFlags(solver.flags)).toEqual(['NO_IV', 'IV_NEWTON_FAIL', 'IV_BISECT_FAIL']);
    expect(solver.newtonSteps).toBeLessThanOrEqual(50);
    expect(solver.bisectSteps).toBeLessThanOrEqual(150);
  });

  it('flags VEGA_TINY for a deep in-the-money trade at intrinsic, keeping the IV', () => {
    const solver = new ImpliedVolSolver();
    const contract = new BsmContract().set('C', 650, 500, 2 / 365, 0.045, 0);
    const iv = solver.solve(contract, 150 + 500 * (1 - Math.exp(-0.045 * 2 / 365)));
    expect(iv).not.toBeNull();
    expect(solver.vega).toBeLessThan(VEGA_TINY_THRESHOLD);
    expect(describeFlags(solver.flags)).toEqual(['VEGA_TINY']);
  });

  it('gives no IV for a non-positive or non-finite price', () => {
    for (const price of [0, -1, NaN, Infinity]) {
      const result = impliedVol('C', price, 100, 100, 0.5, 0.04, 0);
      expect(result.iv).toBeNull();
      expect(result.flags & FLAGS.NO_IV).toBe(FLAGS.NO_IV);
    }
  });

  it('agrees with bsmPrice: the solved IV reprices the trade to within the tolerance', () => {
    const { iv } = impliedVol('P', 3.1, 650, 640, 7 / 365, 0.045, 0.012);
    expect(Math.abs(bsmPrice('P', 650, 640, 7 / 365, 0.045, 0.012, iv ?? NaN) - 3.1)).toBeLessThan(1e-10);
  });
});

/** BSM lower bound of the K = 600 option (r = 4.5 %, q = 1.2 %), the value at σ → 0. */
function lowerBound(right: 'C' | 'P', s: number, tau: number): number {
  const forwardIntrinsic = s * Math.exp(-0.012 * tau) - 600 * Math.exp(-0.045 * tau);
  return Math.max(right === 'C' ? forwardIntrinsic : -forwardIntrinsic, 0);
}

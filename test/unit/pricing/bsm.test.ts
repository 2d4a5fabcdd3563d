import cases from '../../fixtures/pricing/bsm.json';
import { BsmContract, bsmGreeks, bsmPrice, intrinsicValue, type Greeks } from '../../../src/domain/pricing/bsm';
import type { OptionRight } from '../../../src/domain/records';
import { blackScholesPackage } from './oracles';

const right = (r: string): OptionRight => (r === 'C' ? 'C' : 'P');

describe('BSM price', () => {
  it('matches Hull (S=42, K=40, r=10%, σ=20%, T=0.5): call 4.76, put 0.81', () => {
    expect(bsmPrice('C', 42, 40, 0.5, 0.1, 0, 0.2).toFixed(2)).toBe('4.76');
    expect(bsmPrice('P', 42, 40, 0.5, 0.1, 0, 0.2).toFixed(2)).toBe('0.81');
  });

  it('matches 40-digit mpmath prices, dividend yield included', () => {
    for (const c of cases) {
      const got = bsmPrice(right(c.right), c.S, c.K, c.tau, c.r, c.q, c.sigma);
      expect(Math.abs(got - c.price)).toBeLessThan(1e-12 * Math.max(1, c.S));
    }
  });

  it('matches the black-scholes npm package to 1e-9 over moneyness × τ × σ (q = 0)', () => {
    let worst = 0;
    let count = 0;
    for (const moneyness of [0.5, 0.7, 0.9, 0.97, 1, 1.03, 1.1, 1.3, 1.6, 2]) {
      for (const tau of [1 / 365, 7 / 365, 30 / 365, 0.25, 1, 2]) {
        for (const sigma of [0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3]) {
          for (const r of [0, 0.045]) {
            const s = 100 * moneyness;
            for (const cp of ['call', 'put'] as const) {
              const ours = bsmPrice(cp === 'call' ? 'C' : 'P', s, 100, tau, r, 0, sigma);
              const theirs = blackScholesPackage.blackScholes(s, 100, tau, sigma, r, cp);
              worst = Math.max(worst, Math.abs(ours - theirs));
              count++;
            }
          }
        }
      }
    }
    expect(count).toBe(1680);
    expect(worst).toBeLessThan(1e-9);
  });

  it('satisfies put–call parity C − P = S·e^{−qτ} − K·e^{−rτ} to 1e-10', () => {
    for (const s of [50, 95, 100, 105, 200]) {
      for (const tau of [1 / 365 / 24, 0.1, 1.5]) {
        for (const sigma of [0.08, 0.3, 1.2]) {
          const [k, r, q] = [100, 0.04, 0.015];
          const parity = s * Math.exp(-q * tau) - k * Math.exp(-r * tau);
          const diff = bsmPrice('C', s, k, tau, r, q, sigma) - bsmPrice('P', s, k, tau, r, q, sigma);
          expect(Math.abs(diff - parity)).toBeLessThan(1e-10);
        }
      }
    }
  });

  it('gives intrinsic max(S−K,0) / max(K−S,0)', () => {
    expect(intrinsicValue('C', 105, 100)).toBe(5);
    expect(intrinsicValue('C', 95, 100)).toBe(0);
    expect(intrinsicValue('P', 95, 100)).toBe(5);
    expect(intrinsicValue('P', 105, 100)).toBe(0);
  });
});

describe('BSM Greeks', () => {
  it('match mpmath numerical derivatives of the 40-digit price', () => {
    for (const c of cases) {
      const g = bsmGreeks(right(c.right), c.S, c.K, c.tau, c.r, c.q, c.sigma);
      expect(relErr(g.delta, c.delta)).toBeLessThan(1e-10);
      expect(relErr(g.gamma, c.gamma)).toBeLessThan(1e-9);
      expect(relErr(g.vega, c.vega)).toBeLessThan(1e-10);
      expect(relErr(g.theta, c.theta)).toBeLessThan(1e-9);
    }
  });

  it('match central finite differences of our own price (vega per 1.00 vol, θ per year)', () => {
    const contract = new BsmContract();
    const out: Greeks = { price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 };
    for (const r of ['C', 'P'] as const) {
      for (const [s, k, tau, rate, q, sigma] of [
        [100, 100, 0.5, 0.05, 0.02, 0.25],
        [650, 600, 20 / 365, 0.043, 0.012, 0.17],
        [30, 45, 1.8, 0.01, 0.03, 0.7],
      ]) {
        contract.set(r, s, k, tau, rate, q).greeks(sigma, out);
        const price = (ss: number, tt: number, vv: number) => bsmPrice(r, ss, k, tt, rate, q, vv);
        const hs = s * 1e-4;
        const hd = s * 1e-6;
        const fdDelta = (price(s + hd, tau, sigma) - price(s - hd, tau, sigma)) / (2 * hd);
        const fdGamma = (price(s + hs, tau, sigma) - 2 * price(s, tau, sigma) + price(s - hs, tau, sigma)) / (hs * hs);
        const fdVega = (price(s, tau, sigma + 1e-5) - price(s, tau, sigma - 1e-5)) / 2e-5;
        const fdTheta = -(price(s, tau + 1e-6, sigma) - price(s, tau - 1e-6, sigma)) / 2e-6;
        expect(out.price).toBeCloseTo(price(s, tau, sigma), 12);
        expect(relErr(out.delta, fdDelta)).toBeLessThan(1e-6);
        expect(relErr(out.gamma, fdGamma)).toBeLessThan(1e-4);
        expect(relErr(out.vega, fdVega)).toBeLessThan(1e-6);
        expect(relErr(out.theta, fdTheta)).toBeLessThan(1e-5);
      }
    }
  });

  it('has Hull Δ of the 42/40 call = 0.7791 and put = −0.2209', () => {
    expect(bsmGreeks('C', 42, 40, 0.5, 0.1, 0, 0.2).delta).toBeCloseTo(0.7791, 4);
    expect(bsmGreeks('P', 42, 40, 0.5, 0.1, 0, 0.2).delta).toBeCloseTo(-0.2209, 4);
  });
});

function relErr(got: number, want: number): number {
  return Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);
}

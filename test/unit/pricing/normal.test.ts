import cases from '../../fixtures/pricing/normal-cdf.json';
import { normCdf, normCdfWithGaussian, normPdf } from '../../../src/domain/pricing/normal';

describe('normCdf (Cody) against scipy.special.ndtr and 40-digit mpmath', () => {
  it('has absolute error below 1e-14 everywhere on [-40, 40]', () => {
    let worst = 0;
    for (const { x, scipy, exact } of cases) {
      const got = normCdf(x);
      expect(Math.abs(got - scipy)).toBeLessThan(1e-14);
      worst = Math.max(worst, Math.abs(got - exact));
    }
    expect(worst).toBeLessThan(1e-15);
  });

  it('keeps relative accuracy in the lower tail', () => {
    for (const { x, exact } of cases) {
      if (x > -1 || exact === 0) continue;
      expect(Math.abs(normCdf(x) / exact - 1)).toBeLessThan(1e-13);
    }
  });

  it('is exact at 0, symmetric, and saturates beyond the underflow limit', () => {
    expect(normCdf(0)).toBe(0.5);
    expect(normCdf(1.3) + normCdf(-1.3)).toBeCloseTo(1, 15);
    expect(normCdf(-39)).toBe(0);
    expect(normCdf(39)).toBe(1);
    expect(normCdf(Infinity)).toBe(1);
    expect(normCdf(-Infinity)).toBe(0);
    expect(Number.isNaN(normCdf(NaN))).toBe(true);
  });

  it('has the density as its derivative', () => {
    for (const x of [-6, -2.5, -0.3, 0, 0.7, 3]) {
      const h = 1e-5;
      const derivative = (normCdf(x + h) - normCdf(x - h)) / (2 * h);
      expect(Math.abs(derivative - normPdf(x))).toBeLessThan(1e-10);
    }
    expect(normPdf(0)).toBe(1 / Math.sqrt(2 * Math.PI));
  });
});

describe('normCdfWithGaussian', () => {
  it('equals Φ to 1e-15 absolute when given exp(−x²/2)', () => {
    for (const { x, exact } of cases) {
      expect(Math.abs(normCdfWithGaussian(x, Math.exp(-0.5 * x * x)) - exact)).toBeLessThan(1e-15);
    }
  });
});

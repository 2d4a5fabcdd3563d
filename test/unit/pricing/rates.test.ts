import { FLAGS } from '../../../src/domain/pricing/flags';
import {
  rateAt,
  rateCurveFromTenors,
  tenorYears,
} from '../../../src/domain/pricing/rates';

describe('tenorYears', () => {
  it('reads Massive-style tenors', () => {
    expect(tenorYears('1m')).toBe(1 / 12);
    expect(tenorYears('3M')).toBe(0.25);
    expect(tenorYears('10y')).toBe(10);
    expect(tenorYears('2w')).toBe(14 / 365);
    expect(tenorYears('30d')).toBe(30 / 365);
    expect(tenorYears('yield_3_month')).toBe(0.25);
    expect(tenorYears('yield_30_year')).toBe(30);
  });

  it('rejects anything else', () => {
    for (const bad of ['', 'm', '1q', '-1y', '0y', '1 year']) expect(() => tenorYears(bad)).toThrow(/tenor/);
  });
});

describe('rateAt', () => {
  const curve = rateCurveFromTenors({ '1y': 0.04, '1m': 0.05, '3m': 0.048, '10y': 0.042 });

  it('returns a constant rate as is, and NO_RATE for none', () => {
    expect(rateAt(0.045, 0.3)).toEqual({ rate: 0.045, flags: 0 });
    expect(rateAt(null, 0.3)).toEqual({ rate: null, flags: FLAGS.NO_RATE });
    expect(rateAt(NaN, 0.3)).toEqual({ rate: null, flags: FLAGS.NO_RATE });
  });

  it('hits the tenor rates exactly', () => {
    expect(rateAt(curve, 1 / 12).rate).toBeCloseTo(0.05, 15);
    expect(rateAt(curve, 0.25).rate).toBeCloseTo(0.048, 15);
    expect(rateAt(curve, 1).rate).toBeCloseTo(0.04, 15);
    expect(rateAt(curve, 10)).toEqual({ rate: 0.042, flags: 0 });
  });

  it('interpolates linearly in log discount factor, not in rate', () => {
    // Between 3m (r·t = 0.012) and 1y (r·t = 0.04) at t = 0.5: r·t = 0.012 + (0.25/0.75)·0.028.
    const expected = (0.012 + (0.25 / 0.75) * 0.028) / 0.5;
    expect(rateAt(curve, 0.5).rate).toBeCloseTo(expected, 15);
    expect(expected).not.toBeCloseTo(0.048 + (0.25 / 0.75) * (0.04 - 0.048), 6);
    const df = Math.exp(-(rateAt(curve, 0.5).rate ?? NaN) * 0.5);
    const dfEnds = [Math.exp(-0.012), Math.exp(-0.04)];
    expect(Math.log(df)).toBeCloseTo((2 * Math.log(dfEnds[0]) + Math.log(dfEnds[1])) / 3, 15);
  });

  it('is flat before the first tenor and flat with RATE_EXTRAP past the last', () => {
    expect(rateAt(curve, 1 / 365)).toEqual({ rate: 0.05, flags: 0 });
    expect(rateAt(curve, 12)).toEqual({ rate: 0.042, flags: FLAGS.RATE_EXTRAP });
  });

  it('rejects empty curves, duplicate tenors and non-finite rates', () => {
    expect(() => rateCurveFromTenors({})).toThrow(/no tenors/);
    expect(() => rateCurveFromTenors({ '12m': 0.04, '1y': 0.041 })).toThrow(/duplicate/);
    expect(() => rateCurveFromTenors({ '1y': NaN })).toThrow(/finite/);
  });
});

import { FLAGS } from '../../../src/domain/pricing/flags';
import { rateAt } from '../../../src/domain/pricing/rates';
import {
  continuousFromCompounded,
  continuousFromSimple,
  hasQuotedTenor,
  TREASURY_TENORS,
  treasuryCurve,
  treasuryYieldsFrom,
  TreasuryYieldsPercent,
} from '../../../src/domain/rates/treasury';

/**
 * Hand-computed references (30-digit decimal arithmetic, Python's decimal module, rounded to doubles):
 *   bill (simple ACT/365 over t years):  r = ln(1 + y·t) / t
 *   bond-equivalent (semiannual):        r = 2·ln(1 + y/2)
 */
const HAND = {
  bill3m5pct: 0.049690079994228614, // 4·ln(1.0125)
  bill1m005pct: 0.0004999895836226762, // 12·ln(1 + 0.0005/12)
  bill6m48pct: 0.04743305323463209, // 2·ln(1.024)
  bond1y42pct: 0.041565078365057004, // 2·ln(1.021)
  bond2y45pct: 0.044501217869639516, // 2·ln(1.0225)
  bond30y2pct: 0.019900661706336167, // 2·ln(1.01)
  /** τ = 0.75 between 6m and 1y, linear in r·t: (r6·0.5 + 0.5·(r1·1 − r6·0.5)) / 0.75 */
  interp075: 0.0435210699882487,
};

function yields(partial: Partial<TreasuryYieldsPercent>): TreasuryYieldsPercent {
  const all = Object.fromEntries(TREASURY_TENORS.map((t) => [t.field, null])) as Record<string, number | null>;
  return { ...all, ...partial } as TreasuryYieldsPercent;
}

describe('yield conversion to continuous compounding', () => {
  it('converts simple bill yields: r = ln(1 + y·t)/t', () => {
    expect(continuousFromSimple(0.05, 0.25)).toBeCloseTo(HAND.bill3m5pct, 16);
    expect(continuousFromSimple(0.0005, 1 / 12)).toBeCloseTo(HAND.bill1m005pct, 17);
    expect(continuousFromSimple(0.048, 0.5)).toBeCloseTo(HAND.bill6m48pct, 16);
  });

  it('converts semiannual bond-equivalent yields: r = 2·ln(1 + y/2)', () => {
    expect(continuousFromCompounded(0.042, 2)).toBeCloseTo(HAND.bond1y42pct, 16);
    expect(continuousFromCompounded(0.045, 2)).toBeCloseTo(HAND.bond2y45pct, 16);
    expect(continuousFromCompounded(0.02, 2)).toBeCloseTo(HAND.bond30y2pct, 16);
  });

  it('builds the curve from percent yields with the right basis per tenor', () => {
    const curve = treasuryCurve(yields({ yield_3_month: 5, yield_1_month: 0.05, yield_6_month: 4.8, yield_1_year: 4.2, yield_2_year: 4.5, yield_30_year: 2 }));
    expect(Array.from(curve.years)).toEqual([1 / 12, 0.25, 0.5, 1, 2, 30]);
    const expected = [HAND.bill1m005pct, HAND.bill3m5pct, HAND.bill6m48pct, HAND.bond1y42pct, HAND.bond2y45pct, HAND.bond30y2pct];
    Array.from(curve.rates).forEach((r, i) => expect(r).toBeCloseTo(expected[i], 16));
    expect(rateAt(curve, 0.25)).toEqual({ rate: curve.rates[1], flags: 0 });
    expect(rateAt(curve, 0.75).rate).toBeCloseTo(HAND.interp075, 16);
    // discount factor at 0.75 is the geometric interpolation of those at 0.5 and 1
    const df = (t: number) => Math.exp(-(rateAt(curve, t).rate ?? NaN) * t);
    expect(df(0.75)).toBeCloseTo(Math.sqrt(df(0.5) * df(1)), 15);
    expect(rateAt(curve, 1 / 365)).toEqual({ rate: HAND.bill1m005pct, flags: 0 });
    expect(rateAt(curve, 31)).toEqual({ rate: curve.rates[5], flags: FLAGS.RATE_EXTRAP });
  });

  it('every Massive tenor has the right length and basis', () => {
    expect(TREASURY_TENORS.map((t) => [t.field, t.years, t.basis])).toEqual([
      ['yield_1_month', 1 / 12, 'bill'],
      ['yield_3_month', 0.25, 'bill'],
      ['yield_6_month', 0.5, 'bill'],
      ['yield_1_year', 1, 'bond_equivalent'],
      ['yield_2_year', 2, 'bond_equivalent'],
      ['yield_3_year', 3, 'bond_equivalent'],
      ['yield_5_year', 5, 'bond_equivalent'],
      ['yield_7_year', 7, 'bond_equivalent'],
      ['yield_10_year', 10, 'bond_equivalent'],
      ['yield_20_year', 20, 'bond_equivalent'],
      ['yield_30_year', 30, 'bond_equivalent'],
    ]);
  });

  it('rejects a day with no yield or a non-finite one', () => {
    expect(() => treasuryCurve(yields({}))).toThrow(/no tenor/);
    expect(() => treasuryCurve(yields({ yield_1_year: NaN }))).toThrow(/yield_1_year/);
  });
});

describe('treasuryYieldsFrom', () => {
  it('reads a Massive result: missing tenors are null, other fields ignored', () => {
    const y = treasuryYieldsFrom({ date: '2024-11-15', yield_1_month: 4.6, yield_10_year: 4.43, yield_2_year: null, request_id: 'x' }, 'massive');
    expect(y).toEqual({ ...yields({ yield_1_month: 4.6, yield_10_year: 4.43 }), date: '2024-11-15', source: 'massive' });
    expect(hasQuotedTenor(y)).toBe(true);
    expect(hasQuotedTenor(yields({}))).toBe(false);
  });

  it('names the field and date of a value that is not a number', () => {
    expect(() => treasuryYieldsFrom({ date: '2024-11-15', yield_1_year: '4.2' }, 'massive')).toThrow('yield_1_year of 2024-11-15 is not a number (got "4.2")');
    expect(() => treasuryYieldsFrom({ date: '15/11/2024' }, 'massive')).toThrow(/no YYYY-MM-DD date/);
    expect(() => treasuryYieldsFrom([1], 'massive')).toThrow(/not an object/);
  });
});

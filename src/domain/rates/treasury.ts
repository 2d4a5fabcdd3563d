/**
 * Daily US Treasury yields (Massive `/fed/v1/treasury-yields`: constant-maturity market yields,
 * "quoted on an investment basis", in percent) → the continuously compounded zero-rate curve the
 * pricing expects (DESIGN 5.1). Pure, no I/O.
 *
 * Conversion, by tenor (Treasury's conventions for the constant-maturity curve):
 * - Bills, tenors of at most half a year (1m, 3m, 6m): the investment rate (coupon-equivalent
 *   yield) of a bill with at most one half-year to maturity is a simple ACT/365 money-market yield
 *   y = (100 − P)/P · 365/d. So P = 100/(1 + y·t) with t = tenor in years, and the continuous rate is
 *   r = ln(1 + y·t) / t.
 * - 1 year and longer: bond-equivalent yields, semiannual compounding (the 52-week bill's
 *   coupon-equivalent yield is defined to be consistent with semiannual compounding). Converting a
 *   rate compounded m times a year to continuous compounding, r = m·ln(1 + y/m) (Hull, Options,
 *   Futures, and Other Derivatives, ch. 4 "Continuous compounding"), with m = 2: r = 2·ln(1 + y/2).
 * Sources: Treasury, "Daily Treasury Par Yield Curve Rates" and "Interest Rate Statistics" notes
 * (CMT yields on a bond-equivalent basis; bill investment rate formula); Hull, ch. 4.
 *
 * Approximation, stated: CMT yields of coupon tenors are par yields, taken here as zero yields
 * (no bootstrap). For the option maturities that matter (≤ 3 years) the difference is a few basis
 * points of r (an estimate from typical curve slopes, not measured).
 */
import { RateCurve } from '../pricing/rates';

export type TreasuryBasis = 'bill' | 'bond_equivalent';

export interface TreasuryTenor {
  /** Field name in Massive's response and in the TreasuryYields Avro record. */
  readonly field: TreasuryField;
  /** Short label, as in config (1m, 10y). */
  readonly label: string;
  readonly years: number;
  readonly basis: TreasuryBasis;
}

export type TreasuryField =
  | 'yield_1_month'
  | 'yield_3_month'
  | 'yield_6_month'
  | 'yield_1_year'
  | 'yield_2_year'
  | 'yield_3_year'
  | 'yield_5_year'
  | 'yield_7_year'
  | 'yield_10_year'
  | 'yield_20_year'
  | 'yield_30_year';

const tenor = (field: TreasuryField, label: string, years: number, basis: TreasuryBasis): TreasuryTenor => ({ field, label, years, basis });

/** The tenors Massive serves, shortest first. */
export const TREASURY_TENORS: readonly TreasuryTenor[] = [
  tenor('yield_1_month', '1m', 1 / 12, 'bill'),
  tenor('yield_3_month', '3m', 0.25, 'bill'),
  tenor('yield_6_month', '6m', 0.5, 'bill'),
  tenor('yield_1_year', '1y', 1, 'bond_equivalent'),
  tenor('yield_2_year', '2y', 2, 'bond_equivalent'),
  tenor('yield_3_year', '3y', 3, 'bond_equivalent'),
  tenor('yield_5_year', '5y', 5, 'bond_equivalent'),
  tenor('yield_7_year', '7y', 7, 'bond_equivalent'),
  tenor('yield_10_year', '10y', 10, 'bond_equivalent'),
  tenor('yield_20_year', '20y', 20, 'bond_equivalent'),
  tenor('yield_30_year', '30y', 30, 'bond_equivalent'),
];

/** One day's quoted yields in percent (null = not quoted that day, e.g. the 20-year in 1990). */
export type TreasuryYieldsPercent = { readonly [F in TreasuryField]: number | null };

/** One date of yields as stored in the rates.treasury topic (schemas/TreasuryYields.avsc). */
export interface TreasuryYields extends TreasuryYieldsPercent {
  date: string;
  source: string;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates one object with a `date` and yield fields in percent (a Massive result or a decoded
 * Avro record): missing or null yields are null; anything else that is not a finite number throws,
 * naming the field and date. Other fields are ignored. `source` defaults to the given one.
 */
export function treasuryYieldsFrom(value: unknown, source: string): TreasuryYields {
  if (!isObject(value)) throw new TypeError('a treasury-yields result is not an object');
  const date = value.date;
  if (typeof date !== 'string' || !ISO_DATE.test(date)) throw new TypeError(`a treasury-yields result has no YYYY-MM-DD date (got ${JSON.stringify(date)})`);
  const y = (field: TreasuryField) => yieldOf(value, field, date);
  return {
    date,
    source: typeof value.source === 'string' ? value.source : source,
    yield_1_month: y('yield_1_month'),
    yield_3_month: y('yield_3_month'),
    yield_6_month: y('yield_6_month'),
    yield_1_year: y('yield_1_year'),
    yield_2_year: y('yield_2_year'),
    yield_3_year: y('yield_3_year'),
    yield_5_year: y('yield_5_year'),
    yield_7_year: y('yield_7_year'),
    yield_10_year: y('yield_10_year'),
    yield_20_year: y('yield_20_year'),
    yield_30_year: y('yield_30_year'),
  };
}

function yieldOf(value: Record<string, unknown>, field: TreasuryField, date: string): number | null {
  const y = value[field];
  if (y === undefined || y === null) return null;
  if (typeof y !== 'number' || !Number.isFinite(y)) throw new TypeError(`${field} of ${date} is not a number (got ${JSON.stringify(y)})`);
  return y;
}

/** Whether at least one tenor is quoted (a curve can be built). */
export function hasQuotedTenor(yields: TreasuryYieldsPercent): boolean {
  return TREASURY_TENORS.some((t) => yields[t.field] !== null);
}

/** Simple ACT/365 yield (decimal) over t years → continuously compounded rate. */
export function continuousFromSimple(y: number, t: number): number {
  return Math.log1p(y * t) / t;
}

/** Rate compounded m times a year (decimal) → continuously compounded: m·ln(1 + y/m). */
export function continuousFromCompounded(y: number, m: number): number {
  return m * Math.log1p(y / m);
}

/** A quoted yield in percent at a tenor → continuously compounded decimal rate. */
export function continuousRate(yieldPercent: number, t: TreasuryTenor): number {
  const y = yieldPercent / 100;
  return t.basis === 'bill' ? continuousFromSimple(y, t.years) : continuousFromCompounded(y, 2);
}

/**
 * The continuous zero-rate curve of one day's yields: interpolated in log discount factor by
 * rateAt (pricing/rates.ts), flat before the first tenor, RATE_EXTRAP past the last. Throws when
 * no tenor is quoted or a yield is not finite.
 */
export function treasuryCurve(yields: TreasuryYieldsPercent): RateCurve {
  const points = TREASURY_TENORS.flatMap((t) => {
    const y = yields[t.field];
    if (y === null) return [];
    if (!Number.isFinite(y)) throw new RangeError(`${t.field} is not a finite number`);
    return [{ t, rate: continuousRate(y, t) }];
  });
  if (points.length === 0) throw new RangeError('no tenor is quoted');
  return {
    kind: 'curve',
    years: Float64Array.from(points, (p) => p.t.years),
    rates: Float64Array.from(points, (p) => p.rate),
    rateTimesYears: Float64Array.from(points, (p) => p.rate * p.t.years),
  };
}

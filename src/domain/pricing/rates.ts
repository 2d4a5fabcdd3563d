/**
 * Risk-free rate at τ (DESIGN 5.1): a constant, or a Treasury tenor → rate curve interpolated
 * linearly in the log discount factor −r·t, flat beyond both ends, RATE_EXTRAP past the last
 * tenor. Rates are continuously compounded decimals (0.043, not 4.3).
 */
import { FLAGS } from './flags';

export interface RateCurve {
  readonly kind: 'curve';
  /** Tenors in years, ascending. */
  readonly years: Float64Array;
  readonly rates: Float64Array;
  /** r·t at each tenor (minus the log discount factor). */
  readonly rateTimesYears: Float64Array;
}

/** What config gives: a constant rate, a curve, or nothing (→ NO_RATE). */
export type RateSource = number | RateCurve | null;

const TENOR = /^(\d+(?:\.\d+)?)\s*(d|w|m|y)$/i;
const MASSIVE_TENOR = /^yield_(\d+)_(day|week|month|year)s?$/i;
const UNIT_YEARS: Readonly<Record<string, number>> = { d: 1 / 365, w: 7 / 365, m: 1 / 12, y: 1 };

/** '1m' → 1/12, '10y' → 10, '2w' → 14/365, '30d' → 30/365; also Massive's 'yield_3_month'. */
export function tenorYears(label: string): number {
  const massive = MASSIVE_TENOR.exec(label);
  const match = massive ?? TENOR.exec(label.trim());
  if (match === null) throw new RangeError(`tenor '${label}' is not like 1m, 3m, 1y, 30y`);
  const value = Number(match[1]);
  const years = value * UNIT_YEARS[match[2].charAt(0).toLowerCase()];
  if (!(years > 0)) throw new RangeError(`tenor '${label}' must be positive`);
  return years;
}

/** Builds a curve from tenor labels to decimal rates, e.g. { '1m': 0.0431, '1y': 0.0405 }. */
export function rateCurveFromTenors(tenors: Readonly<Record<string, number | null>>): RateCurve {
  const points = Object.entries(tenors)
    .filter((entry): entry is [string, number] => entry[1] !== null && entry[1] !== undefined)
    .map(([label, rate]) => {
      if (!Number.isFinite(rate)) throw new RangeError(`rate for tenor '${label}' is not a finite number`);
      return { years: tenorYears(label), rate };
    })
    .sort((a, b) => a.years - b.years);
  if (points.length === 0) throw new RangeError('rate curve has no tenors');
  for (let i = 1; i < points.length; i++) {
    if (points[i].years === points[i - 1].years) throw new RangeError('rate curve has a duplicate tenor');
  }
  return {
    kind: 'curve',
    years: Float64Array.from(points, (p) => p.years),
    rates: Float64Array.from(points, (p) => p.rate),
    rateTimesYears: Float64Array.from(points, (p) => p.rate * p.years),
  };
}

export interface RateAt {
  rate: number | null;
  /** NO_RATE or RATE_EXTRAP, else 0. */
  flags: number;
}

/** Rate for a time to expiry τ (years) from a configured source. */
export function rateAt(source: RateSource, tau: number): RateAt {
  if (source === null || source === undefined) return { rate: null, flags: FLAGS.NO_RATE };
  if (typeof source === 'number') {
    return Number.isFinite(source) ? { rate: source, flags: 0 } : { rate: null, flags: FLAGS.NO_RATE };
  }
  return curveRateAt(source, tau);
}

function curveRateAt(curve: RateCurve, tau: number): RateAt {
  const { years, rates, rateTimesYears } = curve;
  const last = years.length - 1;
  if (tau <= years[0]) return { rate: rates[0], flags: 0 };
  if (tau >= years[last]) return { rate: rates[last], flags: tau > years[last] ? FLAGS.RATE_EXTRAP : 0 };
  let i = 1;
  while (years[i] < tau) i++;
  const weight = (tau - years[i - 1]) / (years[i] - years[i - 1]);
  const rateTimesTau = rateTimesYears[i - 1] + weight * (rateTimesYears[i] - rateTimesYears[i - 1]);
  return { rate: rateTimesTau / tau, flags: 0 };
}

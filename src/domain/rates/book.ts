/**
 * Which Treasury curve prices a trade (issue 14, DESIGN 5.1): the latest curve dated on or before
 * the trade's New York trading date (a weekend or holiday has no curve: Friday's serves Monday),
 * if it is at most `maxAgeDays` calendar days older; else the configured constant, flagged
 * RATE_FALLBACK. Pure, no I/O: the greeks processor feeds the book from the rates table.
 */
import { epochDay } from '../new-york';
import { FLAGS } from '../pricing/flags';
import { RateCurve, RateSource } from '../pricing/rates';

export interface DatedCurve {
  date: string;
  curve: RateCurve;
}

/** Curves by date, kept sorted for "latest on or before". `version` changes on every update. */
export class CurveBook {
  private dates: string[] = [];
  private readonly curves = new Map<string, RateCurve>();
  version = 0;

  /** Adds or replaces the curve of a date; null removes it (a compacted-topic tombstone). */
  set(date: string, curve: RateCurve | null): void {
    epochDay(date);
    const had = this.curves.has(date);
    if (curve === null) {
      if (!had) return;
      this.curves.delete(date);
      this.dates = this.dates.filter((d) => d !== date);
    } else {
      this.curves.set(date, curve);
      if (!had) this.dates = insertSorted(this.dates, date);
    }
    this.version += 1;
  }

  get size(): number {
    return this.dates.length;
  }

  /** The latest curve dated on or before `date` (ISO dates sort as strings), or null. */
  latestOnOrBefore(date: string): DatedCurve | null {
    let lo = 0;
    let hi = this.dates.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.dates[mid] <= date) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return null;
    const found = this.dates[lo - 1];
    return { date: found, curve: this.curves.get(found)! };
  }
}

/** Appends in the common case (a table is read in key order); else inserts in place of order. */
function insertSorted(dates: string[], date: string): string[] {
  if (dates.length === 0 || dates[dates.length - 1] < date) {
    dates.push(date);
    return dates;
  }
  const i = dates.findIndex((d) => d > date);
  return i < 0 ? [...dates, date] : [...dates.slice(0, i), date, ...dates.slice(i)];
}

/** auto: the curves when the table has any, else the constant; topic: always the curves; config: the constant only. */
export type RateMode = 'auto' | 'topic' | 'config';

export interface RatePolicy {
  mode: RateMode;
  /** Largest age in calendar days of the curve used for a trade date. */
  maxAgeDays: number;
  /** The configured constant (or static curve): used by `config`, by `auto` with an empty table, and as the fallback. */
  fallback: RateSource;
}

export interface RateChoice {
  source: RateSource;
  /** RATE_FALLBACK when the fallback replaced a missing curve, else 0. */
  flags: number;
  /** Date of the curve used, null when the constant was used. */
  curveDate: string | null;
}

/** The rate source of a trade date under the policy. */
export function chooseRate(book: CurveBook, tradeDate: string, policy: RatePolicy): RateChoice {
  if (policy.mode === 'config' || (policy.mode === 'auto' && book.size === 0)) {
    return { source: policy.fallback, flags: 0, curveDate: null };
  }
  const found = book.latestOnOrBefore(tradeDate);
  if (found !== null && epochDay(tradeDate) - epochDay(found.date) <= policy.maxAgeDays) {
    return { source: found.curve, flags: 0, curveDate: found.date };
  }
  return { source: policy.fallback, flags: FLAGS.RATE_FALLBACK, curveDate: null };
}

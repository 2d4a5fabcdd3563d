/**
 * Expiry instant and time to expiry (DESIGN 2 and 5.1).
 *
 * An option expires at 16:00 America/New_York on its expiration date. The UTC offset follows
 * the US daylight-saving rule (Energy Policy Act 2005, from 2007: EDT from the second Sunday of
 * March to the first Sunday of November; 1987–2006: first Sunday of April to last Sunday of
 * October). The switch happens at 02:00 local, so 16:00 on a switch day is already in the new
 * offset. Results are cached per date string.
 */
import { FLAGS } from './flags';

export const SECONDS_PER_YEAR = 31_536_000;
export const NS_PER_SECOND = 1_000_000_000n;
/** τ floor: 1 s, in years. */
export const MIN_TAU_YEARS = 1 / SECONDS_PER_YEAR;

const MS_PER_DAY = 86_400_000;
const EXPIRY_HOUR_EDT_UTC = 20;
const EXPIRY_HOUR_EST_UTC = 21;

const expiryCache = new Map<string, bigint>();

/** 16:00 America/New_York on `date` (YYYY-MM-DD), in ns since the Unix epoch. Cached. */
export function expiryInstantNs(date: string): bigint {
  let ns = expiryCache.get(date);
  if (ns === undefined) {
    ns = BigInt(expiryInstantMs(date)) * 1_000_000n;
    expiryCache.set(date, ns);
  }
  return ns;
}

/** 16:00 America/New_York on `date` (YYYY-MM-DD), in ms since the Unix epoch (not cached). */
export function expiryInstantMs(date: string): number {
  const { year, month, day } = parseIsoDate(date);
  const hourUtc = isNewYorkDaylightTime(year, month, day) ? EXPIRY_HOUR_EDT_UTC : EXPIRY_HOUR_EST_UTC;
  return Date.UTC(year, month - 1, day, hourUtc);
}

/** Whether 16:00 local time on this New York calendar date is in daylight-saving time. */
export function isNewYorkDaylightTime(year: number, month: number, day: number): boolean {
  const [start, end] = year >= 2007
    ? [nthSunday(year, 3, 2), nthSunday(year, 11, 1)]
    : [nthSunday(year, 4, 1), lastSunday(year, 10)];
  const today = Date.UTC(year, month - 1, day);
  return today >= start && today < end;
}

/** UTC midnight (ms) of the n-th Sunday of a month. */
function nthSunday(year: number, month: number, n: number): number {
  const first = Date.UTC(year, month - 1, 1);
  const weekday = new Date(first).getUTCDay();
  const firstSunday = 1 + ((7 - weekday) % 7);
  return Date.UTC(year, month - 1, firstSunday + 7 * (n - 1));
}

function lastSunday(year: number, month: number): number {
  const last = Date.UTC(year, month, 0);
  return last - new Date(last).getUTCDay() * MS_PER_DAY;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseIsoDate(date: string): { year: number; month: number; day: number } {
  const match = ISO_DATE.exec(date);
  if (match === null) throw new RangeError(`expiration date '${date}' is not YYYY-MM-DD`);
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new RangeError(`expiration date '${date}' is not a calendar date`);
  }
  return { year, month, day };
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export interface TimeToExpiry {
  /** Years ACT/365, floored at 1 s; null when expired. */
  tau: number | null;
  /** TIME_EXPIRED or TAU_CLAMPED, else 0. */
  flags: number;
}

/**
 * τ = (expiry − t) / 31,536,000 s. t after the expiry instant → TIME_EXPIRED and no τ; less than
 * 1 s left (including t exactly at expiry) → τ = 1 s and TAU_CLAMPED.
 */
export function timeToExpiry(expiryNs: bigint, tNs: bigint): TimeToExpiry {
  const leftNs = expiryNs - tNs;
  if (leftNs < 0n) return { tau: null, flags: FLAGS.TIME_EXPIRED };
  if (leftNs < NS_PER_SECOND) return { tau: MIN_TAU_YEARS, flags: FLAGS.TAU_CLAMPED };
  return { tau: Number(leftNs) / 1e9 / SECONDS_PER_YEAR, flags: 0 };
}

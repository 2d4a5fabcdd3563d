/**
 * The one New York clock of the product: expiry instants, session bounds, end-of-day watermarks and
 * the generator all read local time through here.
 *
 * US daylight-saving rule (Energy Policy Act 2005, from 2007: EDT from the second Sunday of March to
 * the first Sunday of November; 1987–2006: first Sunday of April to last Sunday of October). The
 * switch happens at 02:00 local, so every time of day this product cares about (04:00 onwards) is in
 * the offset of its calendar date.
 */

const MS_PER_DAY = 86_400_000;
const NS_PER_MS = 1_000_000n;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface CalendarDate {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 'YYYY-MM-DD' → its parts; a RangeError for anything that is not a calendar date. */
export function parseIsoDate(date: string): CalendarDate {
  const match = ISO_DATE.exec(date);
  if (match === null) throw new RangeError(`date '${date}' is not YYYY-MM-DD`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw new RangeError(`date '${date}' is not a calendar date`);
  return { year, month, day };
}

/** UTC midnight (ms) of the n-th Sunday of a month (1-based month). */
function nthSunday(year: number, month: number, n: number): number {
  const weekday = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
  return Date.UTC(year, month - 1, 1 + ((7 - weekday) % 7) + 7 * (n - 1));
}

function lastSunday(year: number, month: number): number {
  const last = Date.UTC(year, month, 0);
  return last - new Date(last).getUTCDay() * MS_PER_DAY;
}

/** Whether New York is on daylight time from 02:00 local of this calendar date on. */
export function isNewYorkDaylightTime(year: number, month: number, day: number): boolean {
  const [start, end] = year >= 2007 ? [nthSunday(year, 3, 2), nthSunday(year, 11, 1)] : [nthSunday(year, 4, 1), lastSunday(year, 10)];
  const today = Date.UTC(year, month - 1, day);
  return today >= start && today < end;
}

/** UTC offset in hours (−4 or −5) of New York on `date` (YYYY-MM-DD), after 02:00 local. */
export function newYorkOffsetHours(date: string): number {
  const { year, month, day } = parseIsoDate(date);
  return isNewYorkDaylightTime(year, month, day) ? -4 : -5;
}

/** UTC ms of a New York wall-clock time on `date`; hour may be 24 (midnight ending the day). */
export function newYorkTimeMs(date: string, hour: number, minute = 0): number {
  const { year, month, day } = parseIsoDate(date);
  const offset = isNewYorkDaylightTime(year, month, day) ? -4 : -5;
  return Date.UTC(year, month - 1, day, hour - offset, minute);
}

/** UTC ns of a New York wall-clock time on `date`. */
export function newYorkTimeNs(date: string, hour: number, minute = 0): bigint {
  return BigInt(newYorkTimeMs(date, hour, minute)) * NS_PER_MS;
}

/** UTC ns of the midnight that ends `date` in New York (24:00 local, in the offset of `date`). */
export function endOfNewYorkDayNs(date: string): bigint {
  return newYorkTimeNs(date, 24, 0);
}

const MS_PER_HOUR = 3_600_000;
const NS_PER_HOUR = 3_600_000_000_000n;

/** UTC offset in hours of New York at an instant (ms), with the switches at 02:00 local. */
export function newYorkOffsetAtMs(ms: number): number {
  const year = new Date(ms).getUTCFullYear();
  const [start, end] = year >= 2007 ? [nthSunday(year, 3, 2), nthSunday(year, 11, 1)] : [nthSunday(year, 4, 1), lastSunday(year, 10)];
  // 02:00 EST = 07:00 UTC starts daylight time; 02:00 EDT = 06:00 UTC ends it.
  return ms >= start + 7 * MS_PER_HOUR && ms < end + 6 * MS_PER_HOUR ? -4 : -5;
}

/** The New York calendar date (YYYY-MM-DD) of an instant in ms: a trade's trading date. */
export function newYorkDateOfMs(ms: number): string {
  return new Date(ms + newYorkOffsetAtMs(ms) * MS_PER_HOUR).toISOString().slice(0, 10);
}

/** Days since 1970-01-01 of a YYYY-MM-DD calendar date. */
export function epochDay(date: string): number {
  const { year, month, day } = parseIsoDate(date);
  return Date.UTC(year, month - 1, day) / MS_PER_DAY;
}

/**
 * New York dates of instants in ns, memoising the last UTC hour asked for (New York's offsets are
 * whole hours, so the date is constant within each UTC hour, and trades arrive nearly in time order).
 */
export class NewYorkDates {
  private hour = -1n;
  private date = '';

  of(ns: bigint): string {
    const hour = ns >= 0n ? ns / NS_PER_HOUR : (ns - NS_PER_HOUR + 1n) / NS_PER_HOUR;
    if (hour !== this.hour) {
      this.hour = hour;
      this.date = newYorkDateOfMs(Number((hour * NS_PER_HOUR) / 1_000_000n));
    }
    return this.date;
  }
}

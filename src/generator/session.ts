/** US regular session (09:30–16:00 America/New_York) in UTC ns, daylight-saving correct. */

const NS_PER_MS = 1_000_000n;
export const NS_PER_SECOND = 1_000_000_000n;

/** Day of month of the n-th Sunday (1-based) of a month (month 0-based). */
function nthSunday(year: number, month: number, n: number): number {
  const firstWeekday = new Date(Date.UTC(year, month, 1)).getUTCDay();
  return 1 + ((7 - firstWeekday) % 7) + 7 * (n - 1);
}

/**
 * UTC offset (hours) of New York at 09:30–16:00 local on `date` (YYYY-MM-DD). US rule since
 * 2007: EDT from the second Sunday of March to the first Sunday of November (both at 02:00).
 */
export function newYorkOffsetHours(date: string): number {
  const [year, month, day] = date.split('-').map(Number);
  const dstStart = Date.UTC(year, 2, nthSunday(year, 2, 2));
  const dstEnd = Date.UTC(year, 10, nthSunday(year, 10, 1));
  const t = Date.UTC(year, month - 1, day);
  return t >= dstStart && t < dstEnd ? -4 : -5;
}

/** UTC ns of a New York wall-clock time on `date`. */
export function newYorkTimeNs(date: string, hour: number, minute: number): bigint {
  const [year, month, day] = date.split('-').map(Number);
  const ms = Date.UTC(year, month - 1, day, hour - newYorkOffsetHours(date), minute);
  return BigInt(ms) * NS_PER_MS;
}

export interface Session {
  openNs: bigint;
  closeNs: bigint;
}

export function regularSession(date: string): Session {
  return { openNs: newYorkTimeNs(date, 9, 30), closeNs: newYorkTimeNs(date, 16, 0) };
}

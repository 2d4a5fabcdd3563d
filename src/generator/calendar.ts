/** Expiry dates for a generated day: 0DTE, the next weekly Fridays and the next monthly. */

function toIso(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

function dayMs(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

const DAY_MS = 86_400_000;

function nextFridayAfter(date: string): string {
  const t = dayMs(date);
  const weekday = new Date(t).getUTCDay();
  const ahead = ((5 - weekday + 7) % 7) || 7;
  return toIso(t + ahead * DAY_MS);
}

function thirdFriday(year: number, month: number): string {
  const firstWeekday = new Date(Date.UTC(year, month, 1)).getUTCDay();
  return toIso(Date.UTC(year, month, 1 + ((5 - firstWeekday + 7) % 7) + 14));
}

/** Sorted, distinct expiries: the date itself (0DTE), two weeklies and the next monthly. */
export function expiriesFor(date: string): string[] {
  const week1 = nextFridayAfter(date);
  const week2 = nextFridayAfter(week1);
  const [year, month] = date.split('-').map(Number);
  let monthly = thirdFriday(year, month - 1);
  if (monthly <= week2) monthly = thirdFriday(month === 12 ? year + 1 : year, month % 12);
  return [...new Set([date, week1, week2, monthly])].sort();
}

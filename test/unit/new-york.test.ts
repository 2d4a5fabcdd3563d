import { endOfNewYorkDayNs, isNewYorkDaylightTime, newYorkDateOfMs, newYorkOffsetHours, newYorkTimeNs, parseIsoDate } from '../../src/domain/new-york';

/** Offset of New York at 12:00 UTC of a date via Intl (ICU's tz database): the independent reference. */
function intlOffsetHours(date: string): number {
  const noonUtc = new Date(`${date}T16:00:00Z`);
  const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', hourCycle: 'h23' }).format(noonUtc);
  return Number(local) - 16;
}

function isoDays(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

describe('the New York clock', () => {
  it('agrees with the tz database on every day 1990–2030, both DST eras', () => {
    const days = isoDays('1990-01-01', '2030-12-31');
    const wrong = days.filter((d) => newYorkOffsetHours(d) !== intlOffsetHours(d));
    expect(days.length).toBeGreaterThan(14_000);
    expect(wrong).toEqual([]);
  });

  it('knows the pre-2007 rule (first Sunday of April to last Sunday of October)', () => {
    expect([isNewYorkDaylightTime(2006, 4, 1), isNewYorkDaylightTime(2006, 4, 2)]).toEqual([false, true]);
    expect([isNewYorkDaylightTime(2006, 10, 28), isNewYorkDaylightTime(2006, 10, 29)]).toEqual([true, false]);
    expect([isNewYorkDaylightTime(2007, 3, 10), isNewYorkDaylightTime(2007, 3, 11)]).toEqual([false, true]);
  });

  it('gives wall-clock instants in ns, and the midnight ending a day', () => {
    expect(newYorkTimeNs('2025-03-07', 9, 30)).toBe(1741357800000000000n);
    expect(newYorkTimeNs('2025-03-10', 9, 30)).toBe(BigInt(Date.UTC(2025, 2, 10, 13, 30)) * 1_000_000n);
    expect(endOfNewYorkDayNs('2025-03-07')).toBe(BigInt(Date.UTC(2025, 2, 8, 5)) * 1_000_000n);
    expect(endOfNewYorkDayNs('2005-07-01')).toBe(BigInt(Date.UTC(2005, 6, 2, 4)) * 1_000_000n);
  });

  it('rejects what is not a calendar date', () => {
    expect(() => parseIsoDate('2025-2-01')).toThrow(/YYYY-MM-DD/);
    expect(() => parseIsoDate('2025-02-29')).toThrow(/calendar date/);
    expect(parseIsoDate('2024-02-29')).toEqual({ year: 2024, month: 2, day: 29 });
  });

  it('gives the New York date of an instant like the tz database, every 47 minutes 1995–2030 and around each switch', () => {
    const intl = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit' });
    const wrong: string[] = [];
    const check = (ms: number) => {
      if (newYorkDateOfMs(ms) !== intl.format(new Date(ms))) wrong.push(new Date(ms).toISOString());
    };
    for (let ms = Date.UTC(1995, 0, 1); ms < Date.UTC(2031, 0, 1); ms += 47 * 60_000) check(ms);
    for (let year = 1995; year <= 2030; year++) {
      for (const month of [2, 3, 9, 10]) for (let day = 0; day < 31; day++) for (let h = 3; h <= 8; h++) check(Date.UTC(year, month, day, h) - 1);
    }
    expect(wrong).toEqual([]);
  });
});

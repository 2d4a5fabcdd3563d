import { FLAGS } from '../../../src/domain/pricing/flags';
import { rateCurveFromTenors } from '../../../src/domain/pricing/rates';
import { chooseRate, CurveBook, RatePolicy } from '../../../src/domain/rates/book';
import { epochDay, NewYorkDates, newYorkDateOfMs } from '../../../src/domain/new-york';

const curve = (r: number) => rateCurveFromTenors({ '1m': r, '1y': r });

/** Business days of 2024-11: curves for weekdays except Thanksgiving (Thu 28th). */
function november(): CurveBook {
  const book = new CurveBook();
  for (let d = 1; d <= 30; d++) {
    const date = `2024-11-${String(d).padStart(2, '0')}`;
    const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
    if (weekday === 0 || weekday === 6 || d === 28) continue;
    book.set(date, curve(d / 1000));
  }
  return book;
}

const policy: RatePolicy = { mode: 'auto', maxAgeDays: 4, fallback: 0.045 };

describe('curve of a trade date', () => {
  const book = november();

  it('uses the curve of the date itself on a business day', () => {
    expect(chooseRate(book, '2024-11-13', policy)).toMatchObject({ curveDate: '2024-11-13', flags: 0 });
  });

  it('uses Friday for a weekend and the day before a holiday', () => {
    expect(chooseRate(book, '2024-11-16', policy).curveDate).toBe('2024-11-15'); // Saturday
    expect(chooseRate(book, '2024-11-17', policy).curveDate).toBe('2024-11-15'); // Sunday
    expect(chooseRate(book, '2024-11-28', policy).curveDate).toBe('2024-11-27'); // Thanksgiving
    expect(chooseRate(book, '2024-11-29', policy).curveDate).toBe('2024-11-29');
    expect(chooseRate(book, '2024-11-13', policy).source).toBe(book.latestOnOrBefore('2024-11-13')!.curve);
  });

  it('falls back to the constant, flagged, past maxAgeDays or before the first curve', () => {
    // the 29th (Fri) is the last curve: 4 days later is still served, 5 is not
    expect(chooseRate(book, '2024-12-03', policy)).toMatchObject({ curveDate: '2024-11-29', flags: 0 });
    expect(chooseRate(book, '2024-12-04', policy)).toEqual({ source: 0.045, flags: FLAGS.RATE_FALLBACK, curveDate: null });
    expect(chooseRate(book, '2024-10-31', policy)).toEqual({ source: 0.045, flags: FLAGS.RATE_FALLBACK, curveDate: null });
    expect(chooseRate(book, '2024-12-04', { ...policy, maxAgeDays: 5 }).curveDate).toBe('2024-11-29');
  });

  it('auto uses the constant unflagged while the table is empty; topic flags it; config ignores the table', () => {
    const empty = new CurveBook();
    expect(chooseRate(empty, '2024-11-13', policy)).toEqual({ source: 0.045, flags: 0, curveDate: null });
    expect(chooseRate(empty, '2024-11-13', { ...policy, mode: 'topic' })).toEqual({ source: 0.045, flags: FLAGS.RATE_FALLBACK, curveDate: null });
    expect(chooseRate(book, '2024-11-13', { ...policy, mode: 'config' })).toEqual({ source: 0.045, flags: 0, curveDate: null });
  });

  it('replaces and removes curves (compaction tombstones), bumping the version', () => {
    const b = november();
    const v = b.version;
    b.set('2024-11-15', curve(0.09));
    expect(b.latestOnOrBefore('2024-11-16')!.curve.rates[0]).toBe(0.09);
    b.set('2024-11-15', null);
    expect(b.latestOnOrBefore('2024-11-16')!.date).toBe('2024-11-14');
    expect(b.version).toBe(v + 2);
    expect(() => b.set('2024-02-30', curve(0.01))).toThrow(/calendar date/);
  });

  it('counts calendar days across months and leap years', () => {
    expect(epochDay('2024-03-01') - epochDay('2024-02-28')).toBe(2);
    expect(epochDay('2023-03-01') - epochDay('2023-02-28')).toBe(1);
    expect(epochDay('1970-01-02')).toBe(1);
  });
});

describe('New York trading date of an instant', () => {
  const ns = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

  it('is the New York calendar date, DST-correct, not the UTC date', () => {
    const d = new NewYorkDates();
    expect(d.of(ns('2025-03-07T23:59:59Z'))).toBe('2025-03-07'); // 18:59 EST
    expect(d.of(ns('2025-03-08T04:59:59Z'))).toBe('2025-03-07'); // 23:59 EST
    expect(d.of(ns('2025-03-08T05:00:00Z'))).toBe('2025-03-08');
    expect(d.of(ns('2025-07-08T03:59:59Z'))).toBe('2025-07-07'); // 23:59 EDT
    expect(d.of(ns('2025-07-08T04:00:00Z'))).toBe('2025-07-08');
    // DST starts 2025-03-09 02:00 EST: 05:00Z is 01:00 EST, 07:00Z is 03:00 EDT, both on the 9th
    expect(d.of(ns('2025-03-09T04:59:59Z'))).toBe('2025-03-08');
    expect(d.of(ns('2025-03-09T07:00:00Z'))).toBe('2025-03-09');
    // DST ends 2025-11-02: midnight EDT is 04:00Z
    expect(d.of(ns('2025-11-02T03:59:59Z'))).toBe('2025-11-01');
    expect(d.of(ns('2025-11-02T04:00:00Z'))).toBe('2025-11-02');
  });

  it('memoises per UTC hour without changing results', () => {
    const d = new NewYorkDates();
    for (let t = Date.parse('2024-11-01T00:00:00Z'); t < Date.parse('2024-11-05T00:00:00Z'); t += 7 * 60_000) {
      expect(d.of(BigInt(t) * 1_000_000n + 123n)).toBe(newYorkDateOfMs(t));
    }
  });
});

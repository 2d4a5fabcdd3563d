import cases from '../../fixtures/pricing/expiry.json';
import {
  expiryInstantMs,
  expiryInstantNs,
  MIN_TAU_YEARS,
  timeToExpiry,
} from '../../../src/domain/pricing/expiry';
import { isNewYorkDaylightTime } from '../../../src/domain/new-york';
import { FLAGS } from '../../../src/domain/pricing/flags';

/** 16:00 New York on a date via Intl (ICU tz database): an independent reference. */
function intlExpiryMs(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  for (const hourUtc of [20, 21]) {
    const candidate = Date.UTC(y, m - 1, d, hourUtc);
    const hour = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      hour: 'numeric',
      hourCycle: 'h23',
    }).format(candidate);
    if (hour === '16') return candidate;
  }
  throw new Error(`no 16:00 for ${date}`);
}

const NS_PER_MS = 1_000_000n;

describe('expiry instant: 16:00 America/New_York', () => {
  it('maps the DST-change weeks of 2025 (and 2006, old rule) to the zoneinfo instants', () => {
    for (const { date, epoch_ms } of cases) expect([date, expiryInstantMs(date)]).toEqual([date, epoch_ms]);
    expect(new Date(expiryInstantMs('2025-03-07')).toISOString()).toBe('2025-03-07T21:00:00.000Z');
    expect(new Date(expiryInstantMs('2025-03-10')).toISOString()).toBe('2025-03-10T20:00:00.000Z');
    expect(new Date(expiryInstantMs('2025-10-31')).toISOString()).toBe('2025-10-31T20:00:00.000Z');
    expect(new Date(expiryInstantMs('2025-11-03')).toISOString()).toBe('2025-11-03T21:00:00.000Z');
  });

  it('agrees with Intl for every day from 2000 to 2035', () => {
    let mismatches = 0;
    let days = 0;
    for (let t = Date.UTC(2000, 0, 1); t <= Date.UTC(2035, 11, 31); t += 86_400_000) {
      const date = new Date(t).toISOString().slice(0, 10);
      if (expiryInstantMs(date) !== intlExpiryMs(date)) mismatches++;
      days++;
    }
    expect(days).toBe(13149);
    expect(mismatches).toBe(0);
  });

  it('is cached as exact bigint nanoseconds', () => {
    const ns = expiryInstantNs('2025-12-19');
    expect(ns).toBe(BigInt(Date.UTC(2025, 11, 19, 21)) * NS_PER_MS);
    expect(expiryInstantNs('2025-12-19')).toBe(ns);
  });

  it('knows the switch days: 16:00 on the switch Sunday is already in the new offset', () => {
    expect(isNewYorkDaylightTime(2025, 3, 8)).toBe(false);
    expect(isNewYorkDaylightTime(2025, 3, 9)).toBe(true);
    expect(isNewYorkDaylightTime(2025, 11, 1)).toBe(true);
    expect(isNewYorkDaylightTime(2025, 11, 2)).toBe(false);
  });

  it('rejects malformed and impossible dates', () => {
    expect(() => expiryInstantMs('2025-2-01')).toThrow(/YYYY-MM-DD/);
    expect(() => expiryInstantMs('2025-02-29')).toThrow(/calendar date/);
    expect(() => expiryInstantMs('2025-13-01')).toThrow(/calendar date/);
    expect(expiryInstantMs('2024-02-29')).toBe(Date.UTC(2024, 1, 29, 21));
  });
});

describe('timeToExpiry', () => {
  const expiry = expiryInstantNs('2025-03-10'); // 20:00 UTC (EDT)
  const at = (iso: string, extraNs = 0n) => BigInt(Date.parse(iso)) * NS_PER_MS + extraNs;

  it('gives 0DTE trades before 16:00 ET a positive τ (ACT/365 in seconds)', () => {
    const result = timeToExpiry(expiry, at('2025-03-10T13:30:00Z'));
    expect(result.flags).toBe(0);
    expect(result.tau).toBeCloseTo((6.5 * 3600) / 31_536_000, 15);
  });

  it('counts calendar seconds over a weekend and a DST change', () => {
    // Fri 2025-03-07 16:00 EST = 21:00 UTC to Mon 16:00 EDT = 20:00 UTC: 71 h, not 72.
    const result = timeToExpiry(expiry, at('2025-03-07T21:00:00Z'));
    expect(result.tau).toBeCloseTo((71 * 3600) / 31_536_000, 15);
  });

  it('floors τ at 1 s with TAU_CLAMPED (including t exactly at expiry)', () => {
    expect(timeToExpiry(expiry, expiry - 999_999_999n)).toEqual({ tau: MIN_TAU_YEARS, flags: FLAGS.TAU_CLAMPED });
    expect(timeToExpiry(expiry, expiry)).toEqual({ tau: MIN_TAU_YEARS, flags: FLAGS.TAU_CLAMPED });
    expect(timeToExpiry(expiry, expiry - 1_000_000_000n)).toEqual({ tau: 1 / 31_536_000, flags: 0 });
  });

  it('marks t after the expiry instant TIME_EXPIRED with no τ (16:00:01 ET on expiry day)', () => {
    expect(timeToExpiry(expiry, at('2025-03-10T20:00:01Z'))).toEqual({ tau: null, flags: FLAGS.TIME_EXPIRED });
    expect(timeToExpiry(expiry, expiry + 1n)).toEqual({ tau: null, flags: FLAGS.TIME_EXPIRED });
  });

  it('keeps nanosecond timestamps exact (a double would not)', () => {
    const t = expiry - 86_400_000_000_001n;
    expect(timeToExpiry(expiry, t).tau).toBe(86_400.000000001 / 31_536_000);
  });
});

import { parseWindowNs, windowStartNs } from '../../../src/domain/features/window-time';
import { DEFAULT_TRADE_FILTER, acceptEquityTrade, acceptOptionTrade, compileTradeFilter, inSession, isCorrected, newYorkMinuteOfDay } from '../../../src/domain/features/filters';

const NS_PER_MS = 1_000_000n;
const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * NS_PER_MS;

describe('window helpers', () => {
  it('parses <n>s|m|h labels to ns', () => {
    expect(parseWindowNs('30s')).toBe(30_000_000_000n);
    expect(parseWindowNs('1m')).toBe(60_000_000_000n);
    expect(parseWindowNs('5m')).toBe(300_000_000_000n);
    expect(parseWindowNs('15m')).toBe(900_000_000_000n);
    expect(parseWindowNs('1h')).toBe(3_600_000_000_000n);
    for (const bad of ['', '0m', '5', 'm', '1d', '1.5m', ' 1m', '-1m']) expect(() => parseWindowNs(bad)).toThrow(RangeError);
  });

  it('aligns window starts to the UTC epoch, [start, end)', () => {
    const five = parseWindowNs('5m');
    const t = ns('2024-03-11T14:07:31.123Z') + 456_789n;
    expect(windowStartNs(t, five)).toBe(ns('2024-03-11T14:05:00Z'));
    expect(windowStartNs(ns('2024-03-11T14:05:00Z'), five)).toBe(ns('2024-03-11T14:05:00Z'));
    expect(windowStartNs(ns('2024-03-11T14:05:00Z') - 1n, five)).toBe(ns('2024-03-11T14:00:00Z'));
    expect(windowStartNs(-1n, five)).toBe(-five);
    expect(() => windowStartNs(1n, 0n)).toThrow(RangeError);
  });
});

describe('session filter', () => {
  const newYork = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hourCycle: 'h23', hour: '2-digit', minute: '2-digit' });
  const minuteByIntl = (t: bigint): number => {
    const parts = newYork.formatToParts(new Date(Number(t / NS_PER_MS)));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    return get('hour') * 60 + get('minute');
  };

  it('agrees with Intl (ICU tz database) on New York local time, 2004–2030, around every DST switch', () => {
    for (let ms = Date.parse('2004-01-01T00:00:00Z'); ms < Date.parse('2031-01-01T00:00:00Z'); ms += 7 * 3_600_000 + 13 * 60_000) {
      const t = BigInt(ms) * NS_PER_MS;
      const local = minuteByIntl(t);
      // The rule applies a date's offset from midnight (switches really happen at 02:00) and takes the
      // EST date between 00:00 and 01:00 EDT: it may differ from Intl before 03:00 local, far from any session.
      if (local < 180) continue;
      expect(newYorkMinuteOfDay(t)).toBe(local);
      expect(inSession(t, 'regular')).toBe(local >= 570 && local < 960);
      expect(inSession(t, 'extended')).toBe(local >= 240 && local < 1200);
    }
  });

  it('regular session is 09:30–16:00 ET, exact to the ns, in EST and EDT', () => {
    expect(inSession(ns('2024-01-16T14:30:00Z'), 'regular')).toBe(true); // 09:30 EST
    expect(inSession(ns('2024-01-16T14:30:00Z') - 1n, 'regular')).toBe(false);
    expect(inSession(ns('2024-01-16T21:00:00Z') - 1n, 'regular')).toBe(true); // 15:59:59.999999999 EST
    expect(inSession(ns('2024-01-16T21:00:00Z'), 'regular')).toBe(false);
    expect(inSession(ns('2024-07-16T13:30:00Z'), 'regular')).toBe(true); // 09:30 EDT
    expect(inSession(ns('2024-07-16T13:29:59Z'), 'regular')).toBe(false);
    expect(inSession(ns('2024-07-16T20:00:00Z'), 'regular')).toBe(false); // 16:00 EDT
    // first trading day after the March 2024 switch and before the November one
    expect(inSession(ns('2024-03-11T13:30:00Z'), 'regular')).toBe(true);
    expect(inSession(ns('2024-11-04T13:30:00Z'), 'regular')).toBe(false); // 08:30 EST
    expect(inSession(ns('2024-11-04T14:30:00Z'), 'regular')).toBe(true);
  });

  it('extended is 04:00–20:00 ET; all accepts everything', () => {
    expect(inSession(ns('2024-07-16T08:00:00Z'), 'extended')).toBe(true); // 04:00 EDT
    expect(inSession(ns('2024-07-16T08:00:00Z') - 1n, 'extended')).toBe(false);
    expect(inSession(ns('2024-01-17T01:00:00Z') - 1n, 'extended')).toBe(true); // 19:59:59.999999999 EST
    expect(inSession(ns('2024-01-17T01:00:00Z'), 'extended')).toBe(false);
    expect(inSession(ns('2024-01-17T06:00:00Z'), 'all')).toBe(true);
  });
});

describe('trade filters', () => {
  const t = ns('2024-07-16T15:00:00Z');
  const filter = compileTradeFilter({ session: 'regular', excludedEquityConditions: [12, 37], excludedOptionConditions: [233] });
  it('excludes a present non-zero correction only', () => {
    expect([null, 0, 1, 12].map(isCorrected)).toEqual([false, false, true, true]);
    expect(acceptEquityTrade({ sip_timestamp: t, correction: 0, conditions: [] }, filter)).toBe(true);
    expect(acceptEquityTrade({ sip_timestamp: t, correction: 1, conditions: [] }, filter)).toBe(false);
  });
  it('excludes configured condition codes per asset class', () => {
    expect(acceptEquityTrade({ sip_timestamp: t, correction: null, conditions: [14, 37] }, filter)).toBe(false);
    expect(acceptEquityTrade({ sip_timestamp: t, correction: null, conditions: [233] }, filter)).toBe(true);
    expect(acceptOptionTrade({ sip_timestamp: t, correction: null, conditions: [233] }, filter)).toBe(false);
    expect(acceptOptionTrade({ sip_timestamp: t, correction: null, conditions: [12] }, filter)).toBe(true);
  });
  it('defaults to the regular session with no excluded codes', () => {
    const d = compileTradeFilter(DEFAULT_TRADE_FILTER);
    expect(acceptOptionTrade({ sip_timestamp: ns('2024-07-16T12:00:00Z'), correction: null, conditions: [1] }, d)).toBe(false);
    expect(acceptOptionTrade({ sip_timestamp: t, correction: null, conditions: [1] }, d)).toBe(true);
  });
});

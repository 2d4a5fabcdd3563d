import { loadConfig } from '../../../src/config';
import { bsmPrice } from '../../../src/domain/pricing/bsm';
import { expiryInstantNs, timeToExpiry } from '../../../src/domain/pricing/expiry';
import { FLAGS } from '../../../src/domain/pricing/flags';
import type { EnrichedOptionTrade, EquityQuote, OptionTrade, TreasuryYields } from '../../../src/domain/records';
import { greeks } from '../../../src/processors/greeks';
import { ProcessorDriver } from '../../../src/processors/runtime/driver';

/**
 * The greeks processor on the runtime's Task with the rates.treasury table: each trade is priced
 * with the curve of its New York date (independent reference below), weekends use Friday's curve,
 * a gap beyond rate_max_age_days falls back to the constant with RATE_FALLBACK, and a curve that
 * arrives later prices only the trades released after it.
 */

const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
const configOf = (rate_source: string) =>
  loadConfig({ env: { NODE_ENV: 'test' }, overrides: { greeks: { rate_source, rate_max_age_days: 4, rate: 0.045 } } });

function yields(date: string, short: number, long: number): TreasuryYields {
  return {
    date, source: 'test',
    yield_1_month: short, yield_3_month: short + 0.05, yield_6_month: short + 0.1, yield_1_year: short + 0.2, yield_2_year: long - 0.3,
    yield_3_year: long - 0.2, yield_5_year: long - 0.1, yield_7_year: long, yield_10_year: long, yield_20_year: long + 0.2, yield_30_year: long + 0.2,
  };
}

/** Independent reference: percent → continuous (bills ln(1+y·t)/t, coupons 2·ln(1+y/2)), linear in r·t, flat ends. */
function referenceRate(y: TreasuryYields, tau: number): number {
  const pts: [number, number | null, boolean][] = [
    [1 / 12, y.yield_1_month, true], [0.25, y.yield_3_month, true], [0.5, y.yield_6_month, true], [1, y.yield_1_year, false],
    [2, y.yield_2_year, false], [3, y.yield_3_year, false], [5, y.yield_5_year, false], [7, y.yield_7_year, false],
    [10, y.yield_10_year, false], [20, y.yield_20_year, false], [30, y.yield_30_year, false],
  ];
  const curve = pts.filter((p) => p[1] !== null).map(([t, pct, bill]) => {
    const d = (pct as number) / 100;
    return { t, r: bill ? Math.log(1 + d * t) / t : 2 * Math.log(1 + d / 2) };
  });
  if (tau <= curve[0].t) return curve[0].r;
  const last = curve[curve.length - 1];
  if (tau >= last.t) return last.r;
  const i = curve.findIndex((p) => p.t >= tau);
  const [a, b] = [curve[i - 1], curve[i]];
  return (a.r * a.t + ((tau - a.t) / (b.t - a.t)) * (b.r * b.t - a.r * a.t)) / tau;
}

let seq = 0;
function quoteAt(t: bigint): EquityQuote {
  return {
    ticker: 'SPY', sip_timestamp: t - 100_000_000n, participant_timestamp: null, trf_timestamp: null, sequence_number: BigInt(seq++),
    bid_price: 579.99, bid_size: 100n, bid_exchange: 11, ask_price: 580.01, ask_size: 100n, ask_exchange: 12, conditions: [], indicators: [], tape: 1,
    source: 'flatfile', origin: 'test', origin_offset: BigInt(seq),
  };
}
function tradeAt(t: bigint, expiry: string, right: 'C' | 'P'): OptionTrade {
  const tau = timeToExpiry(expiryInstantNs(expiry), t).tau!;
  const price = Math.round(bsmPrice(right, 580, 580, tau, 0.03, 0, 0.2) * 100) / 100;
  return {
    ticker: `O:SPY${expiry.slice(2).replace(/-/g, '')}${right}00580000`, underlying: 'SPY', root: 'SPY', expiration_date: expiry, right, strike: 580,
    sip_timestamp: t, participant_timestamp: null, sequence_number: null, price, size: 3n, exchange: 300, conditions: [], correction: null,
    source: 'flatfile', origin: 'test', origin_offset: BigInt(seq++),
  };
}

function run(driver: ProcessorDriver, times: string[], expiry: string): EnrichedOptionTrade[] {
  for (const iso of times) {
    const t = ns(iso);
    driver.pipe('equity.quotes', quoteAt(t), 'SPY');
    driver.pipe('option.trades', tradeAt(t, expiry, 'C'), 'SPY');
    driver.pipe('option.trades', tradeAt(t, expiry, 'P'), 'SPY');
    driver.advanceWatermark(t + 1n);
  }
  return driver.drain<EnrichedOptionTrade>().filter((o) => o.topic === 'option.trades.enriched').map((o) => o.value);
}

const CURVES = [yields('2024-11-14', 4.6, 4.4), yields('2024-11-15', 4.55, 4.45), yields('2024-11-18', 4.5, 4.42)];

describe('greeks with the rates.treasury table', () => {
  it('prices each trade with the curve of its New York date (Friday for the weekend), else the flagged constant', () => {
    const driver = new ProcessorDriver(greeks, configOf('auto'));
    for (const y of CURVES) driver.pipeTable('rates.treasury', y.date, y);
    // Thu; Fri 23:30 EST (Sat in UTC); Sun; Mon; then Sat 23rd, 5 days after Monday's curve
    const times = ['2024-11-14T15:00:00Z', '2024-11-16T04:30:00Z', '2024-11-17T15:00:00Z', '2024-11-18T15:00:00Z', '2024-11-23T15:00:00Z'];
    const out = run(driver, times, '2025-06-20');
    const curveDates = ['2024-11-14', '2024-11-15', '2024-11-15', '2024-11-18', null];
    expect(out).toHaveLength(times.length * 2);
    out.forEach((e, i) => {
      const date = curveDates[Math.floor(i / 2)];
      if (date === null) {
        expect(e.rate).toBe(0.045);
        expect(e.flags & FLAGS.RATE_FALLBACK).toBe(FLAGS.RATE_FALLBACK);
      } else {
        expect(e.rate).toBeCloseTo(referenceRate(CURVES.find((c) => c.date === date)!, e.tau!), 15);
        expect(e.flags & FLAGS.RATE_FALLBACK).toBe(0);
      }
      expect(e.iv).not.toBeNull();
    });
  });

  it('a curve arriving later prices only trades released after it; tombstones remove a date', () => {
    const driver = new ProcessorDriver(greeks, configOf('auto'));
    driver.pipeTable('rates.treasury', '2024-11-14', CURVES[0]);
    const before = run(driver, ['2024-11-15T15:00:00Z'], '2025-01-17');
    driver.pipeTable('rates.treasury', '2024-11-15', CURVES[1]);
    const after = run(driver, ['2024-11-15T16:00:00Z'], '2025-01-17');
    expect(before[0].rate).toBeCloseTo(referenceRate(CURVES[0], before[0].tau!), 15);
    expect(after[0].rate).toBeCloseTo(referenceRate(CURVES[1], after[0].tau!), 15);
    driver.pipeTable('rates.treasury', '2024-11-15', null);
    const removed = run(driver, ['2024-11-15T17:00:00Z'], '2025-01-17');
    expect(removed[0].rate).toBeCloseTo(referenceRate(CURVES[0], removed[0].tau!), 15);
  });

  it('with an empty table, auto uses the constant unflagged and topic flags it; config ignores the table', () => {
    const auto = run(new ProcessorDriver(greeks, configOf('auto')), ['2024-11-14T15:00:00Z'], '2025-01-17');
    expect(auto.map((e) => [e.rate, e.flags & FLAGS.RATE_FALLBACK])).toEqual([[0.045, 0], [0.045, 0]]);
    const topic = run(new ProcessorDriver(greeks, configOf('topic')), ['2024-11-14T15:00:00Z'], '2025-01-17');
    expect(topic.map((e) => [e.rate, e.flags & FLAGS.RATE_FALLBACK])).toEqual([[0.045, FLAGS.RATE_FALLBACK], [0.045, FLAGS.RATE_FALLBACK]]);
    const config = new ProcessorDriver(greeks, configOf('config'));
    config.pipeTable('rates.treasury', CURVES[0].date, CURVES[0]);
    expect(run(config, ['2024-11-14T15:00:00Z'], '2025-01-17').map((e) => e.rate)).toEqual([0.045, 0.045]);
  });

  it('expired trades carry no rate and no RATE_FALLBACK', () => {
    const driver = new ProcessorDriver(greeks, configOf('topic'));
    const [call] = run(driver, ['2024-11-14T22:00:00Z'], '2024-11-14');
    expect(call.rate).toBeNull();
    expect(call.flags & (FLAGS.RATE_FALLBACK | FLAGS.TIME_EXPIRED)).toBe(FLAGS.TIME_EXPIRED);
  });
});

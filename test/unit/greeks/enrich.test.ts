import { createGreeksEnricher, type GreeksConfig, type UnderlyingSnapshot } from '../../../src/domain/greeks/enrich';
import { DEFAULT_AGGRESSOR_CONFIG } from '../../../src/domain/aggressor';
import { bsmPrice } from '../../../src/domain/pricing/bsm';
import { describeFlags } from '../../../src/domain/pricing/flags';
import { rateCurveFromTenors } from '../../../src/domain/pricing/rates';
import type { OptionTrade } from '../../../src/domain/records';
import { greeksPackage } from '../pricing/oracles';

const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
/** 10:30 EDT on Friday 2025-03-14; the contract expires Friday 2025-03-21 16:00 EDT = 20:00 UTC. */
const T = ns('2025-03-14T14:30:00Z');
const TAU = (7 * 86_400 - 0 + 5.5 * 3600) / 31_536_000;

const config: GreeksConfig = {
  multiplier: 100,
  stalenessNs: 1_000_000_000n,
  rate: 0.045,
  dividendYields: { SPY: 0.012 },
  defaultDividendYield: 0,
  maxAskBidRatio: 1.5,
};
const enrich = createGreeksEnricher(config);

function trade(overrides: Partial<OptionTrade> = {}): OptionTrade {
  return {
    ticker: 'O:SPY250321C00560000',
    underlying: 'SPY',
    root: 'SPY',
    expiration_date: '2025-03-21',
    right: 'C',
    strike: 560,
    sip_timestamp: T,
    participant_timestamp: T - 5_000n,
    sequence_number: null,
    price: 7.5,
    size: 12n,
    exchange: 312,
    conditions: [209],
    correction: null,
    source: 'flatfile',
    origin: 'us_options_opra/trades_v1/2025/03/2025-03-14.csv.gz',
    origin_offset: 42n,
    ...overrides,
  };
}
const quote = (bid: number | null, ask: number | null, ageNs = 200_000_000n): UnderlyingSnapshot => ({
  kind: 'quote',
  bid,
  ask,
  timestamp: T - ageNs,
});
const noGreeks = { iv: null, delta: null, gamma: null, vega: null, theta: null, dadvv: null, gadvv: null };

describe('enrich: full path', () => {
  it('computes S, τ, r, q, IV and Greeks that match the npm greeks package (q = 0)', () => {
    const q0 = createGreeksEnricher({ ...config, dividendYields: {} });
    const price = bsmPrice('C', 562.5, 560, TAU, 0.045, 0, 0.18);
    const out = q0(trade({ price }), quote(562.49, 562.51));
    expect(describeFlags(out.flags)).toEqual([]);
    expect(out.underlying_price).toBeCloseTo(562.5, 12);
    expect(out.underlying_timestamp).toBe(T - 200_000_000n);
    expect(out.tau).toBeCloseTo(TAU, 15);
    expect(out.rate).toBe(0.045);
    expect(out.dividend_yield).toBe(0);
    expect(out.iv).toBeCloseTo(0.18, 9);
    const S = 562.5;
    expect(out.delta).toBeCloseTo(greeksPackage.getDelta(S, 560, TAU, 0.18, 0.045, 'call'), 9);
    expect(out.gamma).toBeCloseTo(greeksPackage.getGamma(S, 560, TAU, 0.18, 0.045), 9);
    expect(out.vega).toBeCloseTo(greeksPackage.getVega(S, 560, TAU, 0.18, 0.045) * 100, 7);
    expect(out.theta).toBeCloseTo(greeksPackage.getTheta(S, 560, TAU, 0.18, 0.045, 'call', 1), 6);
    expect(out.intrinsic).toBeCloseTo(2.5, 12);
    expect(out.dadvv).toBeCloseTo(Math.abs(out.delta ?? NaN) * S * 12 * 100, 6);
    expect(out.gadvv).toBeCloseTo(Math.abs(out.gamma ?? NaN) * S * S * 12 * 100, 6);
    expect(out.dadvv).toBeGreaterThan(0.4 * S * 1200);
  });

  it('keeps every trade field and leaves the aggressor fields null without a contract quote', () => {
    const input = trade();
    const out = enrich(input, quote(562.49, 562.51));
    for (const [key, value] of Object.entries(input)) expect([key, out[key as keyof typeof out]]).toEqual([key, value]);
    expect(out.aggressor_side).toBeNull();
    expect(out.aggressor_method).toBeNull();
    expect(out.quote_age_ns).toBeNull();
    expect(out.mid_offset_bps).toBeNull();
  });

  it('uses q of the underlying, else the configured default', () => {
    expect(enrich(trade(), quote(562.49, 562.51)).dividend_yield).toBe(0.012);
    const qqq = enrich(trade({ underlying: 'QQQ', root: 'QQQ' }), quote(562.49, 562.51));
    expect(qqq.dividend_yield).toBe(0);
  });

  it('prices a put with |Δ| in dADVV', () => {
    const price = bsmPrice('P', 562.5, 560, TAU, 0.045, 0.012, 0.2);
    const out = enrich(trade({ right: 'P', price }), quote(562.49, 562.51));
    expect(out.iv).toBeCloseTo(0.2, 9);
    expect(out.delta).toBeLessThan(0);
    expect(out.dadvv).toBeCloseTo(-(out.delta ?? NaN) * 562.5 * 1200, 6);
    expect(out.intrinsic).toBe(0);
  });

  it('fills the aggressor side from the contract quote when given', () => {
    const out = enrich(trade({ price: 7.6 }), quote(562.49, 562.51), {
      quote: { bid_price: 7.4, ask_price: 7.6, sip_timestamp: T - 3_000n },
      previousTradePrice: null,
      config: DEFAULT_AGGRESSOR_CONFIG,
    });
    expect(out.aggressor_side).toBe('BUY');
    expect(out.aggressor_method).toBe('quote');
    expect(out.quote_age_ns).toBe(3_000n);
    expect(out.mid_offset_bps).toBeCloseTo((0.1 / 7.5) * 1e4, 9);
  });
});

describe('enrich: underlying price S', () => {
  it('uses the one present side of a one-sided quote', () => {
    expect(enrich(trade(), quote(562.4, null)).underlying_price).toBe(562.4);
    expect(enrich(trade(), quote(null, 562.6)).underlying_price).toBe(562.6);
  });

  it('uses the last trade price in trade mode', () => {
    const out = enrich(trade(), { kind: 'trade', price: 562.37, timestamp: T - 10n });
    expect(out.underlying_price).toBe(562.37);
    expect(out.intrinsic).toBeCloseTo(2.37, 12);
    expect(out.iv).not.toBeNull();
  });

  it.each<[string, UnderlyingSnapshot | null, string[]]>([
    ['no snapshot', null, ['NO_UNDERLYING']],
    ['a quote with no side', quote(null, null), ['NO_UNDERLYING']],
    ['locked', quote(562.5, 562.5), ['NO_UNDERLYING', 'LOCKED']],
    ['crossed', quote(562.6, 562.4), ['NO_UNDERLYING', 'CROSSED']],
    ['ask/bid above 1.5', quote(300, 562.5), ['NO_UNDERLYING', 'BAD_RATIO']],
    ['a zero bid', quote(0, 562.5), ['NO_UNDERLYING', 'BAD_RATIO']],
    ['mid ≤ 0', quote(-2, 1), ['NO_UNDERLYING', 'MID_NONPOS']],
    ['a one-sided zero ask', quote(null, 0), ['NO_UNDERLYING', 'MID_NONPOS']],
    ['a zero last trade', { kind: 'trade', price: 0, timestamp: T }, ['NO_UNDERLYING', 'MID_NONPOS']],
    ['a quote 1 s + 1 ns old', quote(562.49, 562.51, 1_000_000_001n), ['NO_UNDERLYING', 'NBBO_STALE']],
    ['a stale last trade', { kind: 'trade', price: 562.5, timestamp: T - 2_000_000_000n }, ['NO_UNDERLYING', 'NBBO_STALE']],
  ])('gives no S, no IV, no Greeks and no intrinsic for %s', (_name, snapshot, reasons) => {
    const out = enrich(trade(), snapshot);
    expect(describeFlags(out.flags)).toEqual([...reasons.slice(0, 1), 'NO_IV', ...reasons.slice(1)]);
    expect(out).toMatchObject({ underlying_price: null, underlying_timestamp: null, intrinsic: null, ...noGreeks });
    expect(out.tau).toBeCloseTo(TAU, 15);
    expect(out.rate).toBe(0.045);
  });

  it('accepts a quote exactly at the staleness bound and a ratio exactly at the maximum', () => {
    expect(enrich(trade(), quote(562.49, 562.51, 1_000_000_000n)).underlying_price).toBeCloseTo(562.5, 12);
    expect(enrich(trade(), quote(400, 600)).underlying_price).toBe(500);
  });

  it('refuses a snapshot from after the trade', () => {
    expect(() => enrich(trade(), quote(562.49, 562.51, -1n))).toThrow(/as-of/);
  });
});

describe('enrich: time, rate and IV flags', () => {
  const S = quote(562.49, 562.51);

  it('gives a 0DTE trade before 16:00 ET Greeks', () => {
    const t = ns('2025-03-21T19:00:00Z'); // 15:00 EDT on expiry day
    const price = bsmPrice('C', 562.5, 560, 3600 / 31_536_000, 0.045, 0.012, 0.15);
    const out = enrich(trade({ sip_timestamp: t, price }), { ...S, timestamp: t - 1n } as UnderlyingSnapshot);
    expect(describeFlags(out.flags)).toEqual([]);
    expect(out.tau).toBeCloseTo(3600 / 31_536_000, 15);
    expect(out.iv).toBeCloseTo(0.15, 8);
    expect(out.delta).not.toBeNull();
  });

  it('marks a trade at 16:00:01 ET on expiry day TIME_EXPIRED with no τ, rate or Greeks', () => {
    const t = ns('2025-03-21T20:00:01Z');
    const out = enrich(trade({ sip_timestamp: t }), { ...S, timestamp: t - 1n } as UnderlyingSnapshot);
    expect(describeFlags(out.flags)).toEqual(['NO_IV', 'TIME_EXPIRED']);
    expect(out).toMatchObject({ tau: null, rate: null, ...noGreeks });
    expect(out.intrinsic).toBeCloseTo(2.5, 12);
  });

  it('floors τ at 1 s with TAU_CLAMPED and still solves', () => {
    const t = ns('2025-03-21T20:00:00Z') - 500_000_000n;
    const out = enrich(trade({ sip_timestamp: t, price: 2.5 }), { ...S, timestamp: t - 1n } as UnderlyingSnapshot);
    expect(out.tau).toBe(1 / 31_536_000);
    expect(describeFlags(out.flags)).toContain('TAU_CLAMPED');
    expect(out.iv).not.toBeNull();
  });

  it('flags NO_RATE when no rate is configured, keeping S and intrinsic', () => {
    const out = createGreeksEnricher({ ...config, rate: null })(trade(), S);
    expect(describeFlags(out.flags)).toEqual(['NO_IV', 'NO_RATE']);
    expect(out).toMatchObject({ rate: null, ...noGreeks });
    expect(out.underlying_price).toBeCloseTo(562.5, 12);
    expect(out.intrinsic).toBeCloseTo(2.5, 12);
  });

  it('interpolates a curve at τ and flags RATE_EXTRAP past its last tenor', () => {
    const curve = rateCurveFromTenors({ '1m': 0.043, '3m': 0.042 });
    const withCurve = createGreeksEnricher({ ...config, rate: curve });
    const week = withCurve(trade(), S);
    expect(week.rate).toBeCloseTo(0.043, 15);
    expect(describeFlags(week.flags)).toEqual([]);
    const far = withCurve(trade({ expiration_date: '2025-12-19', price: 35 }), S);
    expect(far.rate).toBe(0.042);
    expect(describeFlags(far.flags)).toEqual(['RATE_EXTRAP']);
    expect(far.iv).not.toBeNull();
  });

  it('flags PRICE_BELOW_INTRINSIC with no IV below intrinsic − 1e-4', () => {
    const out = enrich(trade({ strike: 550, price: 12.3 }), S);
    expect(describeFlags(out.flags)).toEqual(['NO_IV', 'PRICE_BELOW_INTRINSIC']);
    expect(out).toMatchObject(noGreeks);
    expect(out.intrinsic).toBeCloseTo(12.5, 12);
  });

  it('flags IV_NEWTON_FAIL and IV_BISECT_FAIL for a price no σ ≤ 5 reaches', () => {
    const out = enrich(trade({ price: 300 }), S);
    expect(describeFlags(out.flags)).toEqual(['NO_IV', 'IV_NEWTON_FAIL', 'IV_BISECT_FAIL']);
    expect(out).toMatchObject(noGreeks);
  });

  it('flags VEGA_TINY for a deep ITM trade at its forward value, keeping Greeks', () => {
    const out = enrich(trade({ strike: 400, price: 162.5 + 400 * (1 - Math.exp(-0.045 * TAU)) - 562.5 * (1 - Math.exp(-0.012 * TAU)) }), S);
    expect(describeFlags(out.flags)).toEqual(['VEGA_TINY']);
    expect(out.delta).toBeCloseTo(Math.exp(-0.012 * TAU), 9);
    expect(out.dadvv).toBeCloseTo(Math.exp(-0.012 * TAU) * 562.5 * 1200, 3);
  });
});

describe('createGreeksEnricher', () => {
  it('rejects an invalid config with every problem listed', () => {
    expect(() =>
      createGreeksEnricher({ ...config, multiplier: 0, maxAskBidRatio: 1, defaultDividendYield: NaN }),
    ).toThrow('invalid greeks config: multiplier must be > 0; maxAskBidRatio must be > 1; defaultDividendYield must be a finite number');
  });
});

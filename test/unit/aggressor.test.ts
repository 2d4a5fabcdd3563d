import { classifyAggressor, DEFAULT_AGGRESSOR_CONFIG, type ContractQuote } from '../../src/domain/aggressor';

const T = 1_741_362_000_000_000_000n;
const quote = (bid: number | null, ask: number | null, ageNs = 1_000n): ContractQuote => ({
  bid_price: bid,
  ask_price: ask,
  sip_timestamp: T - ageNs,
});
const cfg = DEFAULT_AGGRESSOR_CONFIG;
const side = (price: number, q: ContractQuote | null, previous: number | null = null, config = cfg) =>
  classifyAggressor(price, T, q, previous, config).side;

describe('classifyAggressor: quote rule', () => {
  const q = quote(1.2, 1.3);

  it('BUY at or through the ask, SELL at or through the bid, INSIDE strictly between', () => {
    expect(side(1.3, q)).toBe('BUY');
    expect(side(1.35, q)).toBe('BUY');
    expect(side(1.2, q)).toBe('SELL');
    expect(side(1.1, q)).toBe('SELL');
    expect(side(1.25, q)).toBe('INSIDE');
    expect(side(1.29, q)).toBe('INSIDE');
    expect(side(1.21, q)).toBe('INSIDE');
  });

  it('applies ε = 1e-4 at both edges', () => {
    expect(side(1.3 - 0.0000999, q)).toBe('BUY');
    expect(side(1.3 - 0.0001001, q)).toBe('INSIDE');
    expect(side(1.2 + 0.0000999, q)).toBe('SELL');
    expect(side(1.2 + 0.0001001, q)).toBe('INSIDE');
    const wide = { ...cfg, epsilon: 0.01 };
    expect(side(1.29, q, null, wide)).toBe('BUY');
    expect(side(1.21, q, null, wide)).toBe('SELL');
    expect(side(1.28, q, null, wide)).toBe('INSIDE');
  });

  it('tests BUY first when the spread is under 2ε', () => {
    expect(side(1.20005, quote(1.2, 1.2001))).toBe('BUY');
  });

  it('reports quote age and offset from mid in basis points', () => {
    const result = classifyAggressor(1.3, T, quote(1.2, 1.3, 250_000_000n), null, cfg);
    expect(result).toEqual({ side: 'BUY', method: 'quote', quote_age_ns: 250_000_000n, mid_offset_bps: expect.any(Number) });
    expect(result.mid_offset_bps).toBeCloseTo(((1.3 - 1.25) / 1.25) * 1e4, 10);
    expect(classifyAggressor(1.2, T, q, null, cfg).mid_offset_bps).toBeCloseTo(-400, 10);
  });

  it('is UNKNOWN for a missing, stale, crossed or locked quote, or one without an ask', () => {
    expect(classifyAggressor(1.3, T, null, null, cfg)).toEqual({
      side: 'UNKNOWN',
      method: 'quote',
      quote_age_ns: null,
      mid_offset_bps: null,
    });
    const stale = classifyAggressor(1.3, T, quote(1.2, 1.3, 1_000_000_001n), null, cfg);
    expect(stale).toEqual({ side: 'UNKNOWN', method: 'quote', quote_age_ns: 1_000_000_001n, mid_offset_bps: null });
    expect(side(1.3, quote(1.2, 1.3, 1_000_000_000n))).toBe('BUY');
    expect(side(1.3, quote(1.3, 1.2))).toBe('UNKNOWN');
    expect(classifyAggressor(1.3, T, quote(1.3, 1.2), null, cfg).mid_offset_bps).toBeNull();
    const locked = classifyAggressor(1.3, T, quote(1.25, 1.25), null, cfg);
    expect(locked.side).toBe('UNKNOWN');
    expect(locked.mid_offset_bps).toBeCloseTo(400, 10);
    expect(side(0.05, quote(0.05, null))).toBe('UNKNOWN');
    expect(side(0.05, quote(null, null))).toBe('UNKNOWN');
  });

  it('treats an absent bid as a zero bid', () => {
    expect(side(0.05, quote(null, 0.05))).toBe('BUY');
    expect(side(0.03, quote(null, 0.05))).toBe('INSIDE');
    expect(classifyAggressor(0.05, T, quote(null, 0.05), null, cfg).mid_offset_bps).toBeCloseTo(1e4, 10);
  });

  it('refuses a quote from after the trade', () => {
    expect(() => classifyAggressor(1.3, T, quote(1.2, 1.3, -1n), null, cfg)).toThrow(/as-of/);
  });
});

describe('classifyAggressor: tick-rule fallback', () => {
  const tick = { ...cfg, tickRuleFallback: true };

  it('is off by default', () => {
    expect(side(1.3, null, 1.2)).toBe('UNKNOWN');
  });

  it('classifies UNKNOWN trades by the previous trade, recording method tick', () => {
    expect(classifyAggressor(1.3, T, null, 1.2, tick)).toEqual({
      side: 'BUY',
      method: 'tick',
      quote_age_ns: null,
      mid_offset_bps: null,
    });
    expect(classifyAggressor(1.1, T, quote(1.3, 1.2), 1.2, tick)).toMatchObject({ side: 'SELL', method: 'tick', quote_age_ns: 1_000n });
  });

  it('leaves a zero tick (within ε) or no previous trade UNKNOWN with method quote', () => {
    expect(classifyAggressor(1.2, T, null, 1.2, tick)).toMatchObject({ side: 'UNKNOWN', method: 'quote' });
    expect(classifyAggressor(1.20005, T, null, 1.2, tick)).toMatchObject({ side: 'UNKNOWN', method: 'quote' });
    expect(classifyAggressor(1.2, T, null, null, tick)).toMatchObject({ side: 'UNKNOWN', method: 'quote' });
  });

  it('never overrides a quote-rule decision', () => {
    expect(classifyAggressor(1.25, T, quote(1.2, 1.3), 1.0, tick)).toMatchObject({ side: 'INSIDE', method: 'quote' });
  });
});

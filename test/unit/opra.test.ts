import { formatOpra, OpraSymbolError, parseOpra, tryParseOpra } from '../../src/domain/opra';

describe('parseOpra', () => {
  it('parses the DESIGN example', () => {
    expect(parseOpra('O:SPY251219C00650000')).toEqual({
      underlying: 'SPY',
      root: 'SPY',
      expiration_date: '2025-12-19',
      right: 'C',
      strike: 650,
    });
  });

  it('parses real rows from the Massive sample and fractional strikes', () => {
    expect(parseOpra('O:SPY230327P00390000')).toMatchObject({ expiration_date: '2023-03-27', right: 'P', strike: 390 });
    expect(parseOpra('O:AAPL250117C00197500').strike).toBe(197.5);
    expect(parseOpra('O:F250117P00012125').strike).toBe(12.125);
    expect(parseOpra('O:X240620C00000500').strike).toBe(0.5);
  });

  it('handles roots with digits and maps roots to underlyings through config', () => {
    const roots = { SPXW: 'SPX', NDXP: 'NDX' };
    expect(parseOpra('O:SPXW251219P05800000', roots)).toMatchObject({ root: 'SPXW', underlying: 'SPX', strike: 5800 });
    expect(parseOpra('O:SPY1251219C00650000', roots)).toMatchObject({ root: 'SPY1', underlying: 'SPY1' });
    expect(parseOpra('O:SPX251219C05800000', roots).underlying).toBe('SPX');
  });

  it('accepts a leap day and rejects impossible dates', () => {
    expect(parseOpra('O:SPY240229C00500000').expiration_date).toBe('2024-02-29');
    expect(() => parseOpra('O:SPY250229C00500000')).toThrow(/calendar date/);
    expect(() => parseOpra('O:SPY251301C00500000')).toThrow(/calendar date/);
    expect(() => parseOpra('O:SPY251200C00500000')).toThrow(/calendar date/);
  });

  it.each([
    ['SPY251219C00650000', /'O:' prefix/],
    ['O:251219C00650000', /too short/],
    ['O:', /too short/],
    ['O:ABCDEFG251219C00650000', /longer than 6/],
    ['O:spy251219C00650000', /upper-case/],
    ['O:SP-251219C00650000', /upper-case/],
    ['O:SPY2512X9C00650000', /YYMMDD/],
    ['O:SPY251219X00650000', /'C' or 'P'/],
    ['O:SPY251219C0065000A', /8 digits/],
    ['O:SPY251219C00000000', /zero/],
    ['O:SPY251219C0065000', /upper-case|8 digits|YYMMDD|'C' or 'P'/],
  ])('rejects %s with a clear error', (ticker, reason) => {
    expect(() => parseOpra(ticker)).toThrow(OpraSymbolError);
    expect(() => parseOpra(ticker)).toThrow(reason);
    expect(tryParseOpra(ticker)).toBeNull();
  });

  it('names the symbol in the error', () => {
    expect(() => parseOpra('O:SPY251219Q00650000')).toThrow(
      "'O:SPY251219Q00650000' is not an OPRA option symbol (O:<root><YYMMDD><C|P><8-digit strike>): right must be 'C' or 'P'",
    );
  });

  it('round-trips with formatOpra', () => {
    for (const ticker of ['O:SPY251219C00650000', 'O:SPXW250307P05712500', 'O:Q260116C00000010']) {
      const f = parseOpra(ticker);
      expect(formatOpra(f.root, f.expiration_date, f.right, f.strike)).toBe(ticker);
    }
  });
});

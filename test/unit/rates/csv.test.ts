import { CsvImportError, parseYieldsCsv, tenorOfColumn } from '../../../src/rates/csv';

describe('rates import: CSV columns by header', () => {
  it('maps Massive, short, Treasury and FRED tenor headers', () => {
    expect(['yield_1_month', '1m', '1 Mo', 'DGS1MO'].map(tenorOfColumn)).toEqual(Array(4).fill('yield_1_month'));
    expect(['yield_10_year', '10y', '10 Yr', 'DGS10'].map(tenorOfColumn)).toEqual(Array(4).fill('yield_10_year'));
    expect(['6 Mo', '12m', '30 Yr'].map(tenorOfColumn)).toEqual(['yield_6_month', 'yield_1_year', 'yield_30_year']);
    expect(['2 Mo', '4 Mo', '6 Wk', '1.5 Month'].map(tenorOfColumn)).toEqual(Array(4).fill('ignored'));
    expect(['Date', 'note'].map(tenorOfColumn)).toEqual([null, null]);
  });

  it("reads Treasury's own CSV layout (MM/DD/YYYY, quoted headers, extra bill tenors)", () => {
    const csv = [
      '"Date","1 Mo","2 Mo","3 Mo","4 Mo","6 Mo","1 Yr","2 Yr","3 Yr","5 Yr","7 Yr","10 Yr","20 Yr","30 Yr"',
      '03/08/2022,0.23,0.28,0.39,0.50,0.69,1.04,1.62,1.75,1.84,1.89,1.86,2.29,2.27',
      '03/07/2022,0.20,0.26,0.37,0.47,0.67,1.00,1.55,1.71,1.77,1.80,1.78,2.22,2.20',
      '03/06/2022,N/A,,,,,,,,,,,,',
    ].join('\n');
    const out = parseYieldsCsv(csv);
    expect(out.ignoredColumns).toEqual(['2 Mo', '4 Mo']);
    expect(out.emptyRows).toBe(1);
    expect(out.rows.map((r) => r.date)).toEqual(['2022-03-07', '2022-03-08']);
    expect(out.rows[1]).toEqual({
      date: '2022-03-08', source: 'csv', yield_1_month: 0.23, yield_3_month: 0.39, yield_6_month: 0.69, yield_1_year: 1.04, yield_2_year: 1.62,
      yield_3_year: 1.75, yield_5_year: 1.84, yield_7_year: 1.89, yield_10_year: 1.86, yield_20_year: 2.29, yield_30_year: 2.27,
    });
  });

  it('reads FRED columns with "." for missing', () => {
    const out = parseYieldsCsv('observation_date,DGS3MO,DGS10\n2024-01-02,5.46,3.95\n2024-01-03,.,3.91\n');
    expect(out.rows.map((r) => [r.date, r.yield_3_month, r.yield_10_year, r.yield_1_month])).toEqual([['2024-01-02', 5.46, 3.95, null], ['2024-01-03', null, 3.91, null]]);
  });

  it('fails the whole file with the line on a bad value, date or duplicate', () => {
    expect(() => parseYieldsCsv('date,1m\n2024-01-02,4.1\n2024-01-03,x\n')).toThrow("line 3: 1m 'x' is not a number");
    expect(() => parseYieldsCsv('date,1m\n2024-13-02,4.1\n')).toThrow(/line 2: date/);
    expect(() => parseYieldsCsv('date,1m\n02/30/2024,4.1\n')).toThrow("line 2: date '02/30/2024' is not a YYYY-MM-DD or MM/DD/YYYY calendar date");
    expect(() => parseYieldsCsv('date,1m\n2024-01-02,4.1\n2024-01-02,4.2\n')).toThrow('line 3: date 2024-01-02 appears twice');
    expect(() => parseYieldsCsv('day,1m\n2024-01-02,4.1\n')).toThrow(/no date column/);
    expect(() => parseYieldsCsv('date,note\n2024-01-02,x\n')).toThrow(/no tenor column/);
    expect(() => parseYieldsCsv('date,1m,1 Mo\n2024-01-02,4.1,4.1\n')).toThrow(CsvImportError);
  });
});

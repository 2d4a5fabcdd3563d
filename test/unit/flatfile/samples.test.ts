import type { EquityQuote, EquityTrade, OptionQuote, OptionTrade } from '../../../src/domain/records';
import { parseAll, sampleText } from './helpers';

describe('real Massive sample rows', () => {
  it('stock trades: quoted condition lists, empty correction/trf_id, exact ns', () => {
    const { records, rejections, parser } = parseAll('stock-trades', sampleText('stock_trades_sample.csv.gz'), '*', 97);
    expect(rejections).toEqual([]);
    // The shared README says 98 rows; the file holds 99 (Python's csv module agrees).
    expect(records).toHaveLength(99);
    const first = records[0] as EquityTrade;
    expect(first).toEqual({
      ticker: 'MSFT', sip_timestamp: 1679990400018381329n, participant_timestamp: 1679990400018025984n,
      trf_timestamp: null, sequence_number: 1550n, id: '1', exchange: 11, tape: 3, trf_id: null,
      price: 276.16, size: 55, conditions: [12, 37], correction: null,
      source: 'flatfile', origin: 'test-key', origin_offset: 2n,
    });
    const second = records[1] as EquityTrade;
    expect(second.conditions).toEqual([12]);
    const four = records.find((r) => (r as EquityTrade).conditions.length === 4) as EquityTrade;
    expect(four.conditions).toEqual([14, 12, 37, 41]);
    expect((records[98] as EquityTrade).origin_offset).toBe(100n);
    expect(parser.stats.accepted).toBe(99);
    expect(parser.stats.lines).toBe(100);
  });

  it('stock quotes: header "Ticker", absent sides → null', () => {
    const { records, rejections, parser } = parseAll('stock-quotes', sampleText('stock_quotes_sample.csv.gz'));
    expect(rejections).toEqual([]);
    expect(parser.header!.indexOf('ticker')).toBe(0);
    expect(records).toHaveLength(99);
    const bothAbsent = records[0] as EquityQuote;
    expect(bothAbsent.ticker).toBe('MSFT');
    expect([bothAbsent.bid_price, bothAbsent.bid_size, bothAbsent.ask_price, bothAbsent.ask_size]).toEqual([null, null, null, null]);
    expect(bothAbsent.conditions).toEqual([19]);
    expect(bothAbsent.indicators).toEqual([]);
    expect(bothAbsent.trf_timestamp).toBeNull();
    const askAbsent = records[2] as EquityQuote;
    expect(askAbsent.ask_price).toBeNull();
    expect(askAbsent.ask_exchange).toBeNull();
    expect(askAbsent.bid_price).toBe(275.33);
    expect(askAbsent.bid_size).toBe(2n);
    expect(askAbsent.bid_exchange).toBe(12);
    expect(askAbsent.sip_timestamp).toBe(1679990400004468151n);
    expect(askAbsent.sequence_number).toBe(3178n);
  });

  it('option trades: 8 columns with participant_timestamp, parsed OPRA fields', () => {
    const { records, rejections, parser } = parseAll('option-trades', sampleText('options_trades_example.csv.gz'), ['SPY']);
    expect(rejections).toEqual([]);
    expect(parser.header!.fieldCount).toBe(8);
    expect(records).toHaveLength(62);
    const first = records[0] as OptionTrade;
    expect(first).toEqual({
      ticker: 'O:SPY230327P00390000', underlying: 'SPY', root: 'SPY', expiration_date: '2023-03-27',
      right: 'P', strike: 390, sip_timestamp: 1678715620948000000n, participant_timestamp: 1678715620948000000n,
      sequence_number: null, price: 11.82, size: 1n, exchange: 312, conditions: [232], correction: null,
      source: 'flatfile', origin: 'test-key', origin_offset: 2n,
    });
  });

  it('option quotes: sides, sequence, strike /1000', () => {
    const { records, rejections } = parseAll('option-quotes', sampleText('options_quotes_example.csv.gz'), '*', 13);
    expect(rejections).toEqual([]);
    expect(records).toHaveLength(99);
    const first = records[0] as OptionQuote;
    expect(first).toMatchObject({
      ticker: 'O:SPY241220P00720000', strike: 720, right: 'P', expiration_date: '2024-12-20',
      ask_exchange: 309, ask_price: 326.77, ask_size: 1n, bid_exchange: 309, bid_price: 321.77, bid_size: 1n,
      sequence_number: 81779n, sip_timestamp: 1680010200067217664n,
    });
  });

  it('drops the stock universe filter to nothing for another ticker', () => {
    const { records, parser } = parseAll('stock-trades', sampleText('stock_trades_sample.csv.gz'), ['SPY']);
    expect(records).toHaveLength(0);
    expect(parser.stats.filtered).toBe(99);
  });
});

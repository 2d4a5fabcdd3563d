import { decodeAvro, encodeAvro, projection, typeOf } from '../../../src/avro/types';
import type { EquityQuote } from '../../../src/domain/records';
import { ProcessorDriver } from '../../../src/processors/runtime/driver';
import { input, Processor, ProcessorDefinition } from '../../../src/processors/runtime/types';
import { loadConfig } from '../../../src/config';

const QUOTE: EquityQuote = {
  ticker: 'SPY', sip_timestamp: 1741358400123456789n, participant_timestamp: 1741358400123000000n, trf_timestamp: null, sequence_number: 42n,
  bid_price: 570.11, bid_size: 3n, bid_exchange: 11, ask_price: 570.13, ask_size: 200n, ask_exchange: 12, conditions: [1, 93], indicators: [604],
  tape: 3, source: 'flatfile', origin: 'us_stocks_sip/quotes_v1/2025/03/2025-03-07.csv.gz', origin_offset: 9_000_000_001n,
};

describe('projection: a record decoded into the fields its reader names', () => {
  it('gives exactly those fields, with the values the whole decode gives, and skips the rest', () => {
    const whole = typeOf('EquityQuote');
    const reader = projection('EquityQuote', ['ask_price', 'ticker', 'sip_timestamp']);
    const bytes = encodeAvro(whole, QUOTE);
    const read = decodeAvro(reader, bytes, 0, reader.createResolver(whole));
    expect({ ...(read as object) }).toEqual({ ticker: 'SPY', sip_timestamp: 1741358400123456789n, ask_price: 570.13 });
  });

  it('refuses a field the schema does not have', () => {
    expect(() => projection('EquityQuote', ['ticker', 'bid'])).toThrow('EquityQuote has no field(s) bid');
  });

  it('a truncated record still fails where the skipped fields were cut', () => {
    const whole = typeOf('EquityQuote');
    const reader = projection('EquityQuote', ['ticker', 'sip_timestamp']);
    const bytes = encodeAvro(whole, QUOTE);
    expect(() => decodeAvro(reader, bytes.subarray(0, bytes.length - 3), 0, reader.createResolver(whole))).toThrow('truncated buffer');
  });
});

describe('the in-memory driver hands a processor only the fields its input reads, as the runtime decodes them', () => {
  it('one field and the event time, nothing else', () => {
    const seen: object[] = [];
    const definition: ProcessorDefinition<Processor & { seen: object[] }> = {
      name: 'probe',
      description: 'records what it is given',
      inputs: [input('equity.quotes', 'EquityQuote', (p, record) => p.seen.push({ ...record.value }), ['bid_price'])],
      outputs: [],
      stateHorizonNs: () => 0n,
      create: () => ({ seen, onWatermark: () => undefined }),
    };
    new ProcessorDriver(definition, loadConfig({ env: { NODE_ENV: 'test' } })).pipe('equity.quotes', QUOTE, 'SPY');
    expect(seen).toEqual([{ bid_price: 570.11, sip_timestamp: 1741358400123456789n }]);
  });
});

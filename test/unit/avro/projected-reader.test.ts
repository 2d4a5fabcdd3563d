import type * as avro from 'avsc';
import { compileProjectedReader } from '../../../src/avro/projected-reader';
import { avroType, decodeAvro, encodeAvro, projection, typeOf, type SchemaName } from '../../../src/avro/types';
import { Fuzz } from '../fuzz/mutate';

/**
 * The compiled projection reader against its oracle, avsc's resolver from the whole schema to the same
 * projection (decodeAvro, as TopicSerde read before): same fields in the same order with the same
 * values, and a failure wherever avsc fails, with its message, on random records and corruptions of
 * every schema the topics carry.
 */
const SCHEMAS: SchemaName[] = ['EquityTrade', 'EquityQuote', 'OptionTrade', 'OptionQuote', 'EnrichedOptionTrade', 'Features', 'TradeCounts', 'TreasuryYields', 'DeadLetter'];

type Node = avro.Type & { typeName: string; types?: Node[]; itemsType?: Node; symbols?: string[]; fields?: { name: string; type: Node }[] };

const EDGE_LONGS = [0n, -1n, 1n, 63n, -64n, 2n ** 31n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 1741357800123456789n];
const EDGE_INTS = [0, -1, 1, 63, -64, 8191, 2 ** 27, -(2 ** 28), 2 ** 31 - 1, -(2 ** 31)];
const TEXT = ['', 'SPY', 'O:SPY250307C00570000', 'é', '€uro', '日本', 'a\u0000b', 'x'.repeat(300)];

function randomValue(type: Node, fuzz: Fuzz): unknown {
  switch (type.typeName) {
    case 'null':
      return null;
    case 'boolean':
      return fuzz.chance(0.5);
    case 'int':
      return fuzz.chance(0.5) ? fuzz.pick(EDGE_INTS) : fuzz.int(2000) - 1000;
    case 'abstract:long':
      return fuzz.chance(0.5) ? fuzz.pick(EDGE_LONGS) : BigInt(fuzz.int(1e9)) * BigInt(fuzz.int(1e9)) - 10n ** 17n;
    case 'double':
      return fuzz.pick([0, -0, 1.5, -570.13, 1e-300, Number.MAX_VALUE, Number.NaN, Infinity, fuzz.int(1e6) / 7]);
    case 'string':
      return fuzz.pick(TEXT);
    case 'bytes':
      return Buffer.from(fuzz.pick(TEXT), 'utf8');
    case 'enum':
      return fuzz.pick(type.symbols!);
    case 'array':
      return Array.from({ length: fuzz.int(4) }, () => randomValue(type.itemsType!, fuzz));
    case 'union:unwrapped':
      return randomValue(fuzz.pick(type.types!), fuzz);
    case 'record':
      return Object.fromEntries(type.fields!.map((f) => [f.name, randomValue(f.type, fuzz)]));
    default:
      throw new Error(`no generator for ${type.typeName}`);
  }
}

type Outcome = { value: unknown; keys: string[] } | { error: string };

function outcome(read: () => unknown): Outcome {
  try {
    const value = read();
    return { value: { ...(value as object) }, keys: Object.keys(value as object) };
  } catch (err) {
    // avsc's resolver names no enum in its message; the compiled reader names the enum.
    return { error: (err as Error).message.replace(/^invalid \S+ enum index/, 'invalid enum index') };
  }
}

function randomReads(fields: string[], fuzz: Fuzz): string[] {
  const picked = fields.filter(() => fuzz.chance(0.3));
  return picked.length > 0 ? picked : [fuzz.pick(fields)];
}

describe('compileProjectedReader: the fields a processor reads, as avsc resolves them', () => {
  for (const name of SCHEMAS) {
    it(`${name}: random records and projections, whole and corrupted, read as avsc reads them`, () => {
      const whole = typeOf(name) as Node;
      const fields = whole.fields!.map((f) => f.name);
      const fuzz = new Fuzz(`projected-reader-${name}`);
      let compared = 0;
      let failures = 0;
      for (let i = 0; i < 150; i++) {
        const reads = i === 0 ? fields : randomReads(fields, fuzz);
        const reader = projection(name, reads);
        const resolver = reader.createResolver(whole);
        const compiled = compileProjectedReader(whole, reads)!;
        expect(compiled).not.toBeNull();
        const record = encodeAvro(whole, randomValue(whole, fuzz), Buffer.from([0, 0, 0, 0, 7]));
        const variants = [record, Buffer.concat([record, Buffer.from([0])]), record.subarray(0, 5 + fuzz.int(record.length - 5))];
        for (let m = 0; m < 6; m++) {
          const flipped = Buffer.from(record);
          flipped[5 + fuzz.int(flipped.length - 5)] = fuzz.int(256);
          variants.push(flipped);
        }
        for (const bytes of variants) {
          const expected = outcome(() => decodeAvro(reader, bytes, 5, resolver));
          expect(outcome(() => compiled(bytes, 5))).toEqual(expected);
          compared++;
          if ('error' in expected) failures++;
        }
      }
      // Both sides were exercised: reads that succeed and corruptions that fail.
      expect(compared).toBe(150 * 9);
      expect(failures).toBeGreaterThan(150);
      expect(compared - failures).toBeGreaterThan(300);
    });
  }

  it('every truncation of an enriched trade fails as avsc fails', () => {
    const whole = typeOf('EnrichedOptionTrade') as Node;
    const reads = ['underlying', 'sip_timestamp', 'right', 'price', 'conditions', 'aggressor_side', 'dadvv'];
    const reader = projection('EnrichedOptionTrade', reads);
    const compiled = compileProjectedReader(whole, reads)!;
    const bytes = encodeAvro(whole, randomValue(whole, new Fuzz('truncations')), Buffer.alloc(5));
    for (let end = 5; end < bytes.length; end++) {
      const cut = bytes.subarray(0, end);
      expect(outcome(() => compiled(cut, 5))).toEqual(outcome(() => decodeAvro(reader, cut, 5, reader.createResolver(whole))));
    }
  });

  it('skips an array written in blocks with their byte sizes (negative counts, as Java writers may), both readers', () => {
    const whole = typeOf('EquityQuote');
    const quote = {
      ticker: 'SPY', sip_timestamp: 7n, participant_timestamp: null, trf_timestamp: null, sequence_number: null,
      bid_price: 1.5, bid_size: 3n, bid_exchange: 11, ask_price: 2.5, ask_size: 200n, ask_exchange: 12, conditions: [1, 93, 5], indicators: [604],
      tape: 3, source: 'flatfile', origin: 'o', origin_offset: 9n,
    };
    const plain = encodeAvro(whole, quote);
    // conditions [1, 93, 5] as written by avsc: count 3 (zig-zag 06), items 02, ba 01 and 0a, end 00.
    const written = Buffer.from('0602ba010a00', 'hex');
    const at = plain.indexOf(written);
    expect(at).toBeGreaterThan(0);
    // The same array as one block of count -3 (05) and byte size 4 (08).
    const blocked = Buffer.concat([plain.subarray(0, at), Buffer.from('050802ba010a00', 'hex'), plain.subarray(at + written.length)]);
    const reads = ['ticker', 'ask_price', 'indicators', 'tape', 'origin_offset'];
    const expected = { ticker: 'SPY', ask_price: 2.5, indicators: [604], tape: 3, origin_offset: 9n };
    const reader = projection('EquityQuote', reads);
    expect({ ...(decodeAvro(reader, blocked, 0, reader.createResolver(whole)) as object) }).toEqual(expected);
    expect(compileProjectedReader(whole, reads)!(blocked, 0)).toEqual(expected);
    expect({ ...(decodeAvro(whole, blocked) as object) }).toEqual(quote);
  });

  it('reads the values of a hand-built quote (no oracle needed)', () => {
    const whole = typeOf('EquityQuote');
    const bytes = encodeAvro(whole, {
      ticker: 'SPY', sip_timestamp: 1741358400123456789n, participant_timestamp: null, trf_timestamp: null, sequence_number: 42n,
      bid_price: 570.11, bid_size: 3n, bid_exchange: 11, ask_price: 570.13, ask_size: 200n, ask_exchange: 12, conditions: [1, 93], indicators: [604],
      tape: 3, source: 'flatfile', origin: 'o', origin_offset: 9n,
    });
    expect(compileProjectedReader(whole, ['ticker', 'sip_timestamp', 'ask_size', 'indicators'])!(bytes, 0)).toEqual({
      ticker: 'SPY', sip_timestamp: 1741358400123456789n, ask_size: 200n, indicators: [604],
    });
  });

  it('leaves a schema with a type it does not compile to avsc (null)', () => {
    const withMap = avroType({ type: 'record', name: 'M', fields: [{ name: 'a', type: { type: 'map', values: 'int' } }, { name: 'b', type: 'int' }] });
    expect(compileProjectedReader(withMap, ['b'])).toBeNull();
  });
});

import * as avro from 'avsc';
import { avroType, bigintLong, decodeAvro, encodeAvro } from '../../../src/avro/types';

/** avsc's own custom-long path (an 8-byte Buffer per value), which the fast codec replaced: the oracle. */
const avscUnpacked = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => n.toString(),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});
const oracle = avro.Type.forSchema('long', { registry: { long: avscUnpacked } });
const stockLong = avro.Type.forSchema('long');
const fast = avroType('long');

/** Deterministic 64-bit values of every bit length, both signs. */
function values(count: number): bigint[] {
  let state = 0x9e3779b97f4a7c15n;
  const next = (): bigint => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return state;
  };
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const bits = BigInt(i % 64);
    const magnitude = next() & ((1n << bits) - 1n);
    out.push(i % 2 === 0 ? magnitude : -magnitude - 1n);
  }
  return out;
}

describe('bigint long: zig-zag varint straight from and to the tap', () => {
  it('writes the bytes the Avro spec gives, hand-computed', () => {
    const cases: [bigint, string][] = [
      // the last: a ns timestamp, its bytes computed with bigint arithmetic ((n << 1) ^ (n >> 63), 7 bits a byte)
      [0n, '00'], [-1n, '01'], [1n, '02'], [-2n, '03'], [63n, '7e'], [-64n, '7f'], [64n, '8001'], [-65n, '8101'],
      [8191n, 'fe7f'], [2n ** 31n, '8080808010'], [-(2n ** 31n), 'ffffffff0f'], [2n ** 32n, '8080808020'],
      [2n ** 63n - 1n, 'feffffffffffffffff01'], [-(2n ** 63n), 'ffffffffffffffffff01'],
      [1_741_356_000_123_456_789n, 'aab4d4edca83c5aa30'],
    ];
    for (const [n, hex] of cases) {
      expect(fast.toBuffer(n).toString('hex')).toBe(hex);
      expect(fast.fromBuffer(Buffer.from(hex, 'hex'))).toBe(n);
    }
  });

  it('matches avsc on 20,000 values of every length, both ways', () => {
    for (const n of values(20_000)) {
      const expected = oracle.toBuffer(n);
      expect(fast.toBuffer(n).equals(expected)).toBe(true);
      expect(fast.fromBuffer(expected)).toBe(n);
      // avsc's number long is exact below 2^52 (it doubles in floating point for the zig-zag)
      if (n > -(2n ** 52n) && n < 2n ** 52n) expect(stockLong.toBuffer(Number(n)).equals(expected)).toBe(true);
    }
  });

  it('refuses what is not a 64-bit bigint', () => {
    expect(() => fast.toBuffer(2n ** 63n)).toThrow('invalid "long"');
    expect(() => fast.toBuffer(-(2n ** 63n) - 1n)).toThrow('invalid "long"');
    expect(() => fast.toBuffer(5 as unknown as bigint)).toThrow('invalid "long"');
  });

  it('fails a varint that runs past the buffer as truncated', () => {
    expect(() => fast.fromBuffer(Buffer.from('8080', 'hex'))).toThrow('truncated buffer');
    expect(() => decodeAvro(fast, Buffer.from('ff', 'hex'))).toThrow('truncated buffer');
  });

  it('reads an int written by an older schema as a bigint long (promotion)', () => {
    const resolver = fast.createResolver(avro.Type.forSchema('int'));
    expect(fast.fromBuffer(avro.Type.forSchema('int').toBuffer(-123456), resolver)).toBe(-123456n);
    expect(bigintLong.typeName).toBe('abstract:long');
  });
});

describe('encodeAvro / decodeAvro', () => {
  const record = avroType({
    type: 'record', name: 'R', fields: [{ name: 't', type: 'long' }, { name: 's', type: 'string' }, { name: 'o', type: ['null', 'long'] }],
  });

  it('is the prefix followed by avsc toBuffer, and decodes back', () => {
    const prefix = Buffer.from([0, 0, 0, 0, 7]);
    for (const value of [{ t: 1n, s: '', o: null }, { t: -(2n ** 63n), s: 'SPY', o: 2n ** 62n }]) {
      const out = encodeAvro(record, value, prefix);
      expect(out.equals(Buffer.concat([prefix, record.toBuffer(value)]))).toBe(true);
      expect(decodeAvro(record, out, 5)).toEqual(value);
      expect(encodeAvro(record, value).equals(record.toBuffer(value))).toBe(true);
    }
  });

  it('grows past its scratch buffer for a large value', () => {
    const value = { t: 5n, s: 'x'.repeat(300_000), o: 9n };
    const out = encodeAvro(record, value);
    expect(out.length).toBe(record.toBuffer(value).length);
    expect(decodeAvro(record, out)).toEqual(value);
    expect(encodeAvro(record, { t: 6n, s: 'y', o: null }).equals(record.toBuffer({ t: 6n, s: 'y', o: null }))).toBe(true);
  });

  it('refuses trailing bytes as avsc fromBuffer does', () => {
    const bytes = Buffer.concat([record.toBuffer({ t: 1n, s: 'a', o: null }), Buffer.from([0])]);
    expect(() => decodeAvro(record, bytes)).toThrow('trailing data');
  });
});

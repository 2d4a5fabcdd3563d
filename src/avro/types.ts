import * as fs from 'node:fs';
import * as path from 'node:path';
import * as avro from 'avsc';
import { projectRoot } from '../config';

/**
 * Avro types of schemas/*.avsc with `long` as bigint: ns timestamps need all 64 bits (DESIGN 2).
 * The 8-byte little-endian form below is only avsc's in-memory unpacking; the wire stays zig-zag varint.
 */
export const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string | number),
  toJSON: (n: bigint) => (Number.isSafeInteger(Number(n)) ? Number(n) : n.toString()),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** The part of avsc's Tap (its read cursor over a buffer) that the guard below touches. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
}
interface ItemsReader {
  typeName?: string;
  _read(tap: Tap): unknown;
}

/**
 * Corrupt input guard: avsc reads an array block count (a varint up to 2^53) and then reads that
 * many items before it checks the buffer's end, so a flipped count of ~2^28 allocates gigabytes and
 * kills the process instead of failing the decode (found by the Avro fuzz, issue 16). Every item of
 * our schemas' arrays takes at least one byte, so a count above the bytes left is corrupt: the tap
 * is marked past its end and fromBuffer throws 'truncated buffer' (a PoisonRecordError upstream).
 * Arrays of `null` (zero bytes per item) keep avsc's own reading. Installed once, on first import.
 */
const arrayPrototype = (avro.types.ArrayType as unknown as { prototype: { _read(this: { itemsType: ItemsReader }, tap: Tap): unknown[] } }).prototype;
arrayPrototype._read = function guardedArrayRead(this: { itemsType: ItemsReader }, tap: Tap): unknown[] {
  const items = this.itemsType;
  const out: unknown[] = [];
  let n: number;
  while ((n = tap.readLong())) {
    if (n < 0) {
      n = -n;
      tap.skipLong(); // block size in bytes
    }
    if (n > tap.buf.length - tap.pos && items.typeName !== 'null') {
      tap.pos = tap.buf.length + 1;
      return out;
    }
    while (n--) out.push(items._read(tap));
  }
  return out;
};

/**
 * avsc records named types in `registry`; a getter gives every parse its own, because the schema
 * registry client spreads these options into each call and a shared one fails on the second parse.
 */
export const AVRO_OPTIONS: Partial<avro.ForSchemaOptions> = Object.defineProperty({}, 'registry', {
  enumerable: true,
  get: () => ({ long: bigintLong }),
  set: () => undefined,
});

export function avroType(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, AVRO_OPTIONS);
}

export type SchemaName =
  | 'EquityTrade'
  | 'EquityQuote'
  | 'OptionTrade'
  | 'OptionQuote'
  | 'EnrichedOptionTrade'
  | 'Features'
  | 'TradeCounts'
  | 'TreasuryYields'
  | 'DeadLetter';

const cache = new Map<string, { json: avro.Schema; text: string }>();

export function schemaFile(name: SchemaName): string {
  return path.join(projectRoot(), 'schemas', `${name}.avsc`);
}

/** The schema as committed in schemas/<name>.avsc. */
export function loadSchema(name: SchemaName): { json: avro.Schema; text: string } {
  let entry = cache.get(name);
  if (!entry) {
    const text = fs.readFileSync(schemaFile(name), 'utf8');
    entry = { json: JSON.parse(text) as avro.Schema, text: JSON.stringify(JSON.parse(text)) };
    cache.set(name, entry);
  }
  return entry;
}

export function typeOf(name: SchemaName): avro.Type {
  return avroType(loadSchema(name).json);
}

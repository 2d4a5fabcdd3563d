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

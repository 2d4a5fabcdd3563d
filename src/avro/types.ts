import * as fs from 'node:fs';
import * as path from 'node:path';
import * as avro from 'avsc';
import { projectRoot } from '../config';

/** avsc's cursor over a buffer: writes past the end only advance `pos`, which `isValid()` then reports. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
/** Splits a bigint into its two 32-bit halves (and back) without allocating. */
const halves = new DataView(new ArrayBuffer(8));

/**
 * A bigint as Avro's zig-zag varint, written straight into the tap from its two 32-bit halves.
 * avsc's custom-long hook packs each long through a fresh 8-byte Buffer on the way in and out, which
 * was a tenth of the flat-file producer's time; this is the same wire form without the garbage.
 */
export function writeLong(tap: Tap, n: bigint): void {
  if (typeof n !== 'bigint' || n < LONG_MIN || n > LONG_MAX) throw new Error(`invalid "long": ${String(n)}`);
  halves.setBigInt64(0, n, true);
  tap.pos = writeZigzag64(tap.buf, tap.pos, halves.getInt32(4, true), halves.getUint32(0, true));
}

/**
 * A 64-bit integer given as its two 32-bit halves (hi signed or not: only its bits count) as Avro's
 * zig-zag varint at `pos`; returns the position after it.
 */
export function writeZigzag64(buf: Buffer, pos: number, hi: number, lo: number): number {
  const sign = hi >> 31;
  let zlo = ((lo << 1) ^ sign) >>> 0;
  let zhi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
  while (zhi !== 0 || zlo > 0x7f) {
    buf[pos++] = (zlo & 0x7f) | 0x80;
    zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
    zhi >>>= 7;
  }
  buf[pos++] = zlo;
  return pos;
}

/** The inverse of writeLong; a varint running past the buffer leaves the tap invalid ('truncated buffer'). */
export function readLong(tap: Pick<Tap, 'buf' | 'pos'>): bigint {
  const buf = tap.buf;
  let pos = tap.pos;
  let lo = 0;
  let hi = 0;
  let b: number;
  let i = 0;
  do {
    b = buf[pos++];
    const bits = b & 0x7f;
    if (i < 4) lo |= bits << (7 * i);
    else if (i === 4) {
      lo |= bits << 28;
      hi |= bits >>> 4;
    } else if (i < 10) hi |= bits << (7 * i - 32);
    i++;
  } while (b & 0x80);
  tap.pos = pos;
  const sign = -(lo & 1);
  halves.setInt32(0, ((lo >>> 1) | (hi << 31)) ^ sign, true);
  halves.setInt32(4, (hi >>> 1) ^ sign, true);
  return halves.getBigInt64(0, true);
}

/**
 * Avro types of schemas/*.avsc with `long` as bigint: ns timestamps need all 64 bits (DESIGN 2).
 * `fromBuffer`/`toBuffer` (an 8-byte little-endian form) are required by avsc's `__with`; nothing
 * reaches them, as reading and writing go through readLong/writeLong below.
 */
const avscBigintLong = avro.types.LongType.__with({
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
/** avsc freezes the type __with returns, so the fast paths go on an object that inherits from it. */
export const bigintLong: avro.types.LongType = Object.freeze(Object.assign(Object.create(avscBigintLong) as avro.types.LongType, { _read: readLong, _write: writeLong }));

interface ItemsReader {
  typeName?: string;
  _read(tap: Tap): unknown;
  _skip(tap: Tap): void;
}

/**
 * Corrupt input guard: avsc reads an array block count (a varint up to 2^53) and then reads that
 * many items before it checks the buffer's end, so a flipped count of ~2^28 allocates gigabytes and
 * kills the process instead of failing the decode (found by the Avro fuzz, issue 16). Every item of
 * our schemas' arrays takes at least one byte, so a count above the bytes left is corrupt: the tap
 * is marked past its end and fromBuffer throws 'truncated buffer' (a PoisonRecordError upstream).
 * Arrays of `null` (zero bytes per item) keep avsc's own reading. Installed once, on first import.
 */
const arrayPrototype = (avro.types.ArrayType as unknown as {
  prototype: { _read(this: { itemsType: ItemsReader }, tap: Tap): unknown[]; _skip(this: { itemsType: ItemsReader }, tap: Tap): void };
}).prototype;
/** A count above the bytes left (items of a type that takes a byte or more) marks the tap past its end. */
function corruptCount(n: number, tap: Tap, items: ItemsReader): boolean {
  if (n <= tap.buf.length - tap.pos || items.typeName === 'null') return false;
  tap.pos = tap.buf.length + 1;
  return true;
}
arrayPrototype._read = function guardedArrayRead(this: { itemsType: ItemsReader }, tap: Tap): unknown[] {
  const items = this.itemsType;
  const out: unknown[] = [];
  let n: number;
  while ((n = tap.readLong())) {
    if (n < 0) {
      n = -n;
      tap.skipLong(); // block size in bytes
    }
    if (corruptCount(n, tap, items)) return out;
    while (n--) out.push(items._read(tap));
  }
  return out;
};
/** The same guard where a projection skips an array (see `projection`): a corrupt count would loop for ages. */
arrayPrototype._skip = function guardedArraySkip(this: { itemsType: ItemsReader }, tap: Tap): void {
  const items = this.itemsType;
  let n: number;
  while ((n = tap.readLong())) {
    if (n < 0) {
      const size = tap.readLong(); // a block with its size in bytes: skipped whole (`tap.pos += tap.readLong()` would read pos first and land on the size)
      tap.pos += size;
      continue;
    }
    if (corruptCount(n, tap, items)) return;
    while (n--) items._skip(tap);
  }
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

/**
 * The record schema `name` with only `fields`, in their declared order: a reader schema that
 * decodes the writer's records into just those fields. Avro resolution skips the others without
 * building them (no strings, arrays or bigints for fields nobody reads).
 */
export function projection(name: SchemaName, fields: readonly string[]): avro.Type {
  const json = loadSchema(name).json as avro.schema.RecordType;
  const declared = new Set(json.fields.map((f) => f.name));
  const unknown = fields.filter((f) => !declared.has(f));
  if (unknown.length > 0) throw new Error(`${name} has no field(s) ${unknown.join(', ')}`);
  return avroType({ ...json, fields: json.fields.filter((f) => fields.includes(f.name)) });
}

/** Where encodeAvro writes before copying out; grows to the largest record seen. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * `prefix` followed by the value's Avro binary, in one pooled Buffer: avsc's toBuffer allocates a
 * zero-filled, unpooled Buffer per value, and a prefixed value cost a second one and a concat.
 */
export function encodeAvro(type: avro.Type, value: unknown, prefix?: Buffer): Buffer {
  const start = prefix?.length ?? 0;
  for (;;) {
    const end = type.encode(value, scratch, start);
    if (end >= 0) {
      const out = Buffer.allocUnsafe(end);
      if (prefix) prefix.copy(out, 0);
      scratch.copy(out, start, start, end);
      return out;
    }
    scratch = Buffer.allocUnsafe(2 * (scratch.length - end));
  }
}

/** A value decoded from `buffer` starting at `offset`; throws as avsc's fromBuffer does on a short or long buffer. */
export function decodeAvro(type: avro.Type, buffer: Buffer, offset = 0, resolver?: avro.Resolver): unknown {
  const { value, offset: end } = type.decode(buffer, offset, resolver);
  if (end < 0) throw new Error('truncated buffer');
  if (end < buffer.length) throw new Error('trailing data');
  return value;
}

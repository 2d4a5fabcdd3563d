/**
 * Deterministic rows for any Avro record schema in schemas/, shaped as avsc decodes them
 * (long → bigint, bytes → Buffer, enum → string, union → the value or null), with the edge
 * cases a Parquet writer gets wrong: 19-digit ns timestamps, int64 extremes, pre-1970 ns
 * (floor vs truncate), empty and unicode strings, empty lists, extreme doubles.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AvroField, AvroRecordSchema, AvroType } from '../../../src/sinks/parquet/schema';
import { Prng } from '../../../src/generator/prng';

export const SCHEMA_DIR = path.resolve(__dirname, '..', '..', '..', 'schemas');

export function loadSchema(name: string): AvroRecordSchema {
  return JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, `${name}.avsc`), 'utf8')) as AvroRecordSchema;
}

export type Row = Record<string, unknown>;

const NS_EDGES = [1679990400018381329n, 1680010200999999999n, 0n, -1n, -999n, -1000n, -1001n, 9_223_372_036_854_775_000n];
const LONG_EDGES = [9223372036854775807n, -9223372036854775808n, 9007199254740993n, 0n, -1n];
const INT_EDGES = [2147483647, -2147483648, 0, -1];
const DOUBLE_EDGES = [5e-324, 1.7976931348623157e308, -2.2250738585072014e-308, 0.1 + 0.2, -0, 123456.789012345];
const STRING_EDGES = ['', 'Ωμέγα — ✓ 期权', "it's \"quoted\"\n,comma", 'O:SPY251219C00650000'];

/** Uniform [0, 1) stream from the project's seeded PRNG. */
function mulberry32(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

class ValueSource {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)];
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  nanos(): bigint {
    if (this.chance(0.1)) return this.pick(NS_EDGES);
    return 1_679_990_400_000_000_000n + BigInt(Math.floor(this.random() * 86_400e6)) * 1000n + BigInt(Math.floor(this.random() * 1000));
  }

  long(fieldName: string): bigint {
    if (isNanosField(fieldName)) return this.nanos();
    if (this.chance(0.1)) return this.pick(LONG_EDGES);
    return BigInt(Math.floor(this.random() * 2 ** 40)) * (this.chance(0.5) ? 1n : -1n);
  }

  int(): number {
    return this.chance(0.1) ? this.pick(INT_EDGES) : Math.floor(this.random() * 2000) - 1000;
  }

  double(): number {
    return this.chance(0.1) ? this.pick(DOUBLE_EDGES) : (this.random() - 0.3) * 10 ** Math.floor(this.random() * 12 - 6);
  }

  string(): string {
    return this.chance(0.2) ? this.pick(STRING_EDGES) : `s${Math.floor(this.random() * 1e9).toString(36)}`;
  }

  bytes(): Buffer {
    return Buffer.from(Array.from({ length: Math.floor(this.random() * 40) }, () => Math.floor(this.random() * 256)));
  }

  count(max: number): number {
    return Math.floor(this.random() * (max + 1));
  }
}

/** ns timestamp fields, matching the rule of schema.ts microsColumnName. */
export function isNanosField(name: string): boolean {
  return name.endsWith('_timestamp') || /^window_.+_ns$/.test(name) || name === 'event_time';
}

function valueOf(source: ValueSource, fieldName: string, type: AvroType): unknown {
  if (Array.isArray(type)) {
    const branches = type.filter((t) => t !== 'null');
    return source.chance(0.15) ? null : valueOf(source, fieldName, branches[0]);
  }
  if (typeof type === 'object') {
    if (type.type === 'enum') return source.pick(type.symbols ?? []);
    if (type.type === 'array') return Array.from({ length: source.count(4) }, () => valueOf(source, fieldName, type.items as AvroType));
    return valueOf(source, fieldName, type.type);
  }
  switch (type) {
    case 'long': return source.long(fieldName);
    case 'int': return source.int();
    case 'double': return source.double();
    case 'string': return source.string();
    case 'bytes': return source.bytes();
    default: throw new Error(`rows fixture: no generator for ${type}`);
  }
}

export function generateRows(schema: AvroRecordSchema, count: number, seed = 7): Row[] {
  const source = new ValueSource(seed);
  return Array.from({ length: count }, () =>
    Object.fromEntries(schema.fields.map((field: AvroField) => [field.name, valueOf(source, field.name, field.type)])),
  );
}

/** floor(ns / 1000), written independently of schema.ts. */
export function expectedMicros(ns: bigint): bigint {
  const remainder = ((ns % 1000n) + 1000n) % 1000n;
  return (ns - remainder) / 1000n;
}

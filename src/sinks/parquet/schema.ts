/**
 * Avro record schema (schemas/*.avsc) → Parquet column plan (DESIGN 6).
 *
 * The plan is writer-neutral: each column says where its value comes from, its scalar kind,
 * whether it is a list and whether it may be null. writer.ts maps kinds to DuckDB types.
 *
 * Mapping:
 * - long → INT64 exact (never through a double); int → INT32; double → DOUBLE; float → FLOAT;
 *   boolean → BOOLEAN; string and enum → UTF8 string; bytes and fixed → BYTE_ARRAY.
 * - array of a scalar → Parquet LIST of that scalar (DuckDB and pyarrow read list<int32>).
 * - union [null, T] → optional column of T; any other union is refused.
 * - a nanosecond timestamp field (long named `*_timestamp` or `window_*_ns`) keeps its exact
 *   INT64 column and gains a convenience column TIMESTAMP(MICROS, isAdjustedToUTC) equal to
 *   floor(ns / 1000), named by `microsColumnName`: `sip_timestamp` → `sip_timestamp_us`,
 *   `window_start_ns` → `window_start_us`.
 */

export type ScalarKind = 'int64' | 'int32' | 'double' | 'float' | 'boolean' | 'string' | 'bytes' | 'timestamp_us';

export interface ParquetColumn {
  /** Column name in the Parquet file. */
  name: string;
  /** Avro field the value is read from. */
  field: string;
  kind: ScalarKind;
  /** Parquet LIST of `kind`. */
  list: boolean;
  nullable: boolean;
}

export type AvroType = string | AvroType[] | AvroComplexType;

export interface AvroComplexType {
  type: string;
  name?: string;
  items?: AvroType;
  symbols?: string[];
  fields?: AvroField[];
  size?: number;
}

export interface AvroField {
  name: string;
  type: AvroType;
  doc?: string;
  default?: unknown;
}

export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  fields: AvroField[];
}

const PRIMITIVE_KINDS: Record<string, ScalarKind> = {
  long: 'int64',
  int: 'int32',
  double: 'double',
  float: 'float',
  boolean: 'boolean',
  string: 'string',
  bytes: 'bytes',
};

interface FieldShape {
  kind: ScalarKind;
  list: boolean;
  nullable: boolean;
}

export function parquetColumns(schema: AvroRecordSchema): ParquetColumn[] {
  if (schema.type !== 'record' || !Array.isArray(schema.fields)) {
    throw new Error(`parquet schema: expected an Avro record schema, got type ${String(schema.type)}`);
  }
  const columns: ParquetColumn[] = [];
  for (const field of schema.fields) {
    const shape = fieldShape(field);
    columns.push({ name: field.name, field: field.name, ...shape });
    const microsName = shape.kind === 'int64' && !shape.list ? microsColumnName(field.name) : null;
    if (microsName !== null) {
      columns.push({ name: microsName, field: field.name, kind: 'timestamp_us', list: false, nullable: shape.nullable });
    }
  }
  assertUniqueNames(schema.name, columns);
  return columns;
}

/** Name of the TIMESTAMP(MICROS) companion of a nanosecond field, or null if it has none. */
export function microsColumnName(field: string): string | null {
  if (field.endsWith('_timestamp')) return `${field}_us`;
  if (/^window_.+_ns$/.test(field)) return `${field.slice(0, -'_ns'.length)}_us`;
  return null;
}

/** floor(ns / 1000): BigInt division truncates toward zero, which is wrong before 1970. */
export function nanosToMicros(ns: bigint): bigint {
  const quotient = ns / 1000n;
  return ns % 1000n < 0n ? quotient - 1n : quotient;
}

function fieldShape(field: AvroField): FieldShape {
  const { type, nullable } = unwrapNullable(field.name, field.type);
  if (isArrayType(type)) {
    return { kind: scalarKind(field.name, type.items as AvroType), list: true, nullable };
  }
  return { kind: scalarKind(field.name, type), list: false, nullable };
}

function unwrapNullable(fieldName: string, type: AvroType): { type: AvroType; nullable: boolean } {
  if (!Array.isArray(type)) return { type, nullable: false };
  const branches = type.filter((branch) => branch !== 'null');
  if (branches.length !== 1) {
    throw new Error(`parquet schema: field ${fieldName}: only unions of null and one type are supported`);
  }
  return { type: branches[0], nullable: branches.length < type.length };
}

function isArrayType(type: AvroType): type is AvroComplexType {
  return typeof type === 'object' && !Array.isArray(type) && type.type === 'array';
}

function scalarKind(fieldName: string, type: AvroType): ScalarKind {
  if (typeof type === 'string') {
    const kind = PRIMITIVE_KINDS[type];
    if (kind === undefined) throw new Error(`parquet schema: field ${fieldName}: unsupported Avro type ${type}`);
    return kind;
  }
  if (Array.isArray(type)) throw new Error(`parquet schema: field ${fieldName}: nested unions are not supported`);
  if (type.type === 'enum') return 'string';
  if (type.type === 'fixed') return 'bytes';
  if (type.type in PRIMITIVE_KINDS) return PRIMITIVE_KINDS[type.type];
  throw new Error(`parquet schema: field ${fieldName}: unsupported Avro type ${type.type}`);
}

function assertUniqueNames(recordName: string, columns: ParquetColumn[]): void {
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column.name)) {
      throw new Error(`parquet schema: ${recordName}: column ${column.name} is defined twice (micros companion clash?)`);
    }
    seen.add(column.name);
  }
}

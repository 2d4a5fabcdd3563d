/** Reads Parquet back with DuckDB, an engine independent of the row objects the tests wrote. */
import {
  DuckDBBlobValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBValue,
} from '@duckdb/node-api';

export type Plain = bigint | number | string | boolean | null | Buffer | Plain[];

export interface ReadBack {
  names: string[];
  types: string[];
  rows: Plain[][];
}

/** Timestamps come back as their epoch microseconds (bigint), blobs as Buffers, lists as arrays. */
export function plain(value: DuckDBValue): Plain {
  if (value instanceof DuckDBListValue) return value.items.map(plain);
  if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) return value.micros;
  if (value instanceof DuckDBBlobValue) return Buffer.from(value.bytes);
  if (value === null || typeof value !== 'object') return value as Plain;
  throw new Error(`duckdb-read: unexpected value ${String(value)}`);
}

export async function query(sql: string): Promise<ReadBack> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  try {
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(sql);
    const result: ReadBack = {
      names: reader.columnNames(),
      types: reader.columnTypes().map((t) => t.toString()),
      rows: reader.getRows().map((row) => row.map(plain)),
    };
    connection.closeSync();
    return result;
  } finally {
    instance.closeSync();
  }
}

export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

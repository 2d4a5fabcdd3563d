import { DuckDBInstance } from '@duckdb/node-api';

/** Runs one query in a throw-away in-memory DuckDB (reading the Parquet lake) and returns plain rows. */
export async function duckdbRows(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  try {
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(sql);
    const names = reader.columnNames();
    const rows = reader.getRows().map((row) => Object.fromEntries(row.map((v, i) => [names[i], v])));
    connection.closeSync();
    return rows;
  } finally {
    instance.closeSync();
  }
}

export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

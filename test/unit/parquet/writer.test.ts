import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ParquetColumn, parquetColumns } from '../../../src/sinks/parquet/schema';
import { ParquetFileWriter } from '../../../src/sinks/parquet/writer';
import { Plain, query, sqlString } from './duckdb-read';
import { Row, expectedMicros, generateRows, loadSchema } from './rows';

const SCHEMAS = ['EnrichedOptionTrade', 'OptionTrade', 'OptionQuote', 'EquityTrade', 'EquityQuote', 'DeadLetter'];
const ROWS = 3000;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-parquet-test-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function expectedCell(column: ParquetColumn, row: Row): unknown {
  const value = row[column.field];
  if (column.kind === 'timestamp_us' && value !== null) return expectedMicros(value as bigint);
  return value;
}

/** Exact equality; doubles by Object.is so -0 and the last bit count. Returns the first difference. */
function firstDifference(expected: unknown, actual: Plain): string | null {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `list ${String(expected)} vs ${String(actual)}`;
    for (let i = 0; i < expected.length; i += 1) {
      const difference = firstDifference(expected[i], actual[i]);
      if (difference !== null) return difference;
    }
    return null;
  }
  if (Buffer.isBuffer(expected)) return Buffer.isBuffer(actual) && expected.equals(actual) ? null : 'bytes differ';
  if (typeof expected === 'number') return Object.is(expected, actual) ? null : `${expected} vs ${String(actual)}`;
  return expected === actual ? null : `${String(expected)} (${typeof expected}) vs ${String(actual)} (${typeof actual})`;
}

async function writeFile(file: string, schemaName: string, rows: Row[], opts = {}): Promise<{ rows: number; bytes: number }> {
  const writer = await ParquetFileWriter.open(file, loadSchema(schemaName), opts);
  writer.appendRows(rows.slice(0, 1000));
  writer.appendRows(rows.slice(1000));
  return writer.close();
}

describe.each(SCHEMAS)('ParquetFileWriter round trip through DuckDB: %s', (schemaName) => {
  it('reads back every value of every row exactly, with the micros companion = floor(ns / 1000)', async () => {
    const schema = loadSchema(schemaName);
    const columns = parquetColumns(schema);
    const rows = generateRows(schema, ROWS, schemaName.length);
    const file = path.join(dir, `${schemaName}.parquet`);

    const result = await writeFile(file, schemaName, rows);
    const back = await query(`SELECT * FROM read_parquet(${sqlString(file)})`);

    expect(result).toEqual({ rows: ROWS, bytes: fs.statSync(file).size });
    expect(back.names).toEqual(columns.map((c) => c.name));
    expect(back.rows).toHaveLength(ROWS);
    const differences: string[] = [];
    back.rows.forEach((actualRow, r) => {
      columns.forEach((column, c) => {
        const difference = firstDifference(expectedCell(column, rows[r]), actualRow[c]);
        if (difference !== null && differences.length < 5) differences.push(`row ${r} ${column.name}: ${difference}`);
      });
    });
    expect(differences).toEqual([]);
  });
});

describe('ParquetFileWriter column types', () => {
  it('stores longs as BIGINT, ns companions as TIMESTAMPTZ, enums as VARCHAR, int arrays as INTEGER[]', async () => {
    const file = path.join(dir, 'types.parquet');
    await writeFile(file, 'EnrichedOptionTrade', generateRows(loadSchema('EnrichedOptionTrade'), 1500));

    const back = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(file)}))`);
    const types = Object.fromEntries(back.rows.map(([name, type]) => [name, type]));

    expect(types).toMatchObject({
      sip_timestamp: 'BIGINT',
      sip_timestamp_us: 'TIMESTAMP WITH TIME ZONE',
      participant_timestamp_us: 'TIMESTAMP WITH TIME ZONE',
      underlying_timestamp_us: 'TIMESTAMP WITH TIME ZONE',
      quote_age_ns: 'BIGINT',
      size: 'BIGINT',
      exchange: 'INTEGER',
      strike: 'DOUBLE',
      right: 'VARCHAR',
      aggressor_side: 'VARCHAR',
      conditions: 'INTEGER[]',
    });
    expect(types).not.toHaveProperty('quote_age_us');
  });

  it('writes the 19-digit ns timestamp to the digit and its micros as a UTC instant', async () => {
    const file = path.join(dir, 'digits.parquet');
    const [row] = generateRows(loadSchema('EquityTrade'), 1);
    await writeFile(file, 'EquityTrade', [{ ...row, sip_timestamp: 1679990400018381329n }]);

    const back = await query(
      `SELECT sip_timestamp::VARCHAR, strftime(sip_timestamp_us AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') FROM read_parquet(${sqlString(file)})`,
    );

    expect(back.rows).toEqual([['1679990400018381329', '2023-03-28 08:00:00.018381']]);
  });
});

describe('ParquetFileWriter file layout', () => {
  it('cuts row groups of rowGroupRows rows and compresses with the codec asked for', async () => {
    const rows = generateRows(loadSchema('OptionQuote'), 5000);
    const zstd = path.join(dir, 'zstd.parquet');
    const snappy = path.join(dir, 'snappy.parquet');
    await writeFile(zstd, 'OptionQuote', rows, { rowGroupRows: 2048, compression: 'zstd' });
    await writeFile(snappy, 'OptionQuote', rows, { rowGroupRows: 2048, compression: 'snappy' });

    const groups = await query(
      `SELECT DISTINCT row_group_id, row_group_num_rows, compression FROM parquet_metadata(${sqlString(zstd)}) ORDER BY row_group_id`,
    );
    const snappyCodecs = await query(`SELECT DISTINCT compression FROM parquet_metadata(${sqlString(snappy)})`);

    expect(groups.rows).toEqual([
      [0n, 2048n, 'ZSTD'],
      [1n, 2048n, 'ZSTD'],
      [2n, 904n, 'ZSTD'],
    ]);
    expect(snappyCodecs.rows).toEqual([['SNAPPY']]);
  });

  it('writes the key/value metadata into the footer', async () => {
    const file = path.join(dir, 'kv.parquet');
    const rows = generateRows(loadSchema('OptionTrade'), 10);
    await writeFile(file, 'OptionTrade', rows, { keyValueMetadata: { topic: 'option.trades', first_offset: "42'" } });

    const back = await query(
      `SELECT decode(key), decode(value) FROM parquet_kv_metadata(${sqlString(file)}) WHERE decode(key) IN ('topic', 'first_offset') ORDER BY 1`,
    );

    expect(back.rows).toEqual([['first_offset', "42'"], ['topic', 'option.trades']]);
  });

  it('writes a valid empty file when no row was appended', async () => {
    const file = path.join(dir, 'empty.parquet');
    const writer = await ParquetFileWriter.open(file, loadSchema('EquityQuote'));

    const result = await writer.close();
    const back = await query(`SELECT count(*) FROM read_parquet(${sqlString(file)})`);

    expect(result.rows).toBe(0);
    expect(back.rows).toEqual([[0n]]);
  });

  it('reads a dt=/underlying= hive layout back, underlying from the path (omitted from the files)', async () => {
    const schema = loadSchema('EnrichedOptionTrade');
    const partitions = [
      { dt: '2023-03-28', underlying: 'SPY', count: 700 },
      { dt: '2023-03-28', underlying: 'QQQ', count: 300 },
      { dt: '2023-03-29', underlying: 'SPY', count: 500 },
    ];
    const written: Row[] = [];
    for (const [i, p] of partitions.entries()) {
      const partDir = path.join(dir, `dt=${p.dt}`, `underlying=${p.underlying}`);
      fs.mkdirSync(partDir, { recursive: true });
      const rows = generateRows(schema, p.count, i + 1).map((row, n) => ({ ...row, underlying: p.underlying, origin_offset: BigInt(i * 1000 + n) }));
      written.push(...rows);
      await writeFile(path.join(partDir, 'option.trades.enriched-0-0.parquet'), 'EnrichedOptionTrade', rows, {
        omitFields: ['underlying'],
      });
    }
    const oneFile = path.join(dir, 'dt=2023-03-28', 'underlying=SPY', 'option.trades.enriched-0-0.parquet');
    const glob = sqlString(path.join(dir, '**', '*.parquet'));

    const counts = await query(
      `SELECT dt::VARCHAR, underlying, count(*) FROM read_parquet(${glob}, hive_partitioning = true) GROUP BY ALL ORDER BY 1, 2`,
    );
    const fileColumns = await query(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(oneFile)}, hive_partitioning = false))`);
    const timestamps = await query(
      `SELECT origin_offset, sip_timestamp FROM read_parquet(${glob}, hive_partitioning = true) ORDER BY origin_offset`,
    );

    expect(fileColumns.rows.flat()).not.toContain('underlying');
    expect(fileColumns.rows.flat()).toContain('sip_timestamp_us');
    expect(counts.rows).toEqual([
      ['2023-03-28', 'QQQ', 300n],
      ['2023-03-28', 'SPY', 700n],
      ['2023-03-29', 'SPY', 500n],
    ]);
    const expected = written
      .map((row) => [row.origin_offset, row.sip_timestamp] as [bigint, bigint])
      .sort((a, b) => (a[0] < b[0] ? -1 : 1));
    expect(timestamps.rows).toEqual(expected);
  });
});

describe('ParquetFileWriter refuses bad rows', () => {
  it('refuses a number where a long is expected: it has already lost digits', async () => {
    const [row] = generateRows(loadSchema('EquityTrade'), 1);
    const writer = await ParquetFileWriter.open(path.join(dir, 'bad.parquet'), loadSchema('EquityTrade'));

    expect(() => writer.appendRows([row, { ...row, sip_timestamp: 1679990400018381300 }])).toThrow(
      /row 1: sip_timestamp: expected a bigint long, got number/,
    );
    await writer.abort();
  });

  it('refuses a missing required field and a non-integer int', async () => {
    const [row] = generateRows(loadSchema('OptionTrade'), 1);
    const writer = await ParquetFileWriter.open(path.join(dir, 'bad.parquet'), loadSchema('OptionTrade'));

    expect(() => writer.appendRows([{ ...row, ticker: null }])).toThrow(/row 0: ticker is required but missing/);
    expect(() => writer.appendRows([{ ...row, exchange: 1.5 }])).toThrow(/exchange: expected a 32-bit integer, got 1.5/);
    expect(() => writer.appendRows([{ ...row, conditions: [2 ** 31] }])).toThrow(/conditions: expected a 32-bit integer/);
    await writer.abort();
  });

  it('refuses to omit a field the schema does not have', async () => {
    await expect(
      ParquetFileWriter.open(path.join(dir, 'x.parquet'), loadSchema('OptionTrade'), { omitFields: ['underlyng'] }),
    ).rejects.toThrow(/omitFields underlyng not in OptionTrade/);
  });

  it('appends all rows of a call or none: a bad row in a later chunk leaves the file unchanged', async () => {
    const file = path.join(dir, 'atomic.parquet');
    const rows = generateRows(loadSchema('EquityTrade'), 3000);
    const writer = await ParquetFileWriter.open(file, loadSchema('EquityTrade'));
    writer.appendRows(rows.slice(0, 10));
    const bad = rows.slice(10).map((row, i) => (i === 2500 ? { ...row, price: '1.0' } : row));

    expect(() => writer.appendRows(bad)).toThrow(/row 2510: price: expected a number, got string/);
    const result = await writer.close();
    const back = await query(`SELECT count(*) FROM read_parquet(${sqlString(file)})`);

    expect(result.rows).toBe(10);
    expect(back.rows).toEqual([[10n]]);
  });

  it('abort leaves neither the output nor the staging database behind', async () => {
    const file = path.join(dir, 'aborted.parquet');
    const writer = await ParquetFileWriter.open(file, loadSchema('EquityQuote'), { stagingDir: dir });
    writer.appendRows(generateRows(loadSchema('EquityQuote'), 100));

    await writer.abort();

    expect(fs.readdirSync(dir)).toEqual([]);
    expect(() => writer.appendRows([])).toThrow(/closed/);
  });

  it('close removes the staging database', async () => {
    const file = path.join(dir, 'closed.parquet');
    const writer = await ParquetFileWriter.open(file, loadSchema('EquityQuote'), { stagingDir: dir });
    writer.appendRows(generateRows(loadSchema('EquityQuote'), 100));

    await writer.close();

    expect(fs.readdirSync(dir)).toEqual(['closed.parquet']);
  });
});

/**
 * Parquet writer bake-off on generated EnrichedOptionTrade rows (DESIGN 6).
 *
 *   npx tsc -p tsconfig.build.json && node -e "require('./dist/bench/parquet.js').run()"
 *
 * Env: BENCH_ROWS (default 1_000_000), BENCH_ROW_GROUP (default 131072), BENCH_WRITERS
 * (comma list, default all), BENCH_OUT (default bench/out/parquet), BENCH_PYARROW=0 to skip
 * the pyarrow cross-check.
 *
 * Each writer runs in its own child process so peak RSS is its own. Writer time counts only the
 * writer calls (append + close), not row generation. Every file is then read back with DuckDB
 * and every value of every row compared with the regenerated rows; when pyarrow is importable,
 * a per-column hash of the values pyarrow reads is compared with the same hash of the rows.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance, DuckDBListValue, DuckDBTimestampTZValue, DuckDBTimestampValue, DuckDBValue } from '@duckdb/node-api';
import { EnrichedOptionTrade } from '../src/domain/records';
import { AvroRecordSchema, ParquetColumn, nanosToMicros, parquetColumns } from '../src/sinks/parquet/schema';
import { ParquetFileWriter } from '../src/sinks/parquet/writer';
import { Prng } from '../src/generator/prng';

const SCHEMA = loadEnrichedSchema();
const COLUMNS = parquetColumns(SCHEMA);
const BATCH_ROWS = 10_000;

/** schemas/ sits at the project root, one level above bench/ (source) or two above dist/bench/. */
function loadEnrichedSchema(): AvroRecordSchema {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'schemas', 'EnrichedOptionTrade.avsc');
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as AvroRecordSchema;
  }
  throw new Error('schemas/EnrichedOptionTrade.avsc not found above ' + __dirname);
}

interface BenchConfig {
  rows: number;
  rowGroupRows: number;
  outDir: string;
}

function benchConfig(): BenchConfig {
  return {
    rows: Number(process.env.BENCH_ROWS ?? 1_000_000),
    rowGroupRows: Number(process.env.BENCH_ROW_GROUP ?? 131_072),
    outDir: process.env.BENCH_OUT ?? path.join('bench', 'out', 'parquet'),
  };
}

// ---------------------------------------------------------------------------------------------
// Rows: deterministic, so the verifier regenerates exactly what the writer wrote.

/** Uniform [0, 1) stream from the project's seeded PRNG. */
function mulberry32(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

const UNDERLYINGS = ['SPY', 'QQQ', 'AAPL', 'TSLA', 'NVDA', 'IWM'];
const EXPIRIES = ['2023-03-28', '2023-03-31', '2023-04-21', '2023-06-16', '2023-12-15', '2025-12-19'];
const SIDES = ['BUY', 'SELL', 'INSIDE', 'UNKNOWN'] as const;
// 2023-03-28 09:30 ET in ns: 19 significant digits, far above 2^53.
const SESSION_START_NS = 1_680_010_200_123_456_789n;

class TradeGenerator {
  private readonly random = mulberry32(20230328);
  private sipNs = SESSION_START_NS;
  private index = 0;

  next(): EnrichedOptionTrade {
    const r = this.random;
    this.index += 1;
    this.sipNs += BigInt(1 + Math.floor(r() * 40_000_000));
    const underlying = UNDERLYINGS[Math.floor(r() * UNDERLYINGS.length)];
    const right = r() < 0.55 ? 'C' : 'P';
    const strike = Math.round(50 + r() * 500) + (r() < 0.3 ? 0.5 : 0);
    const expiry = EXPIRIES[Math.floor(r() * EXPIRIES.length)];
    const ws = r() < 0.2;
    const priced = r() > 0.05;
    const s = priced ? 100 + r() * 400 : null;
    const delta = priced ? (right === 'C' ? r() : -r()) : null;
    const gamma = priced ? r() * 0.08 : null;
    const size = BigInt(1 + Math.floor(r() ** 3 * 500));
    return {
      ticker: `O:${underlying}${expiry.slice(2).replace(/-/g, '')}${right}${String(strike * 1000).padStart(8, '0')}`,
      underlying,
      root: underlying,
      expiration_date: expiry,
      right,
      strike,
      sip_timestamp: this.sipNs,
      participant_timestamp: r() < 0.9 ? this.sipNs - BigInt(Math.floor(r() * 5_000_000)) : null,
      sequence_number: ws ? BigInt(this.index * 7) : null,
      price: Math.round(r() * 5000) / 100 + 0.01,
      size,
      exchange: r() < 0.97 ? 300 + Math.floor(r() * 25) : null,
      conditions: Array.from({ length: Math.floor(r() * 3) }, () => 200 + Math.floor(r() * 30)),
      correction: r() < 0.01 ? 1 : null,
      source: ws ? 'ws' : 'flatfile',
      origin: ws ? 'wss://socket/options#1' : 'us_options_opra/trades_v1/2023/03/2023-03-28.csv.gz',
      origin_offset: BigInt(this.index),
      underlying_price: s,
      underlying_timestamp: priced ? this.sipNs - BigInt(Math.floor(r() * 1_000_000_000)) : null,
      tau: priced ? r() * 2 + 1 / 31_536_000 : null,
      rate: priced ? 0.04 + r() * 0.01 : null,
      dividend_yield: r() * 0.02,
      iv: priced ? 0.05 + r() * 1.5 : null,
      delta,
      gamma,
      vega: priced ? r() * 90 : null,
      theta: priced ? -r() * 200 : null,
      intrinsic: priced ? Math.max(0, r() * 50 - 20) : null,
      flags: Math.floor(r() * 64),
      dadvv: priced ? Math.abs(delta as number) * (s as number) * Number(size) * 100 : null,
      gadvv: priced ? (gamma as number) * (s as number) ** 2 * Number(size) * 100 : null,
      aggressor_side: r() < 0.9 ? SIDES[Math.floor(r() * SIDES.length)] : null,
      aggressor_method: r() < 0.9 ? (r() < 0.8 ? 'quote' : 'tick') : null,
      quote_age_ns: r() < 0.9 ? BigInt(Math.floor(r() * 3e9)) : null,
      mid_offset_bps: r() < 0.9 ? (r() - 0.5) * 400 : null,
    };
  }

  batch(count: number): EnrichedOptionTrade[] {
    return Array.from({ length: count }, () => this.next());
  }
}

// ---------------------------------------------------------------------------------------------
// Candidates. Each writes `rows` generated rows to `file` and reports only its own time.

interface Candidate {
  name: string;
  compression: string;
  streaming: string;
  write(file: string, config: BenchConfig, onBatch: () => void): Promise<number>;
}

type RowSource = (write: (rows: EnrichedOptionTrade[]) => Promise<void> | void) => Promise<number>;

function rowSource(config: BenchConfig, onBatch: () => void): RowSource {
  return async (write) => {
    const generator = new TradeGenerator();
    let writerMs = 0;
    for (let done = 0; done < config.rows; done += BATCH_ROWS) {
      const rows = generator.batch(Math.min(BATCH_ROWS, config.rows - done));
      const start = performance.now();
      await write(rows);
      writerMs += performance.now() - start;
      onBatch();
    }
    return writerMs;
  };
}

async function timed(action: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await action();
  return performance.now() - start;
}

function columnValue(column: ParquetColumn, row: EnrichedOptionTrade): unknown {
  const value = (row as unknown as Record<string, unknown>)[column.field];
  if (column.kind === 'timestamp_us' && typeof value === 'bigint') return nanosToMicros(value);
  return value;
}

const duckdbCandidate: Candidate = {
  name: 'duckdb',
  compression: 'ZSTD',
  streaming: 'yes (staging db on disk)',
  async write(file, config, onBatch) {
    const writer = await ParquetFileWriter.open(file, SCHEMA, { rowGroupRows: config.rowGroupRows, compression: 'zstd' });
    const appendMs = await rowSource(config, onBatch)((rows) => writer.appendRows(rows));
    return appendMs + (await timed(() => writer.close()));
  },
};

interface ParquetjsLiteModule {
  ParquetSchema: new (fields: Record<string, object>) => object;
  ParquetWriter: {
    openFile(schema: object, file: string, opts: object): Promise<{
      appendRow(row: object): Promise<void>;
      close(): Promise<void>;
      setRowGroupSize(rows: number): void;
    }>;
  };
}

const PARQUETJS_TYPES: Record<string, string> = {
  int64: 'INT64', int32: 'INT32', double: 'DOUBLE', float: 'FLOAT', boolean: 'BOOLEAN',
  string: 'UTF8', bytes: 'BYTE_ARRAY', timestamp_us: 'TIMESTAMP_MICROS',
};

const parquetjsLiteCandidate: Candidate = {
  name: 'parquetjs-lite',
  compression: 'SNAPPY (no ZSTD)',
  streaming: 'yes (row groups)',
  async write(file, config, onBatch) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const parquet = require('parquetjs-lite') as ParquetjsLiteModule;
    const fields = Object.fromEntries(COLUMNS.map((c) => [c.name, {
      type: PARQUETJS_TYPES[c.kind], optional: c.nullable, repeated: c.list, compression: 'SNAPPY',
    }]));
    const writer = await parquet.ParquetWriter.openFile(new parquet.ParquetSchema(fields), file, {});
    writer.setRowGroupSize(config.rowGroupRows);
    const appendMs = await rowSource(config, onBatch)(async (rows) => {
      for (const row of rows) {
        const record: Record<string, unknown> = {};
        for (const c of COLUMNS) {
          const v = columnValue(c, row);
          // parquetjs-lite: TIMESTAMP_MICROS takes a number; a null optional field is left out.
          if (v !== null) record[c.name] = c.kind === 'timestamp_us' ? Number(v) : v;
        }
        await writer.appendRow(record);
      }
    });
    return appendMs + (await timed(() => writer.close()));
  },
};

interface HyparquetSchemaElement {
  name: string;
  type?: string;
  repetition_type?: string;
  converted_type?: string;
  logical_type?: object;
  num_children?: number;
}

interface HyparquetWriterModule {
  fileWriter(file: string): object;
  ParquetWriter: new (opts: { writer: object; schema: HyparquetSchemaElement[]; codec: string }) => {
    write(opts: { columnData: { name: string; data: unknown[] }[]; rowGroupSize: number }): void;
    finish(): void;
  };
}

const HYPARQUET_LEAVES: Record<string, Omit<HyparquetSchemaElement, 'name'>> = {
  int64: { type: 'INT64' }, int32: { type: 'INT32' }, double: { type: 'DOUBLE' }, float: { type: 'FLOAT' },
  boolean: { type: 'BOOLEAN' }, string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' }, bytes: { type: 'BYTE_ARRAY' },
  timestamp_us: { type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } },
};

function hyparquetSchema(): HyparquetSchemaElement[] {
  const elements: HyparquetSchemaElement[] = [{ name: 'root', num_children: COLUMNS.length }];
  for (const c of COLUMNS) {
    const repetition = c.nullable ? 'OPTIONAL' : 'REQUIRED';
    if (!c.list) {
      elements.push({ name: c.name, repetition_type: repetition, ...HYPARQUET_LEAVES[c.kind] });
      continue;
    }
    elements.push({ name: c.name, repetition_type: repetition, converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 });
    elements.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
    elements.push({ name: 'element', repetition_type: 'REQUIRED', ...HYPARQUET_LEAVES[c.kind] });
  }
  return elements;
}

const hyparquetCandidate: Candidate = {
  name: 'hyparquet-writer',
  compression: 'SNAPPY (ZSTD needs a codec)',
  streaming: 'yes (row groups)',
  async write(file, config, onBatch) {
    // ESM package: Node 20.19+ loads it through require().
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const hw = require('hyparquet-writer') as HyparquetWriterModule;
    const writer = new hw.ParquetWriter({ writer: hw.fileWriter(file), schema: hyparquetSchema(), codec: 'SNAPPY' });
    const pending: EnrichedOptionTrade[] = [];
    const writeGroup = (group: EnrichedOptionTrade[]): void => {
      const columnData = COLUMNS.map((c) => ({ name: c.name, data: group.map((row) => columnValue(c, row)) }));
      writer.write({ columnData, rowGroupSize: group.length });
    };
    const appendMs = await rowSource(config, onBatch)((rows) => {
      pending.push(...rows);
      while (pending.length >= config.rowGroupRows) writeGroup(pending.splice(0, config.rowGroupRows));
    });
    return appendMs + (await timed(() => {
      if (pending.length > 0) writeGroup(pending);
      writer.finish();
    }));
  },
};

const parquetWasmCandidate: Candidate = {
  name: 'parquet-wasm+arrow',
  compression: 'ZSTD',
  streaming: 'no (whole Arrow table in memory)',
  async write(file, config, onBatch) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const arrow = require('apache-arrow') as typeof import('apache-arrow');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pw = require('parquet-wasm/node') as typeof import('parquet-wasm/node/parquet_wasm');
    const fieldTypes = COLUMNS.map((c) => arrowType(arrow, c));
    const schema = new arrow.Schema(COLUMNS.map((c, i) => new arrow.Field(c.name, fieldTypes[i], c.nullable)));
    const batches: import('apache-arrow').RecordBatch[] = [];
    const appendMs = await rowSource(config, onBatch)((rows) => {
      const data = Object.fromEntries(COLUMNS.map((c, i) => {
        // Arrow JS timestamp builders take float milliseconds: build micros as Int64, retype after.
        const isTimestamp = c.kind === 'timestamp_us';
        const builder = arrow.makeBuilder({ type: isTimestamp ? new arrow.Int64() : fieldTypes[i], nullValues: [null] });
        for (const row of rows) builder.append(columnValue(c, row) as never);
        const built = builder.finish().flush();
        return [c.name, isTimestamp ? arrow.makeData({
          type: fieldTypes[i] as import('apache-arrow').TimestampMicrosecond, length: built.length,
          nullCount: built.nullCount, data: built.values, nullBitmap: built.nullBitmap,
        }) : built];
      }));
      batches.push(new arrow.RecordBatch(schema, arrow.makeData({
        type: new arrow.Struct(schema.fields), length: rows.length, children: COLUMNS.map((c) => data[c.name]),
      })));
    });
    return appendMs + (await timed(() => {
      const table = new arrow.Table(schema, batches);
      const props = new pw.WriterPropertiesBuilder()
        .setCompression(pw.Compression.ZSTD)
        .setMaxRowGroupSize(config.rowGroupRows)
        .build();
      fs.writeFileSync(file, pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), props));
    }));
  },
};

function arrowType(arrow: typeof import('apache-arrow'), c: ParquetColumn): import('apache-arrow').DataType {
  const scalar = (): import('apache-arrow').DataType => {
    switch (c.kind) {
      case 'int64': return new arrow.Int64();
      case 'int32': return new arrow.Int32();
      case 'double': return new arrow.Float64();
      case 'float': return new arrow.Float32();
      case 'boolean': return new arrow.Bool();
      case 'string': return new arrow.Utf8();
      case 'bytes': return new arrow.Binary();
      case 'timestamp_us': return new arrow.TimestampMicrosecond('UTC');
    }
  };
  return c.list ? new arrow.List(new arrow.Field('element', scalar(), false)) : scalar();
}

const CANDIDATES: Candidate[] = [parquetjsLiteCandidate, duckdbCandidate, hyparquetCandidate, parquetWasmCandidate];

// ---------------------------------------------------------------------------------------------
// Child process: one writer, measured.

interface WriteReport {
  writer: string;
  rows: number;
  writerMs: number;
  bytes: number;
  maxRssMb: number;
  baseRssMb: number;
  peakHeapMb: number;
  baseHeapMb: number;
}

const MB = 1024 * 1024;

async function runChild(name: string): Promise<void> {
  const config = benchConfig();
  const candidate = CANDIDATES.find((c) => c.name === name);
  if (candidate === undefined) throw new Error(`unknown writer ${name}`);
  const file = outputFile(config, name);
  fs.rmSync(file, { force: true });
  global.gc?.();
  const baseRssMb = process.memoryUsage.rss() / MB;
  const baseHeapMb = process.memoryUsage().heapUsed / MB;
  let peakHeapMb = baseHeapMb;
  const writerMs = await candidate.write(file, config, () => {
    peakHeapMb = Math.max(peakHeapMb, process.memoryUsage().heapUsed / MB);
  });
  const report: WriteReport = {
    writer: name, rows: config.rows, writerMs, bytes: fs.statSync(file).size,
    maxRssMb: process.resourceUsage().maxRSS / 1024, baseRssMb, peakHeapMb, baseHeapMb,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function outputFile(config: BenchConfig, writer: string): string {
  return path.resolve(config.outDir, `${writer}.parquet`);
}

function spawnChild(name: string): Promise<WriteReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', __filename], {
      env: { ...process.env, BENCH_CHILD: name },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as WriteReport);
      else reject(new Error(`${name}: child exited ${code}: ${out.slice(-2000)}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Verification with DuckDB: every value of every row.

interface Verification {
  rowsRead: number;
  mismatches: number;
  mismatchedColumns: string[];
  firstMismatch: string;
  timestampType: string;
  rowGroups: number;
  codec: string;
}

type Comparable = bigint | number | string | boolean | null | Comparable[];

function normalizeDuckValue(value: DuckDBValue): Comparable {
  if (value instanceof DuckDBListValue) return value.items.map(normalizeDuckValue);
  if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) return value.micros;
  if (value === null || typeof value !== 'object') return value as Comparable;
  return String(value);
}

function sameValue(expected: unknown, actual: Comparable): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => sameValue(v, actual[i]));
  }
  if (typeof expected === 'number' && typeof actual === 'number') return Object.is(expected, actual);
  return expected === actual;
}

async function verifyWithDuckDb(file: string, config: BenchConfig): Promise<Verification> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const quoted = `'${file.replace(/'/g, "''")}'`;
  const meta = await connection.runAndReadAll(
    `SELECT count(DISTINCT row_group_id)::INTEGER AS groups, min(compression) AS codec FROM parquet_metadata(${quoted})`,
  );
  const [groups, codec] = meta.getRows()[0];
  const typeRows = await connection.runAndReadAll(`SELECT column_type FROM (DESCRIBE SELECT sip_timestamp_us FROM read_parquet(${quoted}))`);
  const result = await connection.stream(`SELECT ${COLUMNS.map((c) => `"${c.name}"`).join(', ')} FROM read_parquet(${quoted}) ORDER BY origin_offset`);
  const generator = new TradeGenerator();
  const badColumns = new Set<string>();
  let rowsRead = 0;
  let mismatches = 0;
  let firstMismatch = '';
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    for (const values of chunk.getRows()) {
      const row = generator.next();
      rowsRead += 1;
      COLUMNS.forEach((c, i) => {
        const actual = normalizeDuckValue(values[i]);
        const expected = columnValue(c, row);
        if (sameValue(expected, actual)) return;
        mismatches += 1;
        badColumns.add(c.name);
        if (firstMismatch === '') firstMismatch = `row ${rowsRead} ${c.name}: wrote ${String(expected)}, read ${String(actual)}`;
      });
    }
  }
  connection.closeSync();
  instance.closeSync();
  if (rowsRead !== config.rows) firstMismatch ||= `read ${rowsRead} rows of ${config.rows}`;
  return {
    rowsRead, mismatches, mismatchedColumns: [...badColumns], firstMismatch,
    timestampType: String(typeRows.getRows()[0][0]), rowGroups: Number(groups), codec: String(codec),
  };
}

// ---------------------------------------------------------------------------------------------
// Independent check with pyarrow (optional): per-column SHA-256 over a canonical encoding.

const PYARROW_SCRIPT = String.raw`
import hashlib, json, struct, sys
import pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
kinds = json.loads(sys.argv[2])
out = {}
def enc(v, kind):
    if v is None: return b'N'
    if kind == 'double': return b'D' + struct.pack('<d', v)
    if kind == 'string': b = v.encode(); return b'S' + str(len(b)).encode() + b':' + b
    return b'I' + str(v).encode() + b';'
for name, kind, is_list in kinds:
    col = t.column(name)
    if kind == 'timestamp_us':
        out[name + ':type'] = str(col.type)
        col = pc.cast(col, pa.int64())
    h = hashlib.sha256()
    for v in col.to_pylist():
        if is_list:
            h.update(b'N' if v is None else b'L' + str(len(v)).encode() + b'[' + b''.join(enc(x, kind) for x in v))
        else:
            h.update(enc(v, kind))
    out[name] = h.hexdigest()
print(json.dumps(out))
`;

function encodeForHash(value: unknown, kind: string): Buffer {
  if (value === null || value === undefined) return Buffer.from('N');
  if (kind === 'double') {
    const b = Buffer.alloc(9);
    b.write('D');
    b.writeDoubleLE(value as number, 1);
    return b;
  }
  if (kind === 'string') {
    const b = Buffer.from(value as string, 'utf8');
    return Buffer.concat([Buffer.from(`S${b.length}:`), b]);
  }
  return Buffer.from(`I${String(value)};`);
}

function expectedHashes(config: BenchConfig): Record<string, string> {
  const hashes = new Map<string, Hash>(COLUMNS.map((c) => [c.name, createHash('sha256')]));
  const generator = new TradeGenerator();
  for (let i = 0; i < config.rows; i += 1) {
    const row = generator.next();
    for (const c of COLUMNS) {
      const value = columnValue(c, row);
      const hash = hashes.get(c.name) as Hash;
      if (c.list && Array.isArray(value)) {
        hash.update(Buffer.concat([Buffer.from(`L${value.length}[`), ...value.map((v) => encodeForHash(v, c.kind))]));
      } else {
        hash.update(encodeForHash(value, c.kind));
      }
    }
  }
  return Object.fromEntries([...hashes].map(([name, hash]) => [name, hash.digest('hex')]));
}

function pyarrowAvailable(): boolean {
  if (process.env.BENCH_PYARROW === '0') return false;
  try {
    execFileSync('python3', ['-c', 'import pyarrow'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function verifyWithPyarrow(file: string, expected: Record<string, string>): string {
  const kinds = JSON.stringify(COLUMNS.map((c) => [c.name, c.kind === 'float' ? 'double' : c.kind, c.list]));
  const out = execFileSync('python3', ['-c', PYARROW_SCRIPT, file, kinds], { maxBuffer: 16 * MB }).toString();
  const actual = JSON.parse(out) as Record<string, string>;
  const bad = COLUMNS.filter((c) => actual[c.name] !== expected[c.name]).map((c) => c.name);
  const tsType = actual['sip_timestamp_us:type'];
  return bad.length === 0 ? `yes (${tsType})` : `NO: ${bad.join(',')}`;
}

// ---------------------------------------------------------------------------------------------
// Report.

interface Result {
  report: WriteReport;
  duckdb: Verification;
  pyarrow: string;
}

function printTable(results: Result[]): void {
  const base = results.find((r) => r.report.writer === 'parquetjs-lite') ?? results[0];
  const rate = (r: Result): number => r.report.rows / (r.report.writerMs / 1000);
  const ratio = (value: number, reference: number): string => `${(value / reference).toFixed(2)}x`;
  const rows: string[][] = [[
    'writer', 'codec', 'streams', 'rows/s', 'vs lite', 'size MB', 'vs lite', 'peak RSS MB', 'heap peak Δ MB',
    'row groups', 'ts type (duckdb)', 'exact (duckdb, every value)', 'exact (pyarrow hash)',
  ]];
  for (const r of results) {
    const { report, duckdb } = r;
    const candidate = CANDIDATES.find((c) => c.name === report.writer) as Candidate;
    rows.push([
      report.writer, duckdb.codec, candidate.streaming,
      Math.round(rate(r)).toLocaleString('en-US'), ratio(rate(r), rate(base)),
      (report.bytes / MB).toFixed(1), ratio(report.bytes, base.report.bytes),
      report.maxRssMb.toFixed(0), (report.peakHeapMb - report.baseHeapMb).toFixed(0),
      String(duckdb.rowGroups), duckdb.timestampType,
      duckdb.mismatches === 0 ? 'yes' : `NO: ${duckdb.mismatches} values in ${duckdb.mismatchedColumns.join(',')}`,
      r.pyarrow,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]): string => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(rows[0]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  rows.slice(1).forEach((row) => console.log(line(row)));
  for (const r of results) {
    if (r.duckdb.firstMismatch) console.log(`  ${r.report.writer}: first mismatch ${r.duckdb.firstMismatch}`);
  }
}

export async function run(): Promise<void> {
  const config = benchConfig();
  fs.mkdirSync(config.outDir, { recursive: true });
  const wanted = process.env.BENCH_WRITERS?.split(',') ?? CANDIDATES.map((c) => c.name);
  const withPyarrow = pyarrowAvailable();
  const hashes = withPyarrow ? expectedHashes(config) : {};
  console.log(`parquet bench: ${config.rows} EnrichedOptionTrade rows, row groups of ${config.rowGroupRows}, node ${process.version}`);
  const results: Result[] = [];
  for (const name of wanted) {
    const report = await spawnChild(name);
    const file = outputFile(config, name);
    const duckdb = await verifyWithDuckDb(file, config);
    const pyarrow = withPyarrow ? verifyWithPyarrow(file, hashes) : 'skipped';
    results.push({ report, duckdb, pyarrow });
    console.log(`  ${name}: ${(report.writerMs / 1000).toFixed(2)} s, ${(report.bytes / MB).toFixed(1)} MB, verified`);
  }
  printTable(results);
  if (!withPyarrow) {
    console.log('pyarrow not found: `pip install pyarrow` then rerun, or check a file by hand with');
    console.log(`  python3 -c "import pyarrow.parquet as pq; t = pq.read_table('${outputFile(config, 'duckdb')}'); print(t.schema); print(t.slice(0, 3).to_pylist())"`);
  }
}

if (require.main === module && process.env.BENCH_CHILD) {
  runChild(process.env.BENCH_CHILD).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

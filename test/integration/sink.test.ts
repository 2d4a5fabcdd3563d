import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { MANIFEST, S3Destination } from '../../src/sinks/parquet/destination';
import { segmentFileName } from '../../src/sinks/parquet/layout';
import { TopicSerde } from '../../src/avro/serde';
import { EquityTrade } from '../../src/domain/records';
import { applyTopology } from '../../topology/apply';
import { buildTopology } from '../../topology/topology';
import { query, sqlString } from '../unit/parquet/duckdb-read';
import { connectTestKafka, TestKafka, uniqueName } from './helpers';
import { produceValues, spawnCli, until, waitExit, committedPartitions } from './kafka-io';

/**
 * The Parquet sink on the real broker: a kill -9 at any moment and a restart give exactly the
 * topic's records (no loss, no duplicates, ns timestamps to the digit); no partial file is ever
 * visible; the S3 path works against the local S3 server.
 */

const PARTITIONS = 3;
const DAY1 = 1741357800000000000n; // 2025-03-07 14:30 UTC
const TICKERS = ['SPY', 'QQQ', 'IWM', 'AAPL'];

function trades(n: number): EquityTrade[] {
  const out: EquityTrade[] = [];
  for (let i = 0; i < n; i += 1) {
    // two UTC days: the second half starts 24 h later, so files split by dt=
    const day = i < n / 2 ? 0n : 86_400_000_000_000n;
    out.push({
      ticker: TICKERS[i % TICKERS.length],
      sip_timestamp: DAY1 + day + BigInt(i) * 1_000_003_217n + 17n,
      participant_timestamp: i % 3 === 0 ? null : DAY1 + BigInt(i),
      trf_timestamp: null,
      sequence_number: BigInt(i),
      id: `t${i}`,
      exchange: 4,
      tape: 3,
      trf_id: null,
      price: 100 + (i % 997) / 100,
      size: 1 + (i % 50),
      conditions: i % 2 ? [12, 37] : [],
      correction: null,
      source: 'flatfile',
      origin: 'sink-test',
      origin_offset: BigInt(i),
    });
  }
  return out;
}

async function setup(): Promise<{ prefix: string; t: TestKafka; serde: TopicSerde<EquityTrade> }> {
  const prefix = `${uniqueName('sk')}.`;
  const t = await connectTestKafka({ topics: { prefix, partitions: PARTITIONS } });
  await applyTopology(t.config, t.admin, t.registry, buildTopology(t.config), [`${prefix}equity.trades`]);
  return { prefix, t, serde: await TopicSerde.forTopic(t.registry, `${prefix}equity.trades`, 'EquityTrade') };
}

function sink(prefix: string, out: string) {
  return spawnCli(['sink', 'parquet', '--topic', 'equity.trades', '--out', out], {
    OPTFLOW__TOPICS__PREFIX: prefix,
    OPTFLOW__SINK__MAX_FILE_RECORDS: '700',
    OPTFLOW__SINK__FLUSH_IDLE_SECONDS: '2',
    OPTFLOW__SINK__ROW_GROUP_ROWS: '2048',
    OPTFLOW__SINK__S3_ENDPOINT: process.env.S3_ENDPOINT ?? '',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
}

/** All committed, nothing sealed and unpublished. */
async function drained(t: TestKafka, prefix: string): Promise<boolean> {
  const topic = `${prefix}equity.trades`;
  const [committed, ends] = await Promise.all([committedPartitions(t.admin, `${prefix}optflow.sink.equity.trades`, topic), t.admin.fetchTopicOffsets(topic)]);
  return ends.every((e) => {
    const c = committed.find((p) => p.partition === e.partition);
    return c !== undefined && (c.offset === e.high || e.high === '0') && !c.metadata;
  });
}

function listParquet(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet')).map((f) => path.join(dir, f));
}

type Row = [string, bigint, bigint | null, number, number, string];

async function readRows(glob: string): Promise<Row[]> {
  const r = await query(`SELECT underlying, sip_timestamp, participant_timestamp, price, size, id FROM read_parquet(${sqlString(glob)}, hive_partitioning = true) ORDER BY id`);
  return r.rows as unknown as Row[];
}

function expectedRows(input: EquityTrade[]): Row[] {
  return input.map((x) => [x.ticker, x.sip_timestamp, x.participant_timestamp, x.price, x.size, x.id!] as Row).sort((a, b) => (a[5] < b[5] ? -1 : 1));
}

describe('parquet sink (real broker, DuckDB read-back)', () => {
  it('kill -9 mid-run and restart: the dataset equals the topic exactly; no partial file is ever visible', async () => {
    const { prefix, t, serde } = await setup();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-sink-'));
    const input = trades(12_000);
    try {
      await produceValues(t.kafka, serde, input.map((v) => ({ key: v.ticker, value: v })));
      let first = sink(prefix, out);
      const dataDir = path.join(out, 'equity.trades');
      let broken = 0;
      let watch = true;
      const seen = new Set<string>();
      const watching = (async () => {
        while (watch) {
          // every file is complete the moment it becomes visible: its footer reads
          for (const file of listParquet(dataDir).filter((f) => !seen.has(f))) {
            seen.add(file);
            const meta = await query(`SELECT count(*) FROM read_parquet(${sqlString(file)}, hive_partitioning = false)`).catch(() => undefined);
            if (meta === undefined && fs.existsSync(file)) broken += 1;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await until('first file', () => listParquet(dataDir).length > 0, 60_000);
      first.kill('SIGKILL');
      await waitExit(first);
      first = sink(prefix, out);
      await until('sink drained', () => drained(t, prefix), 120_000);
      first.kill('SIGTERM');
      await waitExit(first);
      watch = false;
      await watching;
      expect(seen.size).toBeGreaterThan(10);
      expect(broken).toBe(0);
      const rows = await readRows(`${dataDir}/**/*.parquet`);
      expect(rows).toHaveLength(input.length);
      expect(rows).toEqual(expectedRows(input));
      expect(rows.find((r) => r[5] === 't0')![1]).toBe(1741357800000000017n);
      const dirs = new Set(listParquet(dataDir).map((f) => path.relative(dataDir, path.dirname(f))));
      expect([...dirs].sort()).toEqual(['dt=2025-03-07', 'dt=2025-03-08'].flatMap((d) => TICKERS.map((u) => `${d}/underlying=${u}`)).sort());
      expect(fs.readdirSync(dataDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      await t.close();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('a member that fails (its lake cannot be written) ends its process with exit 1; a restart resumes with nothing lost', async () => {
    const { prefix, t, serde } = await setup();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-sink-fail-'));
    const dataDir = path.join(out, 'equity.trades');
    const input = trades(2000);
    try {
      // A regular file where the topic's directory goes: every partition directory fails with ENOTDIR.
      fs.writeFileSync(dataDir, 'not a directory');
      await produceValues(t.kafka, serde, input.map((v) => ({ key: v.ticker, value: v })));
      const failing = sink(prefix, out);
      // Before the fix the member stopped and the process stayed up, consuming nothing, for ever.
      expect(await waitExit(failing)).toBe(1);
      fs.rmSync(dataDir);
      const member = sink(prefix, out);
      await until('sink drained', () => drained(t, prefix), 120_000);
      member.kill('SIGTERM');
      expect(await waitExit(member)).toBe(0);
      expect(await readRows(`${dataDir}/**/*.parquet`)).toEqual(expectedRows(input));
    } finally {
      await t.close();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('writes to S3 (multipart-capable upload) and the objects read back exactly', async () => {
    const { prefix, t, serde } = await setup();
    const bucket = uniqueName('lake').replace(/\./g, '-').toLowerCase();
    const s3 = new S3Client({ region: 'us-east-1', endpoint: process.env.S3_ENDPOINT, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const local = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-s3-'));
    const input = trades(3000);
    try {
      await produceValues(t.kafka, serde, input.map((v) => ({ key: v.ticker, value: v })));
      const member = sink(prefix, `s3://${bucket}/lake/equity.trades`);
      await until('sink drained', () => drained(t, prefix), 120_000);
      member.kill('SIGTERM');
      await waitExit(member);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'lake/' }));
      const all = (listed.Contents ?? []).map((o) => o.Key!);
      const keys = all.filter((k) => k.endsWith('.parquet'));
      expect(keys.length).toBeGreaterThan(0);
      // every partition directory names its current files in a manifest
      for (const dir of new Set(keys.map((k) => path.posix.dirname(k)))) {
        const manifest = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${dir}/${MANIFEST}` }));
        const listedHere = keys.filter((k) => path.posix.dirname(k) === dir).map((k) => path.posix.basename(k)).sort();
        expect(JSON.parse(await manifest.Body!.transformToString())).toEqual({ generation: 0, files: listedHere });
      }
      expect(all.length).toBe(keys.length + new Set(keys.map((k) => path.posix.dirname(k))).size);
      for (const key of keys) {
        expect(key).toMatch(/^lake\/equity\.trades\/dt=\d{4}-\d{2}-\d{2}\/underlying=[A-Z]+\/equity\.trades\+\d\+\d{20}\.parquet$/);
        const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const file = path.join(local, key);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, Buffer.from(await body.Body!.transformToByteArray()));
      }
      expect(await readRows(`${local}/lake/equity.trades/**/*.parquet`)).toEqual(expectedRows(input));
    } finally {
      await t.close();
      fs.rmSync(local, { recursive: true, force: true });
    }
  });

  it('on S3 a newer generation replaces a partition directory: manifest first, then the old files go; an older one is superseded', async () => {
    const bucket = uniqueName('lake').replace(/\./g, '-').toLowerCase();
    const s3 = new S3Client({ region: 'us-east-1', endpoint: process.env.S3_ENDPOINT, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const dest = new S3Destination(s3, { bucket, prefix: 'lake/features' });
    const dir = 'dt=2025-03-07/underlying=SPY/window=5m';
    const publish = async (name: string, generation: number) => {
      const staging = await dest.stagingPath(`${dir}/${name}`);
      fs.writeFileSync(staging, `${name} bytes`);
      return dest.publish(staging, `${dir}/${name}`, generation);
    };
    const objects = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `lake/features/${dir}/` }))).Contents ?? []).map((o) => path.posix.basename(o.Key!)).sort();
    const manifest = async () => JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `lake/features/${dir}/${MANIFEST}` }))).Body!.transformToString()) as unknown;
    const old = [segmentFileName('features', 1, 10n), segmentFileName('features', 1, 90n)];
    for (const name of old) expect(await publish(name, 0)).toBe('published');
    expect(await manifest()).toEqual({ generation: 0, files: old });
    const fresh = segmentFileName('features', 1, 500n, 1);
    expect(await publish(fresh, 1)).toBe('replaced');
    expect(await objects()).toEqual([MANIFEST, fresh].sort());
    expect(await manifest()).toEqual({ generation: 1, files: [fresh] });
    expect(await publish(fresh, 1)).toBe('published'); // a replayed segment
    expect(await publish(segmentFileName('features', 0, 40n), 0)).toBe('superseded');
    expect(await objects()).toEqual([MANIFEST, fresh].sort());
  });
});

/**
 * Flatfile producer end to end: generated Massive days in a real S3 server (S3Mock), the CLI as a
 * child process, a real broker. Each test uses its own bucket and topic prefix.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../src/config';
import { TopicSerde } from '../../src/avro/serde';
import type { DeadLetter } from '../../src/domain/records';
import { generateDay, type GenerateDayOptions, type GeneratedFile } from '../../src/generator';
import { WATERMARK_HEADER } from '../../src/kafka/markers';
import { datasetOf, type Dataset } from '../../src/producers/flatfile/datasets';
import { dedupeKey } from '../../src/producers/flatfile/ingest/dedupe';
import { recordKey, type MarketRecord } from '../../src/producers/flatfile/parse/normalise';
import { FlatFileParser } from '../../src/producers/flatfile/parse/flat-file-parser';
import { compareKeys, sortKey } from '../../src/producers/flatfile/sort/order';
import { QuoteReduction, reduceSorted, TradeTimes } from '../../src/producers/flatfile/ingest/quote-reduction';
import { READ_AHEAD_TAG } from '../../src/producers/flatfile/ingest/day';
import { loadState, stateTopics } from '../../src/producers/flatfile/ingest/state';
import { applyTopologyUnder, connectTestKafka, uniqueName, type TestKafka } from './helpers';
import { readTopic, readUntil, spawnCli, until, waitExit } from './kafka-io';

const DATE = '2025-03-07';
const S3_ENDPOINT = process.env.S3_ENDPOINT ?? 'http://127.0.0.1:19390';

let tk: TestKafka;
let s3: S3Client;
const dirs: string[] = [];

beforeAll(async () => {
  tk = await connectTestKafka();
  s3 = new S3Client({ endpoint: S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});

afterAll(async () => {
  s3.destroy();
  await tk.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Env {
  prefix: string;
  bucket: string;
  env: Record<string, string>;
}

async function newEnv(name: string, extra: Record<string, string> = {}): Promise<Env> {
  const prefix = `${uniqueName(`ff-${name}`)}.`;
  const bucket = uniqueName(`ff-${name}`).replace(/[^a-z0-9-]/g, '-');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const env = {
    OPTFLOW__TOPICS__PREFIX: prefix,
    OPTFLOW__MASSIVE__ENDPOINT: S3_ENDPOINT,
    OPTFLOW__MASSIVE__BUCKET: bucket,
    OPTFLOW__MASSIVE__LOCAL_DIR: '',
    MASSIVE_S3_ACCESS_KEY_ID: 'test',
    MASSIVE_S3_SECRET_ACCESS_KEY: 'test',
    KAFKA_BROKERS: tk.config.kafka.brokers.join(','),
    SCHEMA_REGISTRY_URL: tk.config.schema_registry.url,
    ...extra,
  };
  await applyTopologyUnder(tk, prefix);
  return { prefix, bucket, env };
}

async function generate(options: Omit<GenerateDayOptions, 'outDir' | 'date'>): Promise<GeneratedFile[]> {
  const outDir = mkdtempSync(join(tmpdir(), 'ff-gen-'));
  dirs.push(outDir);
  return (await generateDay({ date: DATE, outDir, ...options })).files;
}

async function upload(bucket: string, key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function uploadAll(bucket: string, files: GeneratedFile[]): Promise<void> {
  for (const f of files) await upload(bucket, f.key, readFileSync(f.path));
}

/** Produces the whole day, kill -9 once 30,000 stock quotes are committed; the checkpoints at the kill. */
async function killMidDay(e: Env): Promise<Awaited<ReturnType<typeof loadState>>['files']> {
  const total = async (topic: string): Promise<number> => (await tk.admin.fetchTopicOffsets(`${e.prefix}${topic}`).catch(() => [])).reduce((n, o) => n + Number(o.high), 0);
  const child = spawnCli(['produce', 'flatfile', '--from', DATE], e.env);
  await until('a few transactions committed', async () => (await total('equity.quotes')) >= 30_000, 240_000);
  child.kill('SIGKILL');
  await waitExit(child);
  return (await loadState(tk.kafka, stateTopics({ topics: { ...tk.config.topics, prefix: e.prefix } }))).files;
}

async function produce(e: Env, args: string[] = []): Promise<number | null> {
  return waitExit(spawnCli(['produce', 'flatfile', '--from', DATE, '--to', DATE, ...args], e.env));
}

function datasetOfFile(f: GeneratedFile): Dataset {
  return datasetOf(f.dataset);
}

/** `timeoutMs`: how long to wait for `expected` records (short when expecting fewer: the read stops at the deadline). */
async function readMarket(kafka: Pick<Config, 'kafka'>, e: Env, dataset: Dataset, expected: number, timeoutMs = 180_000): Promise<MarketRecord[]> {
  const serde = await TopicSerde.forTopic<MarketRecord>(tk.registry, `${e.prefix}${dataset.topic}`, dataset.kind);
  const read = await readTopic(kafka, serde.topic, (b) => serde.decode(b), expected, timeoutMs);
  return read.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset))).map((r) => r.value);
}

async function readDeadLetters(e: Env, dataset: Dataset, expected: number): Promise<DeadLetter[]> {
  const serde = await TopicSerde.forTopic<DeadLetter>(tk.registry, `${e.prefix}${dataset.topic}.dlq`, 'DeadLetter');
  return (await readTopic(tk.kafka, serde.topic, (b) => serde.decode(b), expected, 15_000)).map((r) => r.value);
}

/** The default universe: several underlyings, two of them sharing a partition. */
const UNIVERSE = ['SPY', 'QQQ', 'IWM'];

function validRows(f: GeneratedFile): number {
  return UNIVERSE.reduce((n, u) => n + (f.validRowsByUnderlying[u] ?? 0), 0);
}

/** The records a clean run must produce: the file parsed directly (the default universe). */
function parseFile(path: string, dataset: Dataset, key: string): MarketRecord[] {
  const parser = new FlatFileParser({ dataset, origin: key, universe: UNIVERSE, rootMap: tk.config.universe.roots });
  return [...parser.push(gunzipSync(readFileSync(path))).records, ...parser.finish().records];
}

function multiset(records: readonly MarketRecord[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of records) m.set(dedupeKey(r), (m.get(dedupeKey(r)) ?? 0) + 1);
  return m;
}

function groupOf(r: MarketRecord): string {
  return 'underlying' in r ? r.underlying : r.ticker;
}

/** Within each key, records are in (sip_timestamp, sequence) order (they are read partition by partition, offset order). */
function expectEventTimeOrder(records: readonly MarketRecord[]): void {
  const last = new Map<string, MarketRecord>();
  for (const r of records) {
    const prev = last.get(groupOf(r));
    if (prev) {
      const ok = prev.sip_timestamp < r.sip_timestamp || (prev.sip_timestamp === r.sip_timestamp && (prev.sequence_number ?? -1n) <= (r.sequence_number ?? -1n));
      if (!ok) throw new Error(`out of order for ${groupOf(r)}: ${prev.sip_timestamp}/${prev.sequence_number} then ${r.sip_timestamp}/${r.sequence_number}`);
    }
    last.set(groupOf(r), r);
  }
}

/** Null-value watermark markers per partition of a topic. */
/**
 * The last marker read on each partition of a topic, reading until `settled` holds for every partition
 * (by default: it has a marker) or `waitMs` passes. The first markers of a day come before its records,
 * so a test of the day's final markers must wait for those.
 */
async function readMarkers(e: Env, logicalTopic: string, waitMs = 20_000, settled: (watermark: bigint) => boolean = () => true): Promise<Map<number, bigint>> {
  const topic = `${e.prefix}${logicalTopic}`;
  const offsets = await tk.admin.fetchTopicOffsets(topic);
  const markers = new Map<number, bigint>();
  await readUntil(
    tk.kafka,
    topic,
    (m) => {
      const header = m.headers?.[WATERMARK_HEADER];
      if (m.value === null && header) markers.set(m.partition, BigInt(header.toString()));
    },
    () => offsets.every((o) => markers.has(o.partition) && settled(markers.get(o.partition)!)),
    waitMs,
  ).catch(() => undefined);
  return markers;
}

test('a generated day from S3: counts = manifest, dead letters with reason and line, per-key event-time order, end-of-day markers', async () => {
  const files = await generate({ seed: 3 });
  const e = await newEnv('day');
  await uploadAll(e.bucket, files);
  expect(await produce(e)).toBe(0);
  for (const f of files) {
    const dataset = datasetOfFile(f);
    const expected = validRows(f);
    const records = await readMarket(tk.kafka, e, dataset, expected);
    expect(records.length).toBe(expected);
    expect(records.every((r) => UNIVERSE.includes(groupOf(r)) && r.origin === f.key && r.source === 'flatfile')).toBe(true);
    expect(new Set(records.map(groupOf)).size).toBe(UNIVERSE.length);
    expectEventTimeOrder(records);
    const malformed = f.malformed.filter((m) => m.underlying !== null && UNIVERSE.includes(m.underlying));
    const letters = await readDeadLetters(e, dataset, malformed.length);
    const got = letters.map((l) => `${l.position}:${l.reason}`).sort();
    expect(got).toEqual(malformed.map((m) => `${m.line}:${m.reason}`).sort());
    expect(letters.every((l) => l.origin === f.key && l.raw.length > 0 && l.partition === null && l.event_time === null)).toBe(true);
    expect(new Set(malformed.map((m) => m.reason)).size).toBeGreaterThanOrEqual(7);
  }
  // midnight New York at the end of 2025-03-07 (EST): 05:00 UTC on the 8th
  const endOfDay = BigInt(Date.UTC(2025, 2, 8, 5)) * 1_000_000n;
  const markers = await readMarkers(e, 'option.trades', 20_000, (wm) => wm === endOfDay);
  expect(markers.size).toBe(tk.config.topics.partitions);
  for (const wm of markers.values()) expect(wm).toBe(endOfDay);
});

test('kill -9 mid-file, then resume: exactly the records of one clean run', async () => {
  const files = await generate({ seed: 5, datasets: ['us_options_opra/trades_v1'], optionTradesPerContract: 2500, malformed: false });
  const file = files[0];
  const dataset = datasetOfFile(file);
  const e = await newEnv('kill', { OPTFLOW__MASSIVE__TRANSACTION_RECORDS: '5000' });
  await uploadAll(e.bucket, files);
  const expected = parseFile(file.path, dataset, file.key);
  expect(expected.length).toBeGreaterThan(60_000);
  const topic = `${e.prefix}${dataset.topic}`;
  const child = spawnCli(['produce', 'flatfile', '--from', DATE, '--datasets', 'option-trades'], e.env);
  const producedSoFar = async (): Promise<number> => {
    const offsets = await tk.admin.fetchTopicOffsets(topic).catch(() => []);
    return offsets.reduce((n, o) => n + Number(o.high), 0);
  };
  await until('a few transactions committed', async () => (await producedSoFar()) >= 15_000, 240_000);
  child.kill('SIGKILL');
  await waitExit(child);
  const atKill = await producedSoFar();
  expect(atKill).toBeLessThan(expected.length);
  // The kill landed mid-file after some committed chunks, so the second run really resumes.
  const { files: checkpoints } = await loadState(tk.kafka, stateTopics({ topics: { ...tk.config.topics, prefix: e.prefix } }));
  const cut = checkpoints.get(file.key)!;
  expect(cut.status).toBe('in_progress');
  expect(cut.position).toBeGreaterThan(0);
  expect(cut.producedRecords).toBe(cut.position);
  expect(await produce(e, ['--datasets', 'option-trades'])).toBe(0);
  const records = await readMarket(tk.kafka, e, dataset, expected.length);
  expect(records.length).toBe(expected.length);
  expect(multiset(records)).toEqual(multiset(expected));
  expectEventTimeOrder(records);
});

test('kill -9 mid-day with all four datasets, then resume: exactly one clean run per topic, each partition in event time', async () => {
  const files = await generate({ seed: 13 });
  const e = await newEnv('killday', { OPTFLOW__MASSIVE__TRANSACTION_RECORDS: '5000' });
  await uploadAll(e.bucket, files);
  const cut = await killMidDay(e);
  expect(files.every((f) => cut.get(f.key)?.status === 'in_progress' && cut.get(f.key)!.position > 0)).toBe(true);
  expect(await produce(e)).toBe(0);
  for (const f of files) {
    const dataset = datasetOfFile(f);
    const expected = parseFile(f.path, dataset, f.key);
    const serde = await TopicSerde.forTopic<MarketRecord>(tk.registry, `${e.prefix}${dataset.topic}`, dataset.kind);
    const read = await readTopic(tk.kafka, serde.topic, (b) => serde.decode(b), expected.length, 30_000);
    expect(read.length).toBe(expected.length);
    expect(multiset(read.map((r) => r.value))).toEqual(multiset(expected));
    const last = new Map<number, bigint>();
    for (const r of read.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)))) {
      expect(r.value.sip_timestamp >= (last.get(r.partition) ?? 0n)).toBe(true);
      last.set(r.partition, r.value.sip_timestamp);
    }
    const malformed = f.malformed.filter((m) => m.underlying !== null && UNIVERSE.includes(m.underlying));
    expect((await readDeadLetters(e, dataset, malformed.length)).length).toBe(malformed.length);
  }
});

test('a re-published day (same key, rows added, new ETag) adds only the new rows', async () => {
  const files = await generate({ seed: 7, datasets: ['us_options_opra/trades_v1'], malformed: false });
  const file = files[0];
  const dataset = datasetOfFile(file);
  const e = await newEnv('republish');
  await uploadAll(e.bucket, files);
  expect(await produce(e, ['--datasets', 'option-trades'])).toBe(0);
  const original = parseFile(file.path, dataset, file.key);

  // Re-publish: the same file with 25 SPY rows appended (copies of existing rows, 1 µs later).
  const csv = gunzipSync(readFileSync(file.path)).toString('latin1').trimEnd().split('\n');
  const header = csv[0].split(',');
  const sip = header.indexOf('sip_timestamp');
  const spyRows = csv.slice(1).filter((l) => l.startsWith('O:SPY') && !l.includes('"')).slice(0, 25);
  const added = spyRows.map((l) => l.split(',').map((v, i) => (i === sip ? String(BigInt(v) + 1000n) : v)).join(','));
  const republished = gzipSync(Buffer.from([...csv, ...added].join('\n') + '\n', 'latin1'));
  const path = join(dirs[dirs.length - 1], 'republished.csv.gz');
  writeFileSync(path, republished);
  await upload(e.bucket, file.key, republished);
  expect(await produce(e, ['--datasets', 'option-trades'])).toBe(0);

  const expected = parseFile(path, dataset, file.key);
  expect(expected.length).toBe(original.length + 25);
  const records = await readMarket(tk.kafka, e, dataset, expected.length);
  expect(records.length).toBe(expected.length);
  expect(multiset(records)).toEqual(multiset(expected));
  // A third run changes nothing.
  expect(await produce(e, ['--datasets', 'option-trades'])).toBe(0);
  expect((await readMarket(tk.kafka, e, dataset, expected.length + 1, 15_000)).length).toBe(expected.length);
});

test('a truncated gzip fails its day: exit 1, nothing of that day downstream (no watermark passes it), the failure checkpointed', async () => {
  const files = await generate({ seed: 9, datasets: ['us_stocks_sip/trades_v1', 'us_options_opra/trades_v1'], malformed: false });
  const e = await newEnv('truncated');
  const stock = files.find((f) => f.dataset === 'us_stocks_sip/trades_v1')!;
  const option = files.find((f) => f.dataset === 'us_options_opra/trades_v1')!;
  await upload(e.bucket, stock.key, readFileSync(stock.path));
  const gz = readFileSync(option.path);
  await upload(e.bucket, option.key, gz.subarray(0, Math.floor(gz.length * 0.6)));
  expect(await produce(e, ['--datasets', 'stock-trades,option-trades'])).toBe(1);
  for (const topic of ['equity.trades', 'option.trades', 'option.trades.dlq']) {
    const offsets = await tk.admin.fetchTopicOffsets(`${e.prefix}${topic}`);
    expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(0);
  }
  const state = () => loadState(tk.kafka, stateTopics({ topics: { ...tk.config.topics, prefix: e.prefix } }));
  await until('the failure checkpointed', async () => (await state()).files.get(option.key)?.status === 'failed', 20_000);
  const { files: checkpoints } = await state();
  expect(checkpoints.get(option.key)!.error).toMatch(/gzip/);
  expect(checkpoints.has(stock.key)).toBe(false);
  expect((await readMarkers(e, 'equity.trades', 3000)).size).toBe(0);
});

test('7-column option trades (no participant_timestamp) end to end', async () => {
  const files = await generate({ seed: 11, datasets: ['us_options_opra/trades_v1'], optionTradeColumns: 7 });
  const file = files[0];
  expect(file.columns).not.toContain('participant_timestamp');
  const e = await newEnv('cols7');
  await uploadAll(e.bucket, files);
  expect(await produce(e, ['--datasets', 'option-trades'])).toBe(0);
  const records = await readMarket(tk.kafka, e, datasetOfFile(file), validRows(file));
  expect(records.length).toBe(validRows(file));
  expect(records.every((r) => 'participant_timestamp' in r && r.participant_timestamp === null)).toBe(true);
  expectEventTimeOrder(records);
});

/** The option quotes a reducing run must send: the quote file in the producer's sort order, decided by the day's trades. */
async function reducedQuotes(quotes: GeneratedFile, trades: GeneratedFile): Promise<MarketRecord[]> {
  const times = new TradeTimes();
  for (const t of parseFile(trades.path, datasetOfFile(trades), trades.key)) times.add(t.ticker, t.sip_timestamp);
  const sorted = parseFile(quotes.path, datasetOfFile(quotes), quotes.key).sort(
    (a, b) => compareKeys(sortKey(recordKey(a), a.sip_timestamp, a.sequence_number), sortKey(recordKey(b), b.sip_timestamp, b.sequence_number)) || Number(a.origin_offset - b.origin_offset),
  );
  const kept: MarketRecord[] = [];
  for await (const { records, skips } of reduceSorted((async function* () { yield sorted; })(), new QuoteReduction(times), (q) => q.sip_timestamp)) kept.push(...records.filter((_, i) => skips[i] === 0));
  return kept;
}

test('option-quote reduction on: kill -9 mid-day, then resume: exactly the reduced quotes of one clean run, the other topics whole', async () => {
  const files = await generate({ seed: 17, malformed: false });
  const e = await newEnv('reduce', { OPTFLOW__MASSIVE__TRANSACTION_RECORDS: '5000', OPTFLOW__MASSIVE__REDUCE_OPTION_QUOTES: 'true' });
  await uploadAll(e.bucket, files);
  const cut = await killMidDay(e);
  const quotes = files.find((f) => f.dataset === 'us_options_opra/quotes_v1')!;
  const trades = files.find((f) => f.dataset === 'us_options_opra/trades_v1')!;
  expect(files.every((f) => cut.get(f.key)?.status === 'in_progress' && cut.get(f.key)!.position > 0)).toBe(true);
  expect(cut.get(quotes.key)!.reducedBy).toBe(`${trades.key}@${cut.get(trades.key)!.etag}${READ_AHEAD_TAG}`);
  expect(await produce(e)).toBe(0);
  const kept = await reducedQuotes(quotes, trades);
  const all = parseFile(quotes.path, datasetOfFile(quotes), quotes.key);
  expect(kept.length).toBeLessThan(all.length);
  for (const f of files) {
    const dataset = datasetOfFile(f);
    const expected = f === quotes ? kept : parseFile(f.path, dataset, f.key);
    const serde = await TopicSerde.forTopic<MarketRecord>(tk.registry, `${e.prefix}${dataset.topic}`, dataset.kind);
    const read = await readTopic(tk.kafka, serde.topic, (b) => serde.decode(b), expected.length, 30_000);
    expect(read.length).toBe(expected.length);
    expect(multiset(read.map((r) => r.value))).toEqual(multiset(expected));
  }
});

/**
 * `npm run bench:day [-- --scale F] [--members N] [--keep]`: a real-size trading day (src/generator/real.ts;
 * F scales its counts, default 1) end to end on the local stack, each stage a separate CLI process run alone
 * (the processors as N processes of their group, default 1):
 * the flatfile producer, the greeks processor, the features processor, then the Parquet sinks. Per
 * stage: wall time, for a group the time to its join, records/s (a group's from its join, as the pure
 * core times processing only), peak RSS (VmHWM from /proc), and the ratio to its physical limit,
 * measured in the same run on the same machine:
 *   - gunzip of the same files (node zlib, the producer's decompressor) and its rows/s;
 *   - Kafka's own kafka-producer-perf-test / kafka-consumer-perf-test on the same broker, with
 *     records of the day's average Avro size;
 *   - the pure core: greeks and features on the same day in memory (ProcessorDriver), fed in the
 *     producer's order (its own read, sort, merge and option-quote reduction).
 * Topics live under a unique prefix and are deleted at the end unless --keep.
 */
import { ensureStack } from '../src/stack/ensure';
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { loadConfig, physicalName, type Config } from '../src/config';
import type { EnrichedOptionTrade } from '../src/domain/records';
import { generateRealDay, type RealDayManifest } from '../src/generator';
import { wireHeader } from '../src/avro/serde';
import { typeOf } from '../src/avro/types';
import { createAdmin, type Admin } from '../src/kafka/client';
import { dropTopics } from './topics';
import { partitionOf } from '../src/kafka/partitioner';
import { fileAction } from '../src/producers/flatfile/ingest/checkpoint';
import { DATASETS, flatFileKey } from '../src/producers/flatfile/datasets';
import { HashMultiset } from '../src/producers/flatfile/ingest/dedupe';
import { encodeInline } from '../src/producers/flatfile/encode/file-encoding';
import { datasetValues } from '../src/producers/flatfile/encode/encoded';
import { daySequence, disposeDay, readDayFile, type DayFile } from '../src/producers/flatfile/ingest/day';
import { recordKey } from '../src/producers/flatfile/local-day';
import type { MarketRecord } from '../src/producers/flatfile/parse/normalise';
import { newFileProgress } from '../src/producers/flatfile/ingest/progress';
import { QuoteReduction, type TradeTimes } from '../src/producers/flatfile/ingest/quote-reduction';
import { LocalSource } from '../src/producers/flatfile/ingest/source';
import { features } from '../src/processors/features';
import { greeks } from '../src/processors/greeks';
import { ProcessorDriver } from '../src/processors/runtime/driver';

const DATE = '2025-03-07';
const ROOT = resolve(__dirname, '..', '..');
const WIRE_HEADER_BYTES = wireHeader(0).length;
/**
 * The pure core decodes this many records, then times their processing. The runtime decodes each
 * record just before it processes it, so records die young; decoding a large batch first makes every
 * record outlive a scavenge and get copied (features: 200-220k records/s in batches of 5,000 against
 * 250-285k in batches of 1,000 to 2,000, on the same 0.2-scale day).
 */
const DECODE_BATCH = 1000;
const END_OF_DAY = BigInt(Date.UTC(2025, 2, 8, 5)) * 1_000_000n;
const WINDOWS_PER_UNDERLYING = 390 + 78 + 26 + 13;
const SINK_TOPICS = ['equity.trades', 'equity.quotes', 'option.trades', 'option.quotes', 'option.trades.enriched', 'features'];

interface Args {
  scale: number;
  keep: boolean;
  /** Processes in each processor's group (the sinks run one each). */
  members: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { scale: 1, keep: false, members: 1 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--scale') args.scale = Number(argv[++i]);
    else if (argv[i] === '--keep') args.keep = true;
    else if (argv[i] === '--members') args.members = Number(argv[++i]);
  }
  if (!(args.scale > 0)) throw new Error('--scale must be > 0 (1 = a real day, 0.05 = a twentieth)');
  if (!(Number.isInteger(args.members) && args.members >= 1)) throw new Error('--members must be a whole number >= 1');
  return args;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function theDay(scale: number): Promise<{ dir: string; manifest: RealDayManifest }> {
  const dir = resolve(ROOT, 'bench', 'out', `day-${scale}`);
  const path = join(dir, `${DATE}.manifest.json`);
  if (existsSync(path)) return { dir, manifest: JSON.parse(readFileSync(path, 'utf8')) as RealDayManifest };
  mkdirSync(dir, { recursive: true });
  out(`generating the real-size day at scale ${scale} (once, into ${dir}) ...`);
  const started = Date.now();
  const manifest = await generateRealDay({ date: DATE, outDir: dir, seed: 1, fraction: scale });
  writeFileSync(path, JSON.stringify(manifest));
  out(`  generated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { dir, manifest };
}

/** Peak RSS of a child, from /proc/<pid>/status VmHWM (kB), sampled until it exits. */
class Rss {
  peakKb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 250);
  }

  sample(): void {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      if (m) this.peakKb = Math.max(this.peakKb, Number(m[1]));
    } catch {
      // exited
    }
  }

  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peakKb / 1024;
  }
}

function cli(args: string[], env: Record<string, string>, capture = false): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'bin', 'optflow.js'), ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', capture ? 'pipe' : 'ignore', 'inherit'],
  });
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((res) => (child.exitCode !== null ? res(child.exitCode) : child.once('exit', (code) => res(code ?? 1))));
}

async function captured(child: ChildProcess): Promise<string> {
  let text = '';
  child.stdout!.on('data', (b: Buffer) => (text += b.toString()));
  const code = await exited(child);
  if (code !== 0) throw new Error(`exit ${code}: ${text}`);
  return text;
}

interface StageResult {
  stage: string;
  /** From spawn to exit (the producer) or to caught up (a group's members). */
  seconds: number;
  /** A group's members: from spawn until the group is Stable with every member (process start, connect, join). */
  joinSeconds?: number;
  records: number;
  rssMb: number;
  limit?: { name: string; perSecond: number };
}

/** gunzip of each file of the day (node zlib, streaming): MB/s of CSV and rows/s. */
async function gunzipLimit(manifest: RealDayManifest): Promise<{ seconds: number; csvMb: number; rows: number }> {
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (const f of manifest.files) {
    await pipeline(createReadStream(f.path), createGunzip({ chunkSize: 256 * 1024 }), new Writable({ write: (chunk: Buffer, _e, done) => ((bytes += chunk.length), done()) }));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, csvMb: bytes / 1e6, rows: manifest.files.reduce((n, f) => n + f.rows, 0) };
}

/** Kafka's own producer and consumer perf tests on the same broker (records of `size` bytes, 6 partitions, acks=all). */
async function kafkaLimits(config: Config, env: Record<string, string>, prefix: string, records: number, size: number): Promise<{ produce: number; consume: number }> {
  const topic = `${prefix}perf`;
  const brokers = config.kafka.brokers.join(',');
  const create = cli(['kafka', 'topics', '--create', '--topic', topic, '--partitions', String(config.topics.partitions), '--replication-factor', '1'], env, true);
  await captured(create);
  const produced = await captured(cli([
    'kafka', 'producer-perf-test', '--topic', topic, '--num-records', String(records), '--record-size', String(size), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all', 'linger.ms=5', 'batch.size=262144', 'compression.type=none',
  ], env, true));
  // "N records sent, X records/sec (Y MB/sec), ..."
  const p = /([\d.]+) records\/sec/.exec(produced.trim().split('\n').pop() ?? '');
  const consumed = await captured(cli(['kafka', 'consumer-perf-test', '--topic', topic, '--messages', String(records), '--timeout', '60000'], env, true));
  // CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
  const row = consumed.trim().split('\n').pop()!.split(',').map((s) => s.trim());
  return { produce: p ? Number(p[1]) : NaN, consume: Number(row[5]) };
}

/** The day as the producer sends it (read, sort, merge, option-quote reduction), through greeks then features in memory. */
export async function pureCore(dir: string, config: Config): Promise<{ greeks: { records: number; seconds: number }; features: { records: number; seconds: number }; sides: Record<string, number>; avgBytes: number }> {
  const source = new LocalSource(dir);
  const settings = { universe: config.universe.underlyings, rootMap: config.universe.roots, sortMemoryRecords: config.massive.sort_memory_records, transactionRecords: 20_000 };
  const files: DayFile[] = [];
  let trades: TradeTimes | null = null;
  for (const dataset of [...DATASETS].sort((a, b) => Number(a.kind === 'OptionQuote') - Number(b.kind === 'OptionQuote'))) {
    const key = flatFileKey(dataset.id, DATE);
    const reader = { source, schemaId: 0, encoding: encodeInline, decide: (etag: string) => fileAction(undefined, etag, true), priorHashes: async () => new HashMultiset(16) };
    const dayReduction = dataset.kind === 'OptionQuote' && trades ? { by: 'bench', reduction: new QuoteReduction(trades), readAhead: true } : null;
    const read = await readDayFile({ dataset, date: DATE, key, etag: 'e', size: 0 }, reader, settings, newFileProgress(key, dataset.shortName, 0, 0), 4, { collectTrades: dataset.kind === 'OptionTrade', dayReduction });
    if ('skipped' in read) throw new Error('unexpected skip');
    if (read.read.tradeTimes) trades = read.read.tradeTimes;
    files.push(read);
  }
  const order = DATASETS.map((d) => files.findIndex((f) => f.file.dataset === d));
  const ordered = order.map((i) => files[i]);
  const decoders = new Map(DATASETS.map((d) => [d, datasetValues(d)]));
  const drivers = new Map<number, ProcessorDriver>();
  // Per partition, what features reads, kept as Avro bytes: the day as objects would make every GC in
  // the timed sections walk it, and no processor holds that.
  const featureInputs = new Map<number, FeatureInput>();
  const inputsOf = (partition: number) => featureInputs.get(partition) ?? featureInputs.set(partition, { enriched: new PackedBodies(), stockTrades: new PackedBodies() }).get(partition)!;
  let batch: { topic: string; record: MarketRecord; partition: number }[] = [];
  let greeksCpu = 0;
  let records = 0;
  let bytes = 0;
  const timedGreeks = (work: () => void): void => {
    greeksCpu += cpuSeconds(work);
  };
  const keepEnriched = (drained: [number, { topic: string; bytes: Buffer }[]][]): void => {
    for (const [partition, outputs] of drained) {
      const kept = inputsOf(partition).enriched;
      for (const o of outputs) if (o.topic === 'option.trades.enriched') kept.push(o.bytes);
    }
  };
  const run = (): void => {
    timedGreeks(() => {
      for (const b of batch) {
        let d = drivers.get(b.partition);
        if (!d) drivers.set(b.partition, (d = new ProcessorDriver(greeks, config)));
        d.pipe(b.topic, b.record, recordKey(b.record));
      }
    });
    batch = [];
  };
  const drain = (): void => {
    let drained: [number, { topic: string; bytes: Buffer }[]][] = [];
    timedGreeks(() => (drained = [...drivers].map(([p, d]) => [p, d.drainEncoded()])));
    keepEnriched(drained);
  };
  try {
    for await (const items of daySequence(ordered)) for (const item of items) {
      if (item.kind !== 'record' || item.skip) continue;
      const { dataset } = ordered[item.file].file;
      const record = decoders.get(dataset)!.decode(item.record.value);
      const partition = partitionOf(item.record.group, config.topics.partitions);
      batch.push({ topic: dataset.topic, record, partition });
      if (dataset.topic === 'equity.trades') inputsOf(partition).stockTrades.push(item.record.value.subarray(WIRE_HEADER_BYTES));
      if (records++ % 1000 === 0) bytes += item.record.value.length;
      if (batch.length >= DECODE_BATCH) run();
      if (records % 100_000 === 0) drain();
    }
    run();
  } finally {
    await disposeDay(files);
  }
  let drained: [number, { topic: string; bytes: Buffer }[]][] = [];
  timedGreeks(() => {
    drained = [...drivers].map(([p, d]) => {
      d.advanceWatermark(END_OF_DAY);
      return [p, d.drainEncoded()];
    });
  });
  keepEnriched(drained);
  drivers.clear();
  const featuresRun = featuresCore(featureInputs.values(), config);
  return { greeks: { records, seconds: greeksCpu }, features: featuresRun, sides: featuresRun.sides, avgBytes: Math.round((bytes / Math.max(1, Math.ceil(records / 1000))) ) };
}

/** CPU seconds (user + system, every thread of the process) that `work` took. */
function cpuSeconds(work: () => void): number {
  const c0 = process.cpuUsage();
  work();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

/**
 * Record bodies packed into large chunks, with their places in typed arrays: a day's worth held with no
 * JS object per record. Held as 2M Buffer views, every full GC in the timed sections marked them all
 * (about 190 ms each on the real-size day), a cost no processor has.
 */
export class PackedBodies {
  private static readonly CHUNK = 16 * 1024 * 1024;
  private readonly chunks: Buffer[] = [];
  private current = Buffer.allocUnsafe(0);
  private used = 0;
  private chunkOf: Uint32Array = new Uint32Array(1024);
  private startOf: Uint32Array = new Uint32Array(1024);
  private endOf: Uint32Array = new Uint32Array(1024);
  length = 0;

  push(body: Buffer): void {
    if (this.used + body.length > this.current.length) {
      this.current = Buffer.allocUnsafe(Math.max(PackedBodies.CHUNK, body.length));
      this.chunks.push(this.current);
      this.used = 0;
    }
    if (this.length === this.chunkOf.length) this.grow();
    body.copy(this.current, this.used);
    this.chunkOf[this.length] = this.chunks.length - 1;
    this.startOf[this.length] = this.used;
    this.endOf[this.length] = this.used + body.length;
    this.used += body.length;
    this.length++;
  }

  /** The i-th body (a view into its chunk). */
  at(i: number): Buffer {
    return this.chunks[this.chunkOf[i]].subarray(this.startOf[i], this.endOf[i]);
  }

  private grow(): void {
    const twice = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(2 * a.length);
      b.set(a);
      return b;
    };
    this.chunkOf = twice(this.chunkOf);
    this.startOf = twice(this.startOf);
    this.endOf = twice(this.endOf);
  }
}

/** What the features processor of one partition reads: Avro bodies (no wire header), each topic in its order. */
export interface FeatureInput {
  enriched: PackedBodies;
  stockTrades: PackedBodies;
}

/**
 * Features in memory on each partition's input merged by event time, decoded DECODE_BATCH records at
 * a time. Only the processing is timed.
 */
export function featuresCore(partitions: Iterable<FeatureInput>, config: Config, batchSize = DECODE_BATCH): { records: number; seconds: number; sides: Record<string, number> } {
  const enrichedType = typeOf('EnrichedOptionTrade');
  const stockTradeType = typeOf('EquityTrade');
  const sides: Record<string, number> = {};
  let seconds = 0;
  let records = 0;
  for (const { enriched, stockTrades } of partitions) {
    // Records 0..enriched.length-1 are the enriched trades, the rest the stock trades.
    const n = enriched.length + stockTrades.length;
    const decode = (i: number): { topic: string; value: MarketRecord } =>
      i < enriched.length
        ? { topic: 'option.trades.enriched', value: enrichedType.fromBuffer(enriched.at(i)) as MarketRecord }
        : { topic: 'equity.trades', value: stockTradeType.fromBuffer(stockTrades.at(i - enriched.length)) as MarketRecord };
    const times = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const { value } = decode(i);
      if (i < enriched.length) {
        const side = (value as EnrichedOptionTrade).aggressor_side ?? 'NONE';
        sides[side] = (sides[side] ?? 0) + 1;
      }
      times[i] = value.sip_timestamp;
    }
    const order = new Uint32Array(n).map((_, i) => i).sort((a, b) => (times[a] < times[b] ? -1 : times[a] > times[b] ? 1 : a - b));
    const driver = new ProcessorDriver(features, config);
    for (let from = 0; from < n; from += batchSize) {
      const batch = Array.from(order.subarray(from, from + batchSize), decode);
      seconds += cpuSeconds(() => {
        for (const { topic, value } of batch) driver.pipe(topic, value, recordKey(value));
      });
    }
    seconds += cpuSeconds(() => {
      driver.advanceWatermark(END_OF_DAY);
      driver.drainEncoded();
    });
    records += n;
  }
  return { records, seconds, sides };
}

/**
 * End offsets minus the group's committed offsets over the partitions that hold data (`keys`' partitions:
 * the others carry only watermark markers, which a sink never commits); uncommitted = from the start.
 */
async function lag(admin: Admin, config: Config, group: string, topics: string[], keys: (topic: string) => string[]): Promise<number> {
  let total = 0;
  for (const topic of topics) {
    const data = new Set(keys(topic).map((k) => partitionOf(k, config.topics.partitions)));
    const ends = await admin.fetchTopicOffsets(topic);
    // the Confluent admin answers [] for a group that never committed
    const committed = (await admin.fetchOffsets({ groupId: group, topics: [topic] })).find((t) => t.topic === topic);
    for (const e of ends) {
      if (!data.has(e.partition)) continue;
      const c = committed?.partitions.find((p) => p.partition === e.partition);
      const at = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(e.low);
      total += Math.max(0, Number(e.high) - at);
    }
  }
  return total;
}

/** The group has settled its assignment among `members` members (state Stable: 3 in the admin's enum). */
async function joined(admin: Admin, group: string, members: number): Promise<boolean> {
  const { groups } = await admin.describeGroups([group]);
  return groups.some((g) => Number(g.state) === 3 && g.members.length >= members);
}

/** How often a stage's group is looked at: one admin client for the stage, so the looking costs the machine little. */
const POLL_MS = 250;

/** A stage of `members` processes of one group (the CLI command `args` each), until the group's lag is gone; RSS is the largest process's. */
async function member(
  stage: string, args: string[], env: Record<string, string>, config: Config, group: string, inputs: string[], records: number, keys: (topic: string) => string[], members = 1,
): Promise<StageResult> {
  const started = Date.now();
  const children = Array.from({ length: members }, () => cli(args, env));
  const rss = children.map((child) => new Rss(child.pid!));
  const admin = createAdmin(config, 'bench');
  await admin.connect();
  let joinedMs: number | null = null;
  let doneMs: number;
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const failed = children.find((child) => child.exitCode !== null);
      if (failed) throw new Error(`${stage} exited with ${failed.exitCode}`);
      if (joinedMs === null && (await joined(admin, group, members))) joinedMs = Date.now();
      // After a partition's last record come at most its transaction's marker, the end-of-day marker and their two control records.
      if (joinedMs !== null && (await lag(admin, config, group, inputs, keys)) <= inputs.length * 4) break;
    }
    doneMs = Date.now();
  } finally {
    for (const r of rss) r.sample();
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map(exited));
    await admin.disconnect();
  }
  return {
    stage: members > 1 ? `${stage} (${members} members)` : stage, seconds: (doneMs - started) / 1000, joinSeconds: (joinedMs! - started) / 1000, records,
    rssMb: Math.max(...rss.map((r) => r.stop())),
  };
}

export async function run(argv: string[] = process.argv.slice(2)): Promise<void> {
  const args = parseArgs(argv);
  const { dir, manifest } = await theDay(args.scale);
  const prefix = `bench-day-${Date.now().toString(36)}.`;
  const env: Record<string, string> = { OPTFLOW__TOPICS__PREFIX: prefix, OPTFLOW__UNIVERSE__UNDERLYINGS: JSON.stringify(manifest.underlyings) };
  const config = loadConfig({ overrides: { topics: { prefix }, universe: { underlyings: manifest.underlyings } } });
  await ensureStack(config);
  const count = (dataset: string) => manifest.files.find((f) => f.dataset === dataset)!.validRows;
  const optionTrades = count('us_options_opra/trades_v1');
  const stockTrades = count('us_stocks_sip/trades_v1');
  out(`day ${DATE} at scale ${args.scale}: ${manifest.files.map((f) => `${f.dataset.split('/')[0].replace('us_', '')}/${f.dataset.split('/')[1]} ${f.rows.toLocaleString('en-US')}`).join(', ')}`);
  out(`  ${(manifest.files.reduce((n, f) => n + f.bytes, 0) / 1e6).toFixed(0)} MB gz; topics under prefix ${prefix}`);

  const gz = await gunzipLimit(manifest);
  out(`gunzip: ${gz.seconds.toFixed(1)} s, ${(gz.csvMb / gz.seconds).toFixed(0)} MB/s, ${Math.round(gz.rows / gz.seconds).toLocaleString('en-US')} rows/s`);
  const core = await pureCore(dir, config);
  const coreRate = (s: { records: number; seconds: number }) => s.records / s.seconds;
  out(`pure core (CPU s): greeks ${core.greeks.records.toLocaleString('en-US')} records in ${core.greeks.seconds.toFixed(1)} s = ${Math.round(coreRate(core.greeks)).toLocaleString('en-US')}/s; ` +
    `features ${core.features.records.toLocaleString('en-US')} in ${core.features.seconds.toFixed(1)} s = ${Math.round(coreRate(core.features)).toLocaleString('en-US')}/s`);
  const sideTotal = Object.values(core.sides).reduce((a, b) => a + b, 0);
  out(`aggressor sides of ${sideTotal.toLocaleString('en-US')} option trades: ${Object.entries(core.sides).map(([k, v]) => `${k} ${(100 * v / sideTotal).toFixed(1)}%`).join(', ')}`);

  const perfRecords = Math.min(2_000_000, Math.max(200_000, core.greeks.records));
  const kafka = await kafkaLimits(config, env, prefix, perfRecords, Math.max(50, core.avgBytes));
  out(`kafka perf tests (${perfRecords.toLocaleString('en-US')} records of ${core.avgBytes} B): produce ${Math.round(kafka.produce).toLocaleString('en-US')}/s, consume ${Math.round(kafka.consume).toLocaleString('en-US')}/s`);

  const results: StageResult[] = [];
  const apply = cli(['topology', 'apply'], env);
  if ((await exited(apply)) !== 0) throw new Error('topology apply failed');
  {
    const started = Date.now();
    const child = cli(['produce', 'flatfile', '--from', DATE, '--to', DATE, '--local', dir, '--job', `bench-${prefix}`], env);
    const rss = new Rss(child.pid!);
    const code = await exited(child);
    if (code !== 0) throw new Error(`producer exited with ${code}`);
    results.push({ stage: 'flatfile producer', seconds: (Date.now() - started) / 1000, records: core.greeks.records, rssMb: rss.stop(), limit: { name: 'kafka-producer-perf-test', perSecond: kafka.produce } });
  }
  const t = (logical: string) => physicalName(config, logical);
  const keys = (topic: string): string[] =>
    topic === t('features') ? manifest.underlyings.flatMap((u) => config.features.windows.map((w) => `${u}|${w}`)) : manifest.underlyings;
  const g = await member('greeks', ['process', 'greeks'], env, config, t('optflow.greeks'), ['option.trades', 'equity.quotes', 'equity.trades', 'option.quotes'].map(t), core.greeks.records, keys, args.members);
  results.push({ ...g, limit: { name: 'pure core', perSecond: coreRate(core.greeks) } });
  const f = await member('features', ['process', 'features'], env, config, t('optflow.features'), ['option.trades.enriched', 'equity.trades'].map(t), optionTrades + stockTrades, keys, args.members);
  results.push({ ...f, limit: { name: 'pure core', perSecond: coreRate(core.features) } });
  const lake = resolve(ROOT, 'bench', 'out', `day-lake-${prefix.slice(0, -1)}`);
  for (const topic of SINK_TOPICS) {
    const records = topic === 'features' ? WINDOWS_PER_UNDERLYING * manifest.underlyings.length : topic === 'option.trades.enriched' ? optionTrades : topic === 'option.quotes' ? core.greeks.records - optionTrades - stockTrades - count('us_stocks_sip/quotes_v1') : count(DATASETS.find((d) => d.topic === topic)!.id);
    const s = await member(`sink ${topic}`, ['sink', 'parquet', '--topic', topic, '--out', lake], env, config, t(`optflow.sink.${topic}`), [t(topic)], records, keys);
    results.push({ ...s, limit: { name: 'kafka-consumer-perf-test', perSecond: kafka.consume } });
  }
  rmSync(lake, { recursive: true, force: true });

  out('');
  out('stage                          wall s   join s    records   records/s  peak RSS MB  limit                        limit/s   ratio');
  for (const r of results) {
    const rate = r.records / (r.seconds - (r.joinSeconds ?? 0));
    const lim = r.limit;
    const join = r.joinSeconds === undefined ? '' : r.joinSeconds.toFixed(1);
    out(`${r.stage.padEnd(28)} ${r.seconds.toFixed(1).padStart(8)} ${join.padStart(8)} ${String(r.records).padStart(10)} ${Math.round(rate).toString().padStart(11)} ${r.rssMb.toFixed(0).padStart(12)}  ${(lim?.name ?? '').padEnd(26)} ${lim ? Math.round(lim.perSecond).toString().padStart(9) : ''} ${lim ? (rate / lim.perSecond).toFixed(2).padStart(7) : ''}`);
  }
  out('wall s: from spawn. join s: from spawn until the group is Stable with its members. records/s: the producer\'s over its wall time,');
  out('a processor\'s or sink\'s from its join until caught up (its pure core likewise times processing only).');
  out(`whole day, stages one after another: ${results.reduce((s, r) => s + r.seconds, 0).toFixed(0)} s wall`);
  out(`gunzip limit: ${(gz.csvMb / gz.seconds).toFixed(0)} MB/s of CSV; the producer read ${(gz.csvMb / results[0].seconds).toFixed(0)} MB/s end to end (${((gz.csvMb / results[0].seconds) / (gz.csvMb / gz.seconds)).toFixed(2)} of it)`);
  if (!args.keep) {
    await dropTopics(config, prefix);
  } else out(`topics kept under ${prefix}`);
}

if (require.main === module) {
  run().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

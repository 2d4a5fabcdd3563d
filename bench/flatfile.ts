/**
 * `npm run bench:flatfile`: the flat-file path on a ≥5M-row generated option-trade day, from zcat
 * and gunzip alone through parsing to the full pipeline into the real broker (local source →
 * gunzip → parse → universe SPY → sort → Avro → transactional Kafka), rows/s and MB/s of CSV.
 */
import { resolve } from 'node:path';
import { loadConfig } from '../src/config';
import { applyWholeTopology, createBenchTopics, dropTopics } from './topics';
import { readTopicToEnd } from '../src/kafka/consumer';
import { RecordProducer, type OutgoingMessage } from '../src/kafka/producer';
import { LocalStack } from '../src/stack/stack';
import { datasetOf } from '../src/producers/flatfile/datasets';
import { FlatfileJob } from '../src/producers/flatfile/job';
import { LocalSource } from '../src/producers/flatfile/ingest/source';
import { benchFile, DATE, GUNZIP_ONLY, parseMeasurements, report } from './flatfile-parse';

/** The same records' count and mean Avro size, through Kafka's own producer (acks=all, idempotent, transactional). */
function timeProducerPerfTest(config: ReturnType<typeof loadConfig>, prefix: string, records: number, recordSize: number): number {
  const out = new LocalStack(config).kafkaToolOutput('producer-perf-test', [
    '--topic', `${prefix}perf`, '--num-records', String(records), '--record-size', String(recordSize), '--throughput', '-1',
    '--transactional-id', `${prefix}perf`, '--transaction-duration-ms', '1000',
    '--producer-props', `bootstrap.servers=${config.kafka.brokers.join(',')}`, 'acks=all', 'enable.idempotence=true',
    'linger.ms=5', 'batch.size=1000000', 'compression.type=lz4',
  ]);
  // last summary line: "N records sent, X records/sec (Y MB/sec), ..."
  const summary = out.trim().split('\n').reverse().find((l) => /records sent/.test(l));
  const rate = summary ? Number(/([\d.]+) records\/sec/.exec(summary)?.[1]) : NaN;
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`unexpected producer-perf-test output: ${out}`);
  return records / rate;
}

/** The first 50,000 values of a topic with their keys: its mean value size, and the bytes the producer-alone row sends. */
async function sampleRecords(config: ReturnType<typeof loadConfig>, topic: string): Promise<OutgoingMessage[]> {
  const sample: OutgoingMessage[] = [];
  await readTopicToEnd(config, 'bench-sample', topic, (r) => {
    if (r.value && sample.length < 50_000) sample.push({ topic, key: r.key === null ? null : r.key.toString(), value: Buffer.from(r.value) });
  });
  return sample;
}

function meanValueBytes(sample: readonly OutgoingMessage[]): number {
  return Math.round(sample.reduce((n, m) => n + m.value!.length, 0) / Math.max(1, sample.length));
}

/**
 * The product's producer alone: as many records, cycling through the pipeline's own first values and
 * keys, in transactions of massive.transaction_records. What the produce phase would take if merging
 * and framing cost nothing.
 */
async function timeClientAlone(config: ReturnType<typeof loadConfig>, topic: string, records: number, sample: readonly OutgoingMessage[]): Promise<number> {
  const producer = await RecordProducer.connect(config, { clientSuffix: 'bench', transactionalId: `${topic}.client` });
  const perTransaction = config.massive.transaction_records;
  const start = process.hrtime.bigint();
  for (let from = 0; from < records; from += perTransaction) {
    const messages: OutgoingMessage[] = [];
    for (let i = from; i < Math.min(records, from + perTransaction); i++) {
      const { key, value } = sample[i % sample.length];
      messages.push({ topic, key, value });
    }
    await producer.inTransaction(messages);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await producer.disconnect();
  return seconds;
}

interface Round {
  seconds: number;
  /** Of `seconds`, the read phase (gunzip, parse, filter, sort): nothing can be produced before it ends. */
  readSeconds: number;
  /** kafka-producer-perf-test's, with the same record count and size, right after the pipeline. */
  perfSeconds: number;
}

interface PipelineRun extends Round {
  rounds: Round[];
  produced: number;
  /** timeClientAlone's. */
  clientSeconds: number;
  recordBytes: number;
  universe: string;
}

/**
 * perf-test's rate on this machine moves by ±25% from run to run (the broker's page cache, its log
 * cleaner, the JIT), more than the pipeline's: the pipeline and perf-test alternate for ROUNDS rounds,
 * and the report gives each round's ratio and the medians'.
 */
const ROUNDS = 3;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One round on topics of its own, dropped at its end so that each round finds the broker as the first did. */
async function pipelineRound(root: string, round: number): Promise<Round & { produced: number; recordBytes: number; sample: OutgoingMessage[]; prefix: string }> {
  const prefix = `bench-flatfile-${Date.now().toString(36)}-${round}.`;
  const config = loadConfig({ overrides: { topics: { prefix } } });
  await applyWholeTopology(config);
  const job = new FlatfileJob(config, new LocalSource(root), {
    from: DATE, to: DATE, datasets: [datasetOf('option-trades')], follow: false, jobName: 'bench', progress: 'log',
  });
  const start = process.hrtime.bigint();
  const result = await job.run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.failed.length > 0) throw new Error(`pipeline failed: ${result.failed.join(', ')}`);
  const produced = result.rows.reduce((n, r) => n + r.produced, 0);
  const readSeconds = result.rows[0]?.readSeconds;
  if (readSeconds === undefined) throw new Error('pipeline: the file never reached its produce phase');
  const sample = await sampleRecords(config, `${prefix}option.trades`);
  const recordBytes = meanValueBytes(sample);
  await createBenchTopics(config, [`${prefix}perf`]);
  const perfSeconds = timeProducerPerfTest(config, prefix, produced, recordBytes);
  await dropTopics(config, prefix);
  return { seconds, readSeconds, perfSeconds, produced, recordBytes, sample, prefix };
}

async function timePipeline(root: string): Promise<PipelineRun> {
  const runs = [];
  for (let round = 0; round < ROUNDS; round++) runs.push(await pipelineRound(root, round));
  const { produced, recordBytes, sample, prefix } = runs[0];
  const config = loadConfig({ overrides: { topics: { prefix } } });
  await createBenchTopics(config, [`${prefix}client`]);
  const clientSeconds = await timeClientAlone(config, `${prefix}client`, produced, sample);
  await dropTopics(config, prefix);
  const rounds = runs.map(({ seconds, readSeconds, perfSeconds }) => ({ seconds, readSeconds, perfSeconds }));
  return {
    seconds: median(rounds.map((r) => r.seconds)), readSeconds: median(rounds.map((r) => r.readSeconds)), perfSeconds: median(rounds.map((r) => r.perfSeconds)),
    rounds, produced, clientSeconds, recordBytes, universe: config.universe.underlyings.join(','),
  };
}

export async function run(): Promise<void> {
  const root = resolve(process.cwd(), 'bench/out/flatfile');
  const file = await benchFile(root);
  const measurements = await parseMeasurements(file);
  const pipeline = await timePipeline(root);
  measurements.push({ name: `full pipeline → Kafka, ${pipeline.universe}`, seconds: pipeline.seconds, rows: pipeline.produced });
  report(file, measurements);
  const gunzipSeconds = measurements.find((m) => m.name === GUNZIP_ONLY)!.seconds;
  process.stdout.write(`\n${phaseReport(pipeline, gunzipSeconds)}`);
}

/**
 * The pipeline against the broker's limit, and each phase against its own: the read (gunzip, parse,
 * filter, sort) against gunzip alone, the produce phase (merge, produce, commit) against
 * kafka-producer-perf-test. The file is sorted before its first record goes out, so the phases add up;
 * the last line is the ratio the pipeline would reach with a read as fast as gunzip alone.
 */
function phaseReport(p: PipelineRun, gunzipSeconds: number): string {
  const rate = (s: number) => Math.round(p.produced / s).toLocaleString('en-US');
  const pct = (limit: number, actual: number) => `${((limit / actual) * 100).toFixed(0)}%`;
  const produceSeconds = p.seconds - p.readSeconds;
  const rounds = p.rounds.map((r, i) => `  round ${i + 1}: pipeline ${rate(r.seconds)}/s (read ${r.readSeconds.toFixed(2)} s), perf-test ${rate(r.perfSeconds)}/s: ${pct(r.perfSeconds, r.seconds)}\n`);
  return (
    `${p.rounds.length} rounds, the pipeline then perf-test in each; the figures below are the medians\n${rounds.join('')}` +
    `the broker's limit on this machine: kafka-producer-perf-test, ${p.produced.toLocaleString('en-US')} records of ${p.recordBytes} B ` +
    `(acks=all, idempotent, transactional, lz4): ${rate(p.perfSeconds)} records/s\n` +
    `the product's producer alone (the pipeline's first 50,000 values and keys, same transactions): ${rate(p.clientSeconds)} records/s = ${pct(p.perfSeconds, p.clientSeconds)} of perf-test\n` +
    `full pipeline (gunzip, parse, sort, Avro, produce): ${rate(p.seconds)} records/s = ${pct(p.perfSeconds, p.seconds)} of kafka-producer-perf-test\n` +
    `  read phase (gunzip, parse, filter, sort):  ${p.readSeconds.toFixed(2)} s; gunzip alone ${gunzipSeconds.toFixed(2)} s = ${pct(gunzipSeconds, p.readSeconds)} of it\n` +
    `  produce phase (merge, produce, commit):    ${produceSeconds.toFixed(2)} s; perf-test ${p.perfSeconds.toFixed(2)} s = ${pct(p.perfSeconds, produceSeconds)} of it, ` +
    `the producer alone ${p.clientSeconds.toFixed(2)} s = ${pct(p.clientSeconds, produceSeconds)} of it\n` +
    `  with a read as fast as gunzip alone:       ${pct(p.perfSeconds, gunzipSeconds + produceSeconds)} of kafka-producer-perf-test\n`
  );
}

if (require.main === module) {
  run().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}

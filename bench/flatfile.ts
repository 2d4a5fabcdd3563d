/**
 * `npm run bench:flatfile`: the flat-file path on a ≥5M-row generated option-trade day, from zcat
 * and gunzip alone through parsing to the full pipeline into the real broker (local source →
 * gunzip → parse → universe SPY → sort → Avro → transactional Kafka), rows/s and MB/s of CSV.
 */
import { resolve } from 'node:path';
import { loadConfig } from '../src/config';
import { createAdmin } from '../src/kafka/client';
import { applyWholeTopology, dropTopics } from './topics';
import { readTopicToEnd } from '../src/kafka/consumer';
import { createMissingTopics, durabilityOf } from '../src/kafka/topics';
import { LocalStack } from '../src/stack/stack';
import { datasetOf } from '../src/producers/flatfile/datasets';
import { FlatfileJob } from '../src/producers/flatfile/job';
import { LocalSource } from '../src/producers/flatfile/ingest/source';
import { benchFile, DATE, parseMeasurements, report } from './flatfile-parse';

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

/** Mean value size of a topic's records (a sample). */
async function meanValueBytes(config: ReturnType<typeof loadConfig>, topic: string): Promise<number> {
  let bytes = 0;
  let n = 0;
  await readTopicToEnd(config, 'bench-sample', topic, (r) => {
    if (r.value && n < 50_000) {
      bytes += r.value.length;
      n++;
    }
  });
  return Math.round(bytes / Math.max(1, n));
}

async function timePipeline(root: string): Promise<{ seconds: number; produced: number; perfSeconds: number; recordBytes: number }> {
  const prefix = `bench-flatfile-${Date.now().toString(36)}.`;
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
  const recordBytes = await meanValueBytes(config, `${prefix}option.trades`);
  await createPerfTopic(config, `${prefix}perf`);
  const perfSeconds = timeProducerPerfTest(config, prefix, produced, recordBytes);
  await dropTopics(config, prefix);
  return { seconds, produced, perfSeconds, recordBytes };
}

/** The perf test's topic, shaped like option.trades (the broker does not create topics on demand). */
async function createPerfTopic(config: ReturnType<typeof loadConfig>, name: string): Promise<void> {
  const admin = createAdmin(config, 'bench');
  await admin.connect();
  await createMissingTopics(admin, [{ name, partitions: config.topics.partitions, configs: {}, durability: durabilityOf(config) }]);
  await admin.disconnect();
}


export async function run(): Promise<void> {
  const root = resolve(process.cwd(), 'bench/out/flatfile');
  const file = await benchFile(root);
  const measurements = await parseMeasurements(file);
  const pipeline = await timePipeline(root);
  measurements.push({ name: 'full pipeline → Kafka, SPY', seconds: pipeline.seconds, rows: pipeline.produced });
  report(file, measurements);
  const rate = (n: number, s: number) => Math.round(n / s).toLocaleString('en-US');
  process.stdout.write(
    `\nthe broker's limit on this machine: kafka-producer-perf-test, ${pipeline.produced.toLocaleString('en-US')} records of ${pipeline.recordBytes} B ` +
      `(acks=all, idempotent, transactional, lz4): ${rate(pipeline.produced, pipeline.perfSeconds)} records/s\n` +
      `full pipeline (gunzip, parse, sort, Avro, produce): ${rate(pipeline.produced, pipeline.seconds)} records/s = ` +
      `${((pipeline.perfSeconds / pipeline.seconds) * 100).toFixed(0)}% of kafka-producer-perf-test\n`,
  );
}

if (require.main === module) {
  run().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}

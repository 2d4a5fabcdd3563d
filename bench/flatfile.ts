/**
 * `npm run bench:flatfile`: the flat-file path on a ≥5M-row generated option-trade day, from zcat
 * and gunzip alone through parsing to the full pipeline into the real broker (local source →
 * gunzip → parse → universe SPY → sort → Avro → transactional Kafka), rows/s and MB/s of CSV.
 */
import { resolve } from 'node:path';
import { loadConfig } from '../src/config';
import { createKafka } from '../src/kafka/client';
import { datasetOf } from '../src/producers/flatfile/datasets';
import { FlatfileJob } from '../src/producers/flatfile/job';
import { LocalSource } from '../src/producers/flatfile/source';
import { benchFile, DATE, parseMeasurements, report } from './flatfile-parse';

async function timePipeline(root: string): Promise<{ seconds: number; produced: number }> {
  const prefix = `bench-flatfile-${Date.now().toString(36)}.`;
  const config = loadConfig({ overrides: { topics: { prefix } } });
  const job = new FlatfileJob(config, new LocalSource(root), {
    from: DATE, to: DATE, datasets: [datasetOf('option-trades')], follow: false, jobName: 'bench', progress: 'log',
  });
  const start = process.hrtime.bigint();
  const result = await job.run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await dropTopics(config, prefix);
  if (result.failed.length > 0) throw new Error(`pipeline failed: ${result.failed.join(', ')}`);
  return { seconds, produced: result.rows.reduce((n, r) => n + r.produced, 0) };
}

async function dropTopics(config: ReturnType<typeof loadConfig>, prefix: string): Promise<void> {
  const admin = createKafka(config, 'bench').admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
}

export async function run(): Promise<void> {
  const root = resolve(process.cwd(), 'bench/out/flatfile');
  const file = await benchFile(root);
  const measurements = await parseMeasurements(file);
  const pipeline = await timePipeline(root);
  measurements.push({ name: 'full pipeline → Kafka, SPY', seconds: pipeline.seconds, rows: pipeline.produced });
  report(file, measurements);
}

if (require.main === module) {
  run().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}

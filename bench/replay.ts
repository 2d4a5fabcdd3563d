/**
 * `npm run bench:replay`: a day large enough that producing one dataset alone takes minutes, produced
 * by the flatfile producer while the greeks and features processors already run (as `run-all` does),
 * with an idle timeout (2 s) far below that. History must replay like live: zero late records, every
 * option trade enriched, every window of the session emitted. Prints the figures and the time each
 * stage needed, beside the producer alone on the same day (the baseline).
 */
import { mkdirSync, existsSync, writeFileSync, readFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { TopologyRunner } from '../src/cli/run-all';
import { Config, loadConfig } from '../src/config';
import { generateDay, type GeneratedDayManifest } from '../src/generator';
import { applyWholeTopology, dropTopics } from './topics';
import { readTopicToEnd } from '../src/kafka/consumer';
import { DATASETS } from '../src/producers/flatfile/datasets';
import { FlatfileJob } from '../src/producers/flatfile/job';
import { LocalSource } from '../src/producers/flatfile/ingest/source';

const DATE = '2025-03-07';
const UNDERLYINGS = ['SPY', 'QQQ', 'IWM'];
const WINDOWS_PER_UNDERLYING = 390 + 78 + 26 + 13;
const IDLE_TIMEOUT_MS = 2000;

async function benchDay(root: string): Promise<GeneratedDayManifest> {
  const manifestPath = join(root, `${DATE}.manifest.json`);
  if (existsSync(manifestPath)) return JSON.parse(readFileSync(manifestPath, 'utf8')) as GeneratedDayManifest;
  mkdirSync(root, { recursive: true });
  process.stdout.write('generating the replay bench day (once) ...\n');
  const manifest = await generateDay({
    date: DATE, outDir: root, seed: 3, scale: 'small', contractsPerUnderlying: 120, optionTradesPerContract: 500,
    optionQuotesPerContract: 1500, stockTradesPerUnderlying: 250_000, stockQuotesPerUnderlying: 1_500_000, malformed: false,
  });
  writeFileSync(manifestPath, JSON.stringify(manifest, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  return manifest;
}

/** Data records of a topic (read_committed, markers and transaction markers left out). */
async function records(config: Config, topic: string): Promise<number> {
  let n = 0;
  await readTopicToEnd(config, 'bench', topic, (m) => {
    if (m.value !== null) n++;
  });
  return n;
}


function configFor(prefix: string): Config {
  return loadConfig({ overrides: { topics: { prefix }, universe: { underlyings: UNDERLYINGS }, event_time: { idle_timeout_ms: IDLE_TIMEOUT_MS } } });
}

async function produce(config: Config, root: string, name: string): Promise<{ seconds: number; records: number }> {
  await applyWholeTopology(config);
  const job = new FlatfileJob(config, new LocalSource(root), { from: DATE, to: DATE, datasets: [...DATASETS], follow: false, jobName: name, progress: 'log' });
  const started = Date.now();
  const report = await job.run();
  if (report.failed.length > 0) throw new Error(`producer failed: ${report.failed.join(', ')}`);
  return { seconds: (Date.now() - started) / 1000, records: report.rows.reduce((n, r) => n + r.produced, 0) };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
  return (Date.now() - started) / 1000;
}

export async function run(): Promise<void> {
  const root = resolve(process.cwd(), 'bench/out/replay');
  const manifest = await benchDay(root);
  const rows = (dataset: string) => UNDERLYINGS.reduce((n, u) => n + (manifest.files.find((f) => f.dataset === dataset)?.validRowsByUnderlying[u] ?? 0), 0);
  const optionTrades = rows('us_options_opra/trades_v1');
  const stockQuotes = rows('us_stocks_sip/quotes_v1');

  const baselinePrefix = `bench-replay-base-${Date.now().toString(36)}.`;
  const baseline = await produce(configFor(baselinePrefix), root, 'bench-replay-base');
  await dropTopics(configFor(baselinePrefix), baselinePrefix);
  process.stdout.write(`producer alone: ${baseline.records} records in ${baseline.seconds.toFixed(1)} s\n`);

  const prefix = `bench-replay-${Date.now().toString(36)}.`;
  const config = configFor(prefix);
  const runner = new TopologyRunner(config, { processors: ['greeks', 'features'], out: null });
  await runner.start();
  const started = Date.now();
  let produced: { seconds: number; records: number };
  let drained: number;
  try {
    produced = await produce(config, root, 'bench-replay');
    const windows = UNDERLYINGS.length * WINDOWS_PER_UNDERLYING;
    drained = await waitFor('every trade enriched and every window emitted', async () =>
      (await records(config, `${prefix}option.trades.enriched`)) >= optionTrades && (await records(config, `${prefix}features`)) >= windows, 60 * 60_000);
  } finally {
    await runner.stop();
  }
  const late = { greeks: await records(config, `${prefix}greeks.late`), features: await records(config, `${prefix}features.late`) };
  const enriched = await records(config, `${prefix}option.trades.enriched`);
  const features = await records(config, `${prefix}features`);
  const exact = late.greeks + late.features === 0 && enriched === optionTrades && features === UNDERLYINGS.length * WINDOWS_PER_UNDERLYING;
  // A mismatch keeps the topics (prefix printed) so the records can be inspected with `optflow inspect`.
  if (exact) await dropTopics(config, prefix);
  else process.stdout.write(`MISMATCH: topics kept under prefix ${prefix}\n`);

  const table = [
    ['day', `${DATE}, ${UNDERLYINGS.join('/')} (SPY and QQQ share a partition), idle_timeout ${IDLE_TIMEOUT_MS} ms`],
    ['records produced', `${produced.records.toLocaleString('en-US')} (stock quotes ${stockQuotes.toLocaleString('en-US')}, option trades ${optionTrades.toLocaleString('en-US')})`],
    ['producer alone (baseline)', `${baseline.seconds.toFixed(1)} s, ${Math.round(baseline.records / baseline.seconds).toLocaleString('en-US')} records/s`],
    ['producer with processors running', `${produced.seconds.toFixed(1)} s, ${Math.round(produced.records / produced.seconds).toLocaleString('en-US')} records/s (${(baseline.seconds / produced.seconds).toFixed(2)}x the baseline's rate)`],
    ['processors done after the producer', `${drained.toFixed(1)} s (total ${((Date.now() - started) / 1000).toFixed(1)} s)`],
    ['enriched trades / option trades', `${enriched} / ${optionTrades}`],
    ['feature windows / expected', `${features} / ${UNDERLYINGS.length * WINDOWS_PER_UNDERLYING}`],
    ['late records (greeks, features)', `${late.greeks}, ${late.features}${late.greeks + late.features === 0 ? '  (must be 0: OK)' : '  FAIL'}`],
  ];
  for (const [k, v] of table) process.stdout.write(`${k.padEnd(36)} ${v}\n`);
  if (!exact) process.exitCode = 1;
}

if (require.main === module) {
  run().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig, projectRoot } from '../config';
import { generateDay } from '../generator';
import { DATASETS } from '../producers/flatfile/datasets';
import { createSource, FlatfileJob } from '../producers/flatfile/job';
import { summaryTable } from '../producers/flatfile/ingest/progress';
import { ensureStack } from '../stack/ensure';
import { duckdbRows, sqlString } from '../util/duckdb';
import { TopologyRunner } from './run-all';

/**
 * `npm run demo`: the whole topology on the bundled sample day. Starts the local stack when the
 * configuration points at it and nothing answers, applies the topology, generates the seeded sample
 * day (Massive layout), produces it, runs greeks, features and every Parquet sink in this process,
 * waits until the lake holds every window of the session, and prints a summary. Idempotent: a second
 * run finds the day ingested and everything already processed.
 */

export const SAMPLE_DATE = '2025-03-07';
const SAMPLE_SEED = 1;
const SAMPLE_UNDERLYINGS = ['SPY', 'QQQ', 'IWM'];
const SESSION_MINUTES = 390;
const TIMEOUT_MS = 15 * 60_000;

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function ensureSampleDay(dir: string): Promise<void> {
  const marker = path.join(dir, `${SAMPLE_DATE}.manifest.json`);
  if (fs.existsSync(marker)) return;
  const manifest = await generateDay({ date: SAMPLE_DATE, outDir: dir, seed: SAMPLE_SEED, scale: 'small' });
  fs.writeFileSync(marker, JSON.stringify(manifest, null, 1));
}

async function lakeCount(out: string, topic: string, where = ''): Promise<{ rows: number; files: number }> {
  const dir = path.join(out, topic);
  if (!fs.existsSync(dir)) return { rows: 0, files: 0 };
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet')).length;
  if (files === 0) return { rows: 0, files };
  const [row] = await duckdbRows(`SELECT count(*) AS n FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)}, hive_partitioning = true) ${where}`);
  return { rows: Number(row.n), files };
}

async function waitForLastWindow(runner: TopologyRunner, out: string, expected: number): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  let seen = -1;
  while (Date.now() < deadline) {
    const { rows } = await lakeCount(out, 'features', `WHERE dt = ${sqlString(SAMPLE_DATE)}`).catch(() => ({ rows: 0 }));
    if (rows !== seen) {
      seen = rows;
      process.stderr.write(`  feature windows in the lake: ${rows}/${expected}\n`);
    }
    if (rows >= expected && runner.idleMs() > 3000) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out after ${TIMEOUT_MS / 1000} s with ${seen}/${expected} feature windows in the lake`);
}

async function printSummary(out: string, seconds: number): Promise<void> {
  say('\nrows in the Parquet lake (read back with DuckDB):');
  for (const topic of ['equity.trades', 'equity.quotes', 'option.trades', 'option.quotes', 'option.trades.enriched', 'features']) {
    const { rows, files } = await lakeCount(out, topic);
    say(`  ${topic.padEnd(24)} ${String(rows).padStart(8)} rows  ${String(files).padStart(4)} files`);
  }
  const featuresGlob = sqlString(`${out}/features/**/*.parquet`);
  const windows = await duckdbRows(
    `SELECT underlying, "window" AS w, count(*) AS n, sum(calls + puts) AS option_trades FROM read_parquet(${featuresGlob}, hive_partitioning = true)
      GROUP BY 1, 2 ORDER BY 1, min(window_end_ns - window_start_ns)`,
  );
  say('\nfeature windows per underlying:');
  for (const u of [...new Set(windows.map((w) => String(w.underlying)))]) {
    const rows = windows.filter((w) => w.underlying === u);
    const optionTrades = rows.find((w) => w.w === '1m')?.option_trades ?? rows[0].option_trades;
    say(`  ${u.padEnd(5)} ${rows.map((w) => `${String(w.w)} ${String(w.n)}`).join(', ')}  (option trades in session: ${String(optionTrades)})`);
  }
  say(`seconds: ${seconds.toFixed(1)}\n`);
  const sample = await duckdbRows(
    `SELECT strftime(window_start_us AT TIME ZONE 'America/New_York', '%H:%M') AS start_et, underlying,
            round(underlying_price_close, 2) AS close, calls + puts AS option_trades,
            round(calls_dadvv_total / 1e6, 3) AS calls_dadvv_musd, round(puts_dadvv_total / 1e6, 3) AS puts_dadvv_musd,
            round(calls_gadvv_q2, 1) AS calls_gadvv_median, round(puts_below_intrinsic_pct, 3) AS puts_below_intr,
            round(calls_dadvv_dip_pval, 3) AS calls_dip_p
       FROM read_parquet(${featuresGlob}, hive_partitioning = true)
      WHERE "window" = '30m' QUALIFY row_number() OVER (PARTITION BY underlying ORDER BY window_start_ns) <= 2
      ORDER BY underlying, window_start_ns`,
  );
  if (sample.length === 0) return;
  const cols = Object.keys(sample[0]);
  say('a few 30m feature rows:');
  say(`  ${cols.map((c) => c.padStart(Math.max(c.length, 8))).join(' ')}`);
  for (const r of sample) say(`  ${cols.map((c) => String(r[c] ?? 'null').padStart(Math.max(c.length, 8))).join(' ')}`);
  say(`\nexplore: duckdb -c "SELECT * FROM read_parquet('${out}/features/**/*.parquet', hive_partitioning = true) LIMIT 5"`);
}

export async function demoCommand(): Promise<number> {
  const started = Date.now();
  const config = loadConfig({ overrides: { sink: { flush_idle_seconds: 2 } } });
  say(`optflow demo: sample day ${SAMPLE_DATE} (seed ${SAMPLE_SEED}), universe ${config.universe.underlyings.join(',')}`);
  say(`stack: ${await ensureStack(config)}`);
  const sampleDir = path.join(projectRoot(), config.stack.home, 'sample');
  await ensureSampleDay(sampleDir);
  const out = path.resolve(config.sink.out);
  say(`sample files: ${sampleDir}\nParquet lake: ${out}\n`);

  const runner = new TopologyRunner(config, { processors: ['greeks', 'features'], out });
  await runner.start();
  try {
    const job = new FlatfileJob(config, createSource(config, sampleDir), {
      from: SAMPLE_DATE,
      to: SAMPLE_DATE,
      datasets: [...DATASETS],
      follow: false,
      localDir: sampleDir,
      jobName: 'demo',
      progress: process.stderr.isTTY ? 'tty' : 'log',
    });
    const report = await job.run();
    say(report.rows.length > 0 ? summaryTable(report.rows) : 'producer: the sample day is already ingested (checkpoints), nothing to produce');
    if (report.failed.length > 0) throw new Error(`files failed: ${report.failed.join(', ')}`);
    const universe = config.universe.underlyings.includes('*') ? SAMPLE_UNDERLYINGS : SAMPLE_UNDERLYINGS.filter((u) => config.universe.underlyings.includes(u));
    const expected = universe.length * config.features.windows.reduce((n, w) => n + SESSION_MINUTES / (Number.parseInt(w, 10) * (w.endsWith('h') ? 60 : 1)), 0);
    await waitForLastWindow(runner, out, Math.floor(expected));
  } finally {
    await runner.stop();
  }
  await printSummary(out, (Date.now() - started) / 1000);
  return 0;
}

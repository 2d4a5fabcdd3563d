import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { generateDay, generateRealDay, type GeneratorScale } from '../generator';
import { DATASETS, datasetOf } from '../producers/flatfile/datasets';
import { createSource, FlatfileJob } from '../producers/flatfile/job';
import { assertDate } from '../producers/flatfile/ingest/planner';
import { summaryTable } from '../producers/flatfile/ingest/progress';
import { parseFlags, stringFlag, UsageError } from './args';

const PRODUCE_USAGE =
  'usage: optflow produce flatfile --from YYYY-MM-DD [--to YYYY-MM-DD] [--datasets stock-trades,stock-quotes,option-trades,option-quotes]\n' +
  '                               [--local <dir>] [--follow] [--job <name>] [--metrics-port N] [--verbose]';

/** `optflow produce flatfile ...`: Massive flat files (S3 or a local copy) into the market topics. */
export async function produceCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    datasets: { type: 'string' },
    local: { type: 'string' },
    follow: { type: 'boolean' },
    job: { type: 'string' },
    'metrics-port': { type: 'string' },
  });
  if (flags.positionals[0] !== 'flatfile') throw new UsageError(PRODUCE_USAGE);
  const from = stringFlag(flags, 'from');
  if (!from) throw new UsageError(PRODUCE_USAGE);
  const to = stringFlag(flags, 'to') ?? from;
  try {
    assertDate(from, '--from');
    assertDate(to, '--to');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const datasets = parseDatasets(stringFlag(flags, 'datasets'));
  const config = loadConfig();
  const metricsPort = stringFlag(flags, 'metrics-port');
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const job = new FlatfileJob(config, createSource(config, stringFlag(flags, 'local')), {
    from, to, datasets, follow: flags.values.follow === true, localDir: stringFlag(flags, 'local'),
    metricsPort: metricsPort ? Number(metricsPort) : undefined, jobName: stringFlag(flags, 'job') ?? 'default',
    progress: process.stderr.isTTY ? 'tty' : 'log', signal: controller.signal,
  });
  const report = await job.run();
  process.removeListener('SIGTERM', stop);
  process.removeListener('SIGINT', stop);
  if (report.rows.length > 0) process.stdout.write(summaryTable(report.rows));
  for (const r of report.rows) if ((r.quotesSkipped ?? 0) > 0) process.stdout.write(`${r.file}: ${r.quotesSkipped} option quotes no trade can see, not sent (massive.reduce_option_quotes)\n`);
  else process.stdout.write('nothing to do: every listed file is already ingested\n');
  if (report.failed.length > 0) {
    process.stderr.write(`\n${report.failed.length} file(s) FAILED (nothing of them past their last checkpoint was produced):\n${report.failed.map((k) => `  ${k}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

function parseDatasets(value: string | undefined): ReturnType<typeof datasetOf>[] {
  if (!value) return [...DATASETS];
  try {
    return [...new Set(value.split(',').map((s) => datasetOf(s.trim())))];
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const GENERATE_USAGE =
  'usage: optflow generate --date YYYY-MM-DD --out <dir> [--seed N] [--scale small|bench] [--option-trade-columns 7|8] [--no-malformed]\n' +
  '       optflow generate --date YYYY-MM-DD --out <dir> --scale real [--fraction F] [--seed N]   (a real-size SPY day; F scales its counts)';

async function generateReal(date: string, outDir: string, seed: number, fraction: number): Promise<number> {
  if (!(fraction > 0)) throw new UsageError(GENERATE_USAGE);
  const started = Date.now();
  const manifest = await generateRealDay({ date, outDir, seed, fraction });
  writeFileSync(join(outDir, `${date}.manifest.json`), JSON.stringify(manifest, null, 1));
  for (const f of manifest.files) process.stdout.write(`${f.key}  ${f.rows} rows  ${(f.bytes / 1e6).toFixed(1)} MB\n`);
  const s = manifest.aggressorShare;
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  process.stdout.write(`option trades by their own quote: BUY ${pct(s.buy)}, SELL ${pct(s.sell)}, INSIDE ${pct(s.inside)}, UNKNOWN ${pct(s.unknown)}\n`);
  process.stdout.write(`seconds: ${((Date.now() - started) / 1000).toFixed(1)}\n`);
  return 0;
}

/** `optflow generate`: a seeded Massive-layout day (four gz CSVs) plus its manifest. */
export async function generateCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    date: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    scale: { type: 'string' },
    'option-trade-columns': { type: 'string' },
    'no-malformed': { type: 'boolean' },
    fraction: { type: 'string' },
  });
  const date = stringFlag(flags, 'date');
  const outDir = stringFlag(flags, 'out');
  const scale = stringFlag(flags, 'scale') ?? 'small';
  const columns = stringFlag(flags, 'option-trade-columns') ?? '8';
  if (scale === 'real' && date && outDir) return generateReal(date, outDir, Number(stringFlag(flags, 'seed') ?? 1), Number(stringFlag(flags, 'fraction') ?? 1));
  if (!date || !outDir || (scale !== 'small' && scale !== 'bench') || (columns !== '7' && columns !== '8')) throw new UsageError(GENERATE_USAGE);
  const manifest = await generateDay({
    date, outDir, seed: Number(stringFlag(flags, 'seed') ?? 1), scale: scale as GeneratorScale,
    optionTradeColumns: Number(columns) as 7 | 8, malformed: flags.values['no-malformed'] !== true,
  });
  writeFileSync(join(outDir, `${date}.manifest.json`), JSON.stringify(manifest, null, 1));
  for (const f of manifest.files) {
    process.stdout.write(`${f.key}  ${f.rows} rows (${f.validRows} valid, ${f.malformed.length} malformed)  ${(f.bytes / 1e6).toFixed(1)} MB\n`);
  }
  return 0;
}

/**
 * Flat-file parse throughput on a ≥5M-row option-trade day, next to `zcat` and Node's gunzip:
 * rows/s and MB/s of decompressed CSV, and the ratio to zcat.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { generateDay, type GeneratedFile } from '../src/generator';
import { datasetOf } from '../src/producers/flatfile/datasets';
import { FlatFileParser } from '../src/producers/flatfile/parse/flat-file-parser';
import type { Universe } from '../src/producers/flatfile/parse/universe';

export const DATE = '2025-03-07';
/** The row of Node's gunzip alone: the read phase's floor. */
export const GUNZIP_ONLY = 'node gunzip only';
const SEED = 1;
const READ_CHUNK = 1 << 20;

export interface Measurement {
  name: string;
  seconds: number;
  rows: number;
}

export async function benchFile(outDir: string): Promise<GeneratedFile> {
  const manifestPath = join(outDir, `option-trades-${DATE}-seed${SEED}.json`);
  if (existsSync(manifestPath)) {
    const cached = JSON.parse(readFileSync(manifestPath, 'utf8')) as GeneratedFile;
    if (existsSync(cached.path)) return cached;
  }
  process.stdout.write(`generating the bench day under ${outDir} (once; reused afterwards)…\n`);
  const day = await generateDay({ date: DATE, outDir, seed: SEED, scale: 'bench', datasets: ['us_options_opra/trades_v1'] });
  writeFileSync(manifestPath, JSON.stringify(day.files[0], null, 1));
  return day.files[0];
}

export function timeZcat(path: string): Promise<number> {
  return new Promise((done, fail) => {
    const start = process.hrtime.bigint();
    const child = spawn('sh', ['-c', 'zcat "$0" > /dev/null', path], { stdio: 'inherit' });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done(Number(process.hrtime.bigint() - start) / 1e9) : fail(new Error(`zcat exited ${code}`))));
  });
}

export async function timeGunzip(path: string, onChunk: (chunk: Buffer) => void): Promise<number> {
  const start = process.hrtime.bigint();
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK }).pipe(createGunzip({ chunkSize: 256 * 1024 }));
  for await (const chunk of stream) onChunk(chunk as Buffer);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function timeParse(path: string, key: string, universe: Universe): Promise<{ seconds: number; accepted: number }> {
  const parser = new FlatFileParser({ dataset: datasetOf('option-trades'), origin: key, universe });
  let accepted = 0;
  const seconds = await timeGunzip(path, (chunk) => {
    accepted += parser.push(chunk).records.length;
  });
  accepted += parser.finish().records.length;
  return { seconds, accepted };
}

export function report(file: GeneratedFile, rows: Measurement[]): void {
  const mb = file.uncompressedBytes / 1e6;
  const zcat = rows[0].seconds;
  const header = ['', 'seconds', 'rows/s', 'MB/s (csv)', 'vs zcat', 'records out'];
  const lines = rows.map((m) => [
    m.name, m.seconds.toFixed(2), Math.round(file.rows / m.seconds).toLocaleString('en-US'),
    (mb / m.seconds).toFixed(1), `${((zcat / m.seconds) * 100).toFixed(0)}%`, m.rows ? m.rows.toLocaleString('en-US') : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  for (const l of [header, ...lines]) process.stdout.write(l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ') + '\n');
}

/** Describes the bench file, then times zcat, gunzip alone, and gunzip+parse for universes SPY and *. */
export async function parseMeasurements(file: Awaited<ReturnType<typeof benchFile>>): Promise<Measurement[]> {
  process.stdout.write(
    `${file.key}: ${file.rows.toLocaleString('en-US')} rows, ${(file.bytes / 1e6).toFixed(1)} MB gz, ` +
      `${(file.uncompressedBytes / 1e6).toFixed(1)} MB csv; SPY rows ${file.validRowsByUnderlying.SPY.toLocaleString('en-US')}\n`,
  );
  const measurements: Measurement[] = [{ name: 'zcat > /dev/null', seconds: await timeZcat(file.path), rows: 0 }];
  measurements.push({ name: GUNZIP_ONLY, seconds: await timeGunzip(file.path, () => undefined), rows: 0 });
  const spy = await timeParse(file.path, file.key, ['SPY']);
  measurements.push({ name: 'gunzip+parse universe SPY', seconds: spy.seconds, rows: spy.accepted });
  const all = await timeParse(file.path, file.key, '*');
  measurements.push({ name: 'gunzip+parse universe *', seconds: all.seconds, rows: all.accepted });
  return measurements;
}

export async function run(): Promise<void> {
  const file = await benchFile(resolve(process.cwd(), 'bench/out/flatfile'));
  report(file, await parseMeasurements(file));
}

if (require.main === module) {
  run().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}

import * as fs from 'node:fs';
import { loadConfig } from '../config';
import { epochDay, newYorkDateOfMs } from '../domain/new-york';
import { CsvImportError, parseYieldsCsv } from '../rates/csv';
import { fetchTreasuryYields, MassiveRestError } from '../rates/massive';
import { publishYields, PublishReport } from '../rates/publish';
import { logger } from '../util/log';
import { parseFlags, stringFlag, UsageError } from './args';

const USAGE =
  'usage: optflow rates fetch --from YYYY-MM-DD [--to YYYY-MM-DD]   Massive daily Treasury yields (env MASSIVE_API_KEY) into rates.treasury\n' +
  '       optflow rates import FILE.csv                          yields in percent from a CSV (date + tenor columns) into rates.treasury';

const log = logger('rates');

/** `optflow rates fetch|import`: the Treasury curves greeks prices with (README, Risk-free rates). */
export async function ratesCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { from: { type: 'string' }, to: { type: 'string' } });
  const [sub, file, ...rest] = flags.positionals;
  if (rest.length > 0) throw new UsageError(USAGE);
  try {
    if (sub === 'fetch' && file === undefined) return report(await fetchCommand(stringFlag(flags, 'from'), stringFlag(flags, 'to')));
    if (sub === 'import' && file !== undefined && flags.values.from === undefined) return report(await importCommand(file));
  } catch (err) {
    if (!(err instanceof MassiveRestError || err instanceof CsvImportError)) throw err;
    process.stderr.write(`optflow rates ${sub}: ${err.message}; nothing was written\n`);
    return 1;
  }
  throw new UsageError(USAGE);
}

function checkedDate(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`--${flag} is required\n${USAGE}`);
  try {
    epochDay(value);
  } catch {
    throw new UsageError(`--${flag} ${value} is not a YYYY-MM-DD date`);
  }
  return value;
}

async function fetchCommand(fromFlag: string | undefined, toFlag: string | undefined): Promise<PublishReport & { from: string; to: string }> {
  const from = checkedDate(fromFlag, 'from');
  const to = checkedDate(toFlag ?? newYorkDateOfMs(Date.now()), 'to');
  if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`);
  const apiKey = process.env.MASSIVE_API_KEY;
  if (!apiKey) throw new UsageError('set MASSIVE_API_KEY (the Massive API key; it is never logged)');
  const config = loadConfig();
  const r = config.rates;
  const rows = await fetchTreasuryYields(from, to, {
    baseUrl: r.rest_url, apiKey, pageLimit: r.page_limit, retries: r.retries,
    initialBackoffMs: r.initial_backoff_ms, maxBackoffMs: r.max_backoff_ms, timeoutMs: r.request_timeout_ms, log,
  });
  return { from, to, ...(await publishYields(config, rows, log)) };
}

async function importCommand(file: string): Promise<PublishReport & { file: string; ignored_columns: string[]; empty_rows: number }> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CsvImportError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = parseYieldsCsv(text);
  if (parsed.ignoredColumns.length > 0) log.warn('rates_import_ignored_columns', { file, columns: parsed.ignoredColumns });
  const config = loadConfig();
  return { file, ignored_columns: parsed.ignoredColumns, empty_rows: parsed.emptyRows, ...(await publishYields(config, parsed.rows, log)) };
}

function report(summary: object): number {
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

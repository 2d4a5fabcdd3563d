import { parse } from 'csv-parse/sync';
import { epochDay } from '../domain/new-york';
import { TREASURY_TENORS, TreasuryField, TreasuryYields, treasuryYieldsFrom } from '../domain/rates/treasury';

/**
 * `optflow rates import FILE.csv`: yields from another source, in percent, one row per date.
 * Columns are mapped by header name, case-insensitively:
 * - the date: `date`, `observation_date` (FRED) or `new_date`; YYYY-MM-DD or MM/DD/YYYY (Treasury);
 * - a tenor: Massive's names (`yield_10_year`), short labels (`1m`, `3m`, `10y`), Treasury's CSV
 *   headers (`1 Mo`, `3 Mo`, `1 Yr`, `10 Yr`) or FRED series (`DGS1MO`, `DGS10`).
 * Empty, `N/A`, `ND` and `.` (FRED) are missing values. Tenors the topic has no field for (Treasury's
 * 2, 4 Mo and 6 Wk bills) are reported as ignored; rows without any yield are skipped and counted.
 * The whole file is validated before anything is written.
 */

export interface CsvImport {
  rows: TreasuryYields[];
  ignoredColumns: string[];
  emptyRows: number;
}

export class CsvImportError extends Error {}

const DATE_COLUMNS = new Set(['date', 'observation_date', 'new_date']);
const MISSING = new Set(['', 'N/A', 'NA', 'ND', '.']);
const FIELD_BY_MONTHS = new Map<number, TreasuryField>(TREASURY_TENORS.map((t) => [Math.round(t.years * 12), t.field]));

/** The tenor field of a column header, 'ignored' for a tenor without a field, null for another column. */
export function tenorOfColumn(header: string): TreasuryField | 'ignored' | null {
  const h = header.trim().toLowerCase();
  const massive = /^yield_(\d+)_(month|year)s?$/.exec(h);
  const label = /^(\d+(?:\.\d+)?)\s*(m|mo|mos|month|months|y|yr|yrs|year|years|w|wk|wks|week|weeks)$/.exec(h);
  const fred = /^dgs(\d+)(mo)?$/.exec(h);
  const [n, unit] = massive ? [massive[1], massive[2]] : label ? [label[1], label[2]] : fred ? [fred[1], fred[2] ? 'mo' : 'y'] : [null, null];
  if (n === null || unit === null) return null;
  if (unit.startsWith('w')) return 'ignored';
  const months = Number(n) * (unit.startsWith('y') ? 12 : 1);
  return FIELD_BY_MONTHS.get(months) ?? 'ignored';
}

/** MM/DD/YYYY → YYYY-MM-DD; YYYY-MM-DD as is. */
function isoDate(text: string, line: number): string {
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text.trim());
  const iso = us ? `${us[3]}-${us[1].padStart(2, '0')}-${us[2].padStart(2, '0')}` : text.trim();
  try {
    epochDay(iso);
  } catch {
    throw new CsvImportError(`line ${line}: date '${text}' is not a YYYY-MM-DD or MM/DD/YYYY calendar date`);
  }
  return iso;
}

function cellValue(text: string, column: string, line: number): number | null {
  const t = text.trim();
  if (MISSING.has(t.toUpperCase())) return null;
  const v = Number(t);
  if (!Number.isFinite(v)) throw new CsvImportError(`line ${line}: ${column} '${text}' is not a number`);
  return v;
}

export function parseYieldsCsv(text: string): CsvImport {
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, relax_column_count: false, bom: true });
  } catch (err) {
    throw new CsvImportError(`not a CSV file: ${(err as Error).message}`);
  }
  if (records.length === 0) throw new CsvImportError('the file is empty');
  const header = records[0];
  const dateIndex = header.findIndex((h) => DATE_COLUMNS.has(h.trim().toLowerCase()));
  if (dateIndex < 0) throw new CsvImportError(`no date column (one of ${[...DATE_COLUMNS].join(', ')}) in the header: ${header.join(', ')}`);
  const tenors = header.map((h, i) => ({ i, h, field: tenorOfColumn(h) }));
  const used = tenors.filter((t): t is { i: number; h: string; field: TreasuryField } => t.field !== null && t.field !== 'ignored');
  if (new Set(used.map((t) => t.field)).size !== used.length) throw new CsvImportError('two columns map to the same tenor');
  if (used.length === 0) throw new CsvImportError(`no tenor column in the header: ${header.join(', ')}`);
  const out: CsvImport = { rows: [], ignoredColumns: tenors.filter((t) => t.field === 'ignored').map((t) => t.h), emptyRows: 0 };
  const seen = new Set<string>();
  records.slice(1).forEach((cells, k) => {
    const line = k + 2;
    const date = isoDate(cells[dateIndex], line);
    if (seen.has(date)) throw new CsvImportError(`line ${line}: date ${date} appears twice`);
    seen.add(date);
    const row: Record<string, unknown> = { date };
    for (const t of used) row[t.field] = cellValue(cells[t.i], t.h, line);
    if (used.every((t) => row[t.field] === null)) out.emptyRows += 1;
    else out.rows.push(treasuryYieldsFrom(row, 'csv'));
  });
  out.rows.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return out;
}

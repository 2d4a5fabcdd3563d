/**
 * Planner (pure): a date range and datasets → the month prefixes to list, then the listing → the
 * days to ingest, each with the files present. No holiday calendar: a day exists when a file does.
 */
import type { Dataset, DatasetShortName } from '../datasets';
import { keyParser, monthPrefix } from './keys';

export interface ListedObject {
  key: string;
  etag: string;
  size: number;
}

export interface PlannedFile {
  dataset: Dataset;
  date: string;
  key: string;
  etag: string;
  size: number;
}

export interface PlannedDay {
  date: string;
  /** In the order the datasets were given. */
  files: PlannedFile[];
  /** Selected datasets without a file that day (not yet published, or not part of the feed). */
  missing: DatasetShortName[];
}

export interface ListingRequest {
  dataset: Dataset;
  prefix: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function assertDate(date: string, what: string): void {
  if (!DATE.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) {
    throw new Error(`${what} must be a calendar date YYYY-MM-DD, got "${date}"`);
  }
}

/** Months (yyyy, mm) touched by [from, to], in order. */
export function monthsBetween(from: string, to: string): { yyyy: string; mm: string }[] {
  assertDate(from, '--from');
  assertDate(to, '--to');
  if (from > to) throw new Error(`--from ${from} is after --to ${to}`);
  const out: { yyyy: string; mm: string }[] = [];
  let year = Number(from.slice(0, 4));
  let month = Number(from.slice(5, 7));
  const endKey = to.slice(0, 7);
  for (;;) {
    const yyyy = String(year).padStart(4, '0');
    const mm = String(month).padStart(2, '0');
    if (`${yyyy}-${mm}` > endKey) return out;
    out.push({ yyyy, mm });
    month += 1;
    if (month === 13) {
      month = 1;
      year += 1;
    }
  }
}

export function listingRequests(template: string, datasets: readonly Dataset[], from: string, to: string): ListingRequest[] {
  const months = monthsBetween(from, to);
  const seen = new Set<string>();
  const out: ListingRequest[] = [];
  for (const dataset of datasets) {
    for (const { yyyy, mm } of months) {
      const prefix = monthPrefix(template, dataset, yyyy, mm);
      const id = `${dataset.id}\n${prefix}`;
      if (!seen.has(id)) out.push({ dataset, prefix });
      seen.add(id);
    }
  }
  return out;
}

/** Days in [from, to] that have at least one selected dataset's file, ascending. */
export function planDays(template: string, datasets: readonly Dataset[], from: string, to: string, listed: readonly ListedObject[]): PlannedDay[] {
  const parse = keyParser(template);
  const byDate = new Map<string, PlannedFile[]>();
  for (const object of listed) {
    const parsed = parse(object.key);
    if (!parsed || parsed.date < from || parsed.date > to || !datasets.includes(parsed.dataset)) continue;
    const files = byDate.get(parsed.date) ?? [];
    if (!files.some((f) => f.key === object.key)) files.push({ ...parsed, key: object.key, etag: object.etag, size: object.size });
    byDate.set(parsed.date, files);
  }
  return [...byDate.keys()].sort().map((date) => {
    const files = byDate.get(date)!;
    files.sort((a, b) => datasets.indexOf(a.dataset) - datasets.indexOf(b.dataset));
    const missing = datasets.filter((d) => !files.some((f) => f.dataset === d)).map((d) => d.shortName);
    return { date, files, missing };
  });
}

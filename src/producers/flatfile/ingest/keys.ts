/**
 * Massive key template (config massive.key_template, e.g. `{dataset}/{yyyy}/{mm}/{date}.csv.gz`):
 * rendering a key, the listing prefix of a month, and reading (dataset, date) back from a key.
 */
import { DATASETS, type Dataset } from '../datasets';

const PLACEHOLDERS = ['{dataset}', '{yyyy}', '{mm}', '{date}'] as const;

export function renderKey(template: string, dataset: Dataset, date: string): string {
  return template
    .replaceAll('{dataset}', dataset.id)
    .replaceAll('{yyyy}', date.slice(0, 4))
    .replaceAll('{mm}', date.slice(5, 7))
    .replaceAll('{date}', date);
}

/** The longest fixed prefix of a month's keys: everything before the first `{date}`. */
export function monthPrefix(template: string, dataset: Dataset, yyyy: string, mm: string): string {
  const upToDate = template.slice(0, template.indexOf('{date}'));
  const prefix = upToDate.replaceAll('{dataset}', dataset.id).replaceAll('{yyyy}', yyyy).replaceAll('{mm}', mm);
  const open = prefix.indexOf('{');
  return open < 0 ? prefix : prefix.slice(0, open);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Builds a parser of keys for one template; null for keys that are not a dataset day file. */
export function keyParser(template: string): (key: string) => { dataset: Dataset; date: string } | null {
  const datasetAlternatives = DATASETS.map((d) => escapeRegex(d.id)).join('|');
  const groups: string[] = [];
  let pattern = '';
  let rest = template;
  while (rest.length > 0) {
    const next = PLACEHOLDERS.map((p) => ({ p, at: rest.indexOf(p) })).filter((x) => x.at >= 0).sort((a, b) => a.at - b.at)[0];
    if (!next) {
      pattern += escapeRegex(rest);
      break;
    }
    pattern += escapeRegex(rest.slice(0, next.at));
    pattern += { '{dataset}': `(${datasetAlternatives})`, '{yyyy}': '(\\d{4})', '{mm}': '(\\d{2})', '{date}': '(\\d{4}-\\d{2}-\\d{2})' }[next.p];
    groups.push(next.p);
    rest = rest.slice(next.at + next.p.length);
  }
  const regex = new RegExp(`^${pattern}$`);
  return (key) => {
    const m = regex.exec(key);
    if (!m) return null;
    const value = (p: string): string => m[groups.indexOf(p) + 1];
    const dataset = DATASETS.find((d) => d.id === value('{dataset}'));
    const date = value('{date}');
    if (!dataset || !date) return null;
    if (groups.includes('{yyyy}') && value('{yyyy}') !== date.slice(0, 4)) return null;
    if (groups.includes('{mm}') && value('{mm}') !== date.slice(5, 7)) return null;
    return { dataset, date };
  };
}

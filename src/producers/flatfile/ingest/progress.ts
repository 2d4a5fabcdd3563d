/**
 * Progress and summary formatting (pure). The renderer in progress-view.ts draws these lines on a
 * TTY; elsewhere the same numbers go to periodic info logs.
 */
import type { RejectReason } from '../parse/fields';

export type FilePhase = 'listing' | 'reading' | 'producing' | 'done' | 'skipped' | 'failed';

export interface FileProgress {
  key: string;
  dataset: string;
  phase: FilePhase;
  /** Compressed bytes read / object size. */
  bytesRead: number;
  bytesTotal: number;
  /** Decompressed CSV bytes. */
  csvBytes: number;
  rowsRead: number;
  /** Items of the output sequence handled (emitted, duplicate or resumed) / total. */
  itemsDone: number;
  itemsTotal: number;
  produced: number;
  deadLetters: number;
  filtered: number;
  duplicates: number;
  /** Option quotes no trade of the day can see, not sent (quote-reduction.ts). */
  quotesSkipped: number;
  invalid: Partial<Record<RejectReason, number>>;
  startedAtMs: number;
  phaseStartedAtMs: number;
  /** Seconds from the file's start to its first item produced: its read, and the day's files read before it. */
  readSeconds?: number;
  finishedAtMs?: number;
  error?: string;
}

export function newFileProgress(key: string, dataset: string, bytesTotal: number, nowMs: number): FileProgress {
  return {
    key, dataset, phase: 'reading', bytesRead: 0, bytesTotal, csvBytes: 0, rowsRead: 0, itemsDone: 0, itemsTotal: 0,
    produced: 0, deadLetters: 0, filtered: 0, duplicates: 0, quotesSkipped: 0, invalid: {}, startedAtMs: nowMs, phaseStartedAtMs: nowMs,
  };
}

export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

export function formatCount(n: number): string {
  if (n < 1e4) return String(Math.round(n));
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  return `${(n / 1e6).toFixed(2)}M`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.floor(f * width);
  const partial = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'][Math.floor((f * width - full) * 8)] ?? '';
  return `${'█'.repeat(full)}${partial}`.padEnd(width, ' ');
}

/** Remaining seconds at the average rate so far; Infinity before any progress. */
export function eta(done: number, total: number, elapsedSeconds: number): number {
  if (done <= 0 || elapsedSeconds <= 0) return Infinity;
  return Math.max(0, (total - done) / (done / elapsedSeconds));
}

/** Fraction of a file's work: reading counts for 70 %, producing for 30 % (a rough, steady blend). */
export function fileFraction(p: FileProgress): number {
  if (p.phase === 'done' || p.phase === 'skipped' || p.phase === 'failed') return 1;
  const read = p.bytesTotal > 0 ? Math.min(1, p.bytesRead / p.bytesTotal) : 0;
  const produced = p.itemsTotal > 0 ? p.itemsDone / p.itemsTotal : 0;
  return p.phase === 'reading' ? 0.7 * read : 0.7 + 0.3 * produced;
}

/** One line per file: phase, bar, bytes, rate and ETA of the current phase. */
export function fileLine(p: FileProgress, nowMs: number, width = 24): string {
  const name = p.dataset.padEnd(13);
  const elapsed = (nowMs - p.phaseStartedAtMs) / 1000;
  if (p.phase === 'reading') {
    const rate = elapsed > 0 ? p.rowsRead / elapsed : 0;
    const remaining = eta(p.bytesRead, p.bytesTotal, elapsed);
    return `${name} read    ${bar(p.bytesTotal ? p.bytesRead / p.bytesTotal : 0, width)} ${formatBytes(p.bytesRead)}/${formatBytes(p.bytesTotal)}  ${formatCount(rate)} rows/s  ETA ${formatDuration(remaining)}`;
  }
  if (p.phase === 'producing') {
    const rate = elapsed > 0 ? p.itemsDone / elapsed : 0;
    const remaining = eta(p.itemsDone, p.itemsTotal, elapsed);
    return `${name} produce ${bar(p.itemsTotal ? p.itemsDone / p.itemsTotal : 1, width)} ${formatCount(p.itemsDone)}/${formatCount(p.itemsTotal)}  ${formatCount(rate)} rec/s  ETA ${formatDuration(remaining)}`;
  }
  const seconds = ((p.finishedAtMs ?? nowMs) - p.startedAtMs) / 1000;
  const what = p.phase === 'failed' ? `FAILED: ${p.error ?? ''}` : p.phase === 'skipped' ? 'skipped (already done)' : `${formatCount(p.produced)} records in ${formatDuration(seconds)}`;
  return `${name} ${p.phase.padEnd(7)} ${what}`;
}

export function dayLine(date: string, dayIndex: number, dayCount: number, files: readonly FileProgress[], width = 30): string {
  const fraction = files.length ? files.reduce((s, f) => s + fileFraction(f), 0) / files.length : 0;
  return `day ${date} (${dayIndex + 1}/${dayCount}) ${bar(fraction, width)} ${(fraction * 100).toFixed(0).padStart(3)}%`;
}

export interface SummaryRow {
  file: string;
  status: string;
  rowsRead: number;
  produced: number;
  filtered: number;
  duplicates: number;
  deadLetters: number;
  /** Option quotes not sent by the reduction (absent: none). */
  quotesSkipped?: number;
  invalid: Partial<Record<RejectReason, number>>;
  seconds: number;
  /** Of `seconds`, before producing began (absent: the file never got there). */
  readSeconds?: number;
  csvBytes: number;
  startedAtMs: number;
  finishedAtMs: number;
}

export function summaryRow(p: FileProgress, nowMs: number): SummaryRow {
  const finishedAtMs = p.finishedAtMs ?? nowMs;
  return {
    file: p.key, status: p.phase, rowsRead: p.rowsRead, produced: p.produced, filtered: p.filtered, duplicates: p.duplicates,
    deadLetters: p.deadLetters, quotesSkipped: p.quotesSkipped, invalid: p.invalid, seconds: (finishedAtMs - p.startedAtMs) / 1000, readSeconds: p.readSeconds, csvBytes: p.csvBytes,
    startedAtMs: p.startedAtMs, finishedAtMs,
  };
}

function invalidText(invalid: Partial<Record<RejectReason, number>>): string {
  const parts = Object.entries(invalid).filter(([, n]) => (n ?? 0) > 0).map(([reason, n]) => `${reason}=${n}`);
  return parts.length ? parts.join(' ') : '0';
}

/** Fixed-width table: one row per file, then a total row (its seconds: wall time, as a day's files are produced together). */
export function summaryTable(rows: readonly SummaryRow[]): string {
  const header = ['file', 'status', 'rows read', 'produced', 'filtered', 'dup', 'dlq', 'invalid by reason', 'seconds', 'MB/s'];
  const line = (r: SummaryRow): string[] => [
    r.file, r.status, String(r.rowsRead), String(r.produced), String(r.filtered), String(r.duplicates), String(r.deadLetters),
    invalidText(r.invalid), r.seconds.toFixed(1), r.seconds > 0 ? (r.csvBytes / 1e6 / r.seconds).toFixed(1) : '-',
  ];
  const total = rows.reduce<SummaryRow>(
    (t, r) => {
      const invalid = { ...t.invalid };
      for (const [k, n] of Object.entries(r.invalid)) invalid[k as RejectReason] = (invalid[k as RejectReason] ?? 0) + (n ?? 0);
      return {
        ...t, rowsRead: t.rowsRead + r.rowsRead, produced: t.produced + r.produced, filtered: t.filtered + r.filtered,
        duplicates: t.duplicates + r.duplicates, deadLetters: t.deadLetters + r.deadLetters, invalid,
        csvBytes: t.csvBytes + r.csvBytes, startedAtMs: Math.min(t.startedAtMs, r.startedAtMs), finishedAtMs: Math.max(t.finishedAtMs, r.finishedAtMs),
      };
    },
    {
      file: 'total', status: '', rowsRead: 0, produced: 0, filtered: 0, duplicates: 0, deadLetters: 0, invalid: {}, seconds: 0, csvBytes: 0,
      startedAtMs: Infinity, finishedAtMs: -Infinity,
    },
  );
  total.seconds = rows.length > 0 ? (total.finishedAtMs - total.startedAtMs) / 1000 : 0;
  const body = [header, ...rows.map(line), line(total)];
  const widths = header.map((_, i) => Math.max(...body.map((l) => l[i].length)));
  return body.map((l) => l.map((c, i) => (i < 2 || i === 7 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

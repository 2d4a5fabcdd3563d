/**
 * Per-file checkpoints (pure part). The producer keeps one record per file key in the compacted
 * topic `_optflow.flatfile.progress`, written in the SAME Kafka transaction as the chunk of records
 * it describes, so the checkpoint and the records are committed or aborted together.
 *
 * A file's output is a deterministic sequence: its accepted records in sort order (the sort key is
 * total), then its dead letters in line order. `position` = how many items of that sequence are
 * committed. A run resumes by re-reading and re-sorting the file and skipping `position` items.
 *
 * A generation is one ETag of the file. When the ETag changes (re-publication) a new generation
 * starts, deduplicated against the 64-bit hashes every earlier generation committed (dedupe.ts).
 */

export type FileStatus = 'in_progress' | 'done' | 'failed';

export interface FileCheckpoint {
  key: string;
  etag: string;
  status: FileStatus;
  /** 0 for the first ETag seen, +1 per re-publication. */
  generation: number;
  /** Items of this generation's sequence committed (emitted or skipped as duplicates). */
  position: number;
  /** Market records emitted by this generation. */
  producedRecords: number;
  /** Dead letters emitted by this generation. */
  deadLetters: number;
  /** Items (records + dead letters) emitted by all earlier generations: their hashes must all be found. */
  priorEmitted: number;
  /** Latest event time among the file's accepted records (ns, decimal), for the day's watermark. */
  maxEventTimeNs?: string;
  /** Option quotes: the option-trades file@ETag whose trades reduced the sequence ('' = every quote; absent = before reduction existed). */
  reducedBy?: string;
  error?: string;
  updatedAtMs: number;
}

export type FileAction =
  | { kind: 'skip'; reason: string }
  | {
      kind: 'ingest';
      generation: number;
      priorEmitted: number;
      /** Items of the sequence already committed by an interrupted run of this generation. */
      resumeFrom: number;
      /** That run's committed counts, carried on. */
      resumed: { producedRecords: number; deadLetters: number };
      /** The interrupted run's option-quote reduction (checkpoint.ts reducedBy). */
      reducedBy?: string;
      dedupe: boolean;
    };

const NOTHING_RESUMED = { producedRecords: 0, deadLetters: 0 };

export function emitted(c: FileCheckpoint): number {
  return c.producedRecords + c.deadLetters;
}

/**
 * What to do with a listed file given its checkpoint. `retryFailed` = try a failed file again even
 * though its ETag did not change (a fresh run does; a --follow poll does not, every cycle).
 */
export function fileAction(checkpoint: FileCheckpoint | undefined, etag: string, retryFailed: boolean): FileAction {
  if (!checkpoint) return { kind: 'ingest', generation: 0, priorEmitted: 0, resumeFrom: 0, resumed: NOTHING_RESUMED, dedupe: false };
  const c = checkpoint;
  if (c.etag === etag) {
    if (c.status === 'done') return { kind: 'skip', reason: 'done' };
    if (c.status === 'failed' && !retryFailed) return { kind: 'skip', reason: 'failed before; unchanged' };
    const resuming = c.status === 'in_progress';
    return {
      kind: 'ingest', generation: c.generation, priorEmitted: c.priorEmitted, resumeFrom: resuming ? c.position : 0,
      resumed: resuming ? { producedRecords: c.producedRecords, deadLetters: c.deadLetters } : NOTHING_RESUMED, dedupe: c.generation > 0,
      ...(resuming && c.reducedBy !== undefined ? { reducedBy: c.reducedBy } : {}),
    };
  }
  // A new ETag: everything earlier generations emitted (this one's included, even if cut short) stays downstream.
  return { kind: 'ingest', generation: c.generation + 1, priorEmitted: c.priorEmitted + emitted(c), resumeFrom: 0, resumed: NOTHING_RESUMED, dedupe: true };
}

export function encodeCheckpoint(c: FileCheckpoint): Buffer {
  return Buffer.from(JSON.stringify(c));
}

export function decodeCheckpoint(value: Buffer): FileCheckpoint | null {
  try {
    const c = JSON.parse(value.toString('utf8')) as Partial<FileCheckpoint>;
    const numbers = [c.generation, c.position, c.producedRecords, c.deadLetters, c.priorEmitted];
    if (typeof c.key !== 'string' || typeof c.etag !== 'string' || !numbers.every((n) => typeof n === 'number')) return null;
    if (c.status !== 'in_progress' && c.status !== 'done' && c.status !== 'failed') return null;
    return c as FileCheckpoint;
  } catch {
    return null;
  }
}

/** Day-level record (key `day:<date>`): watermark markers were sent for exactly these file versions. */
export interface DayCheckpoint {
  date: string;
  watermarkNs: string;
  files: Record<string, string>;
}

export const DAY_KEY_PREFIX = 'day:';

export function dayKey(date: string): string {
  return `${DAY_KEY_PREFIX}${date}`;
}

export function sameFiles(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/**
 * Event-time ordering in bounded memory (DESIGN 4): an external merge sort keyed by
 * (time, group, sequence, file order), so a partition shared by several underlyings receives them
 * interleaved in event time, as the live feed delivers them. Records are held in memory up to a limit, then sorted and
 * spilled to a temp file as a run of length-prefixed frames; `batches()` k-way merges the runs
 * (and what is still in memory) and removes the temp files.
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SortKey {
  /** The record's Kafka key (the underlying for options, the ticker for stocks): a tie-breaker after time. */
  group: string;
  /** Event time, ns. */
  time: bigint;
  /** Number(time): compared first, as a double compares far faster than a bigint (rounding keeps the order). */
  roughTime: number;
  /** Tie-breaker before file order; null sorts before any number. */
  seq: bigint | null;
}

export interface RecordCodec<T> {
  encode(record: T): Buffer;
  decode(bytes: Buffer): T;
}

export interface ExternalSortOptions<T> {
  key(record: T): SortKey;
  codec: RecordCodec<T>;
  /** Spill once this many records are held (default 250 000). */
  maxRecordsInMemory?: number;
  /** Spill once the estimated held bytes reach this (default 256 MiB). */
  maxBytesInMemory?: number;
  /** Estimated in-memory size of one record (default 400 bytes). */
  estimateBytes?(record: T): number;
  /** Parent of the spill directory (default os.tmpdir()). */
  tmpDir?: string;
}

export interface SortStats {
  records: number;
  runs: number;
  spilledRecords: number;
  spilledBytes: number;
}

interface Entry<T> {
  key: SortKey;
  /** Position in the input: the last tie-breaker, so equal keys keep file order. */
  order: number;
  record: T;
}

export function compareKeys(a: SortKey, b: SortKey): number {
  if (a.roughTime !== b.roughTime) return a.roughTime < b.roughTime ? -1 : 1;
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  if (a.group !== b.group) return a.group < b.group ? -1 : 1;
  if (a.seq !== b.seq) {
    if (a.seq === null) return -1;
    if (b.seq === null) return 1;
    return a.seq < b.seq ? -1 : 1;
  }
  return 0;
}

function compareEntries<T>(a: Entry<T>, b: Entry<T>): number {
  return compareKeys(a.key, b.key) || a.order - b.order;
}

export function sortKey(group: string, time: bigint, seq: bigint | null): SortKey {
  return { group, time, roughTime: Number(time), seq };
}

/** Frame: u32 payload length, f64 input order, payload. */
const FRAME_HEADER = 12;
const WRITE_BATCH_BYTES = 1 << 20;
const READ_BLOCK_BYTES = 1 << 20;
/** Records per batch handed out by `batches()`. */
export const MERGE_BATCH = 4096;

export class ExternalSorter<T> {
  readonly stats: SortStats = { records: 0, runs: 0, spilledRecords: 0, spilledBytes: 0 };
  private held: Entry<T>[] = [];
  private heldBytes = 0;
  private dir: string | null = null;
  private readonly runPaths: string[] = [];
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private consumed = false;

  constructor(private readonly options: ExternalSortOptions<T>) {
    this.maxRecords = options.maxRecordsInMemory ?? 250_000;
    this.maxBytes = options.maxBytesInMemory ?? 256 * 1024 * 1024;
    if (this.maxRecords < 1) throw new Error('maxRecordsInMemory must be ≥ 1');
  }

  async add(record: T): Promise<void> {
    if (this.consumed) throw new Error('ExternalSorter: add() after batches()');
    this.held.push({ key: this.options.key(record), order: this.stats.records++, record });
    this.heldBytes += this.options.estimateBytes?.(record) ?? 400;
    if (this.held.length >= this.maxRecords || this.heldBytes >= this.maxBytes) await this.spill();
  }

  /**
   * All records in key order, in batches of up to MERGE_BATCH (a generator step per record was a
   * tenth of the producer's time). Temp files are removed when iteration ends (or is abandoned).
   */
  async *batches(): AsyncGenerator<T[]> {
    if (this.consumed) throw new Error('ExternalSorter: batches() called twice');
    this.consumed = true;
    const memory = this.held.sort(compareEntries);
    this.held = [];
    try {
      if (this.runPaths.length === 0) {
        for (let i = 0; i < memory.length; i += MERGE_BATCH) yield memory.slice(i, i + MERGE_BATCH).map((e) => e.record);
        return;
      }
      const sources: RunSource<T>[] = [new MemoryRun(memory)];
      for (const path of this.runPaths) sources.push(await FileRun.open(path, this.options));
      try {
        yield* mergeRuns(sources);
      } finally {
        await Promise.all(sources.map((s) => s.close()));
      }
    } finally {
      await this.dispose();
    }
  }

  /** Removes spill files; safe to call more than once. */
  async dispose(): Promise<void> {
    if (this.dir !== null) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  private async spill(): Promise<void> {
    const entries = this.held.sort(compareEntries);
    this.held = [];
    this.heldBytes = 0;
    this.dir ??= await mkdtemp(join(this.options.tmpDir ?? tmpdir(), 'optflow-sort-'));
    const path = join(this.dir, `run-${this.runPaths.length}.bin`);
    this.stats.spilledBytes += await writeRun(path, entries, this.options.codec);
    this.stats.spilledRecords += entries.length;
    this.stats.runs++;
    this.runPaths.push(path);
  }
}

/** Writes the entries as frames, gathered into blocks of WRITE_BATCH_BYTES (a frame larger than that gets its own). */
async function writeRun<T>(path: string, entries: readonly Entry<T>[], codec: RecordCodec<T>): Promise<number> {
  const out = createWriteStream(path);
  let block = Buffer.allocUnsafe(WRITE_BATCH_BYTES);
  let used = 0;
  let total = 0;
  const flush = async (): Promise<void> => {
    if (used === 0) return;
    const full = block.subarray(0, used);
    block = Buffer.allocUnsafe(Math.max(WRITE_BATCH_BYTES, block.length));
    used = 0;
    if (!out.write(full)) await once(out, 'drain');
  };
  for (const e of entries) {
    const payload = codec.encode(e.record);
    const size = FRAME_HEADER + payload.length;
    if (used + size > block.length) await flush();
    if (size > block.length) block = Buffer.allocUnsafe(size);
    block.writeUInt32LE(payload.length, used);
    block.writeDoubleLE(e.order, used + 4);
    payload.copy(block, used + FRAME_HEADER);
    used += size;
    total += size;
  }
  await flush();
  out.end();
  await once(out, 'finish');
  return total;
}

interface RunSource<T> {
  /** Current head, or null when exhausted. */
  head: Entry<T> | null;
  /** Moves to the next entry; false when that needs a read first (`refill`, then call again). */
  advance(): boolean;
  refill(): Promise<void>;
  close(): Promise<void>;
}

class MemoryRun<T> implements RunSource<T> {
  head: Entry<T> | null;
  private next = 1;

  constructor(private readonly entries: Entry<T>[]) {
    this.head = entries[0] ?? null;
  }

  advance(): boolean {
    this.head = this.entries[this.next++] ?? null;
    return true;
  }

  async refill(): Promise<void> {}

  async close(): Promise<void> {}
}

/** Reads a run file block by block; decodes a block's frames at once so most advances need no read. */
class FileRun<T> implements RunSource<T> {
  head: Entry<T> | null = null;
  private decoded: Entry<T>[] = [];
  private index = 0;
  private carry: Buffer = Buffer.alloc(0);
  private eof = false;

  private constructor(private readonly file: FileHandle, private readonly options: ExternalSortOptions<T>) {}

  static async open<T>(path: string, options: ExternalSortOptions<T>): Promise<FileRun<T>> {
    const run = new FileRun(await open(path, 'r'), options);
    await run.refill();
    run.advance();
    return run;
  }

  advance(): boolean {
    if (this.index < this.decoded.length) this.head = this.decoded[this.index++];
    else if (this.eof) this.head = null;
    else return false;
    return true;
  }

  async refill(): Promise<void> {
    while (this.index >= this.decoded.length && !this.eof) await this.readBlock();
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  private async readBlock(): Promise<void> {
    const block = Buffer.allocUnsafe(READ_BLOCK_BYTES);
    const { bytesRead } = await this.file.read(block, 0, READ_BLOCK_BYTES, null);
    if (bytesRead === 0) {
      if (this.carry.length > 0) throw new Error('ExternalSorter: truncated spill file');
      this.eof = true;
      return;
    }
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, block.subarray(0, bytesRead)]) : block.subarray(0, bytesRead);
    this.decoded = [];
    this.index = 0;
    let pos = 0;
    while (pos + FRAME_HEADER <= buf.length) {
      const length = buf.readUInt32LE(pos);
      if (pos + FRAME_HEADER + length > buf.length) break;
      const record = this.options.codec.decode(buf.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + length));
      this.decoded.push({ key: this.options.key(record), order: buf.readDoubleLE(pos + 4), record });
      pos += FRAME_HEADER + length;
    }
    this.carry = Buffer.from(buf.subarray(pos));
  }
}

/** k-way merge over a binary min-heap of run heads, in batches. */
async function* mergeRuns<T>(sources: RunSource<T>[]): AsyncGenerator<T[]> {
  const heap = sources.filter((s) => s.head !== null);
  const less = (i: number, j: number): boolean => compareEntries(heap[i].head!, heap[j].head!) < 0;
  const siftDown = (start: number): void => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
  let batch: T[] = [];
  while (heap.length > 0) {
    const top = heap[0];
    batch.push(top.head!.record);
    if (!top.advance()) {
      await top.refill();
      top.advance();
    }
    if (top.head === null) {
      heap[0] = heap[heap.length - 1];
      heap.pop();
    }
    siftDown(0);
    if (batch.length >= MERGE_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

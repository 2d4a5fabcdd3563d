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
  /** decode(block.subarray(start, end)) without making that view (a merge reads millions of frames). */
  decodeAt?(block: Buffer, start: number, end: number): T;
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

/** How a spilled run's frames are read back: the record, and its key. */
export type RunCodec<T> = Pick<ExternalSortOptions<T>, 'key' | 'codec'>;

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

/**
 * A spilled run being written: frames gathered into blocks of WRITE_BATCH_BYTES (a larger frame gets
 * its own). A block goes back to the writer once the file has it: a fresh block per megabyte was a
 * run's size in new memory, and V8 starts a full collection for every 64 MiB of that.
 */
export class RunWriter {
  private readonly out;
  private block: Buffer = Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES);
  private readonly free: Buffer[] = [];
  private used = 0;
  bytes = 0;
  /** The file wants a pause before the next block ('drain'). */
  needsDrain = false;

  constructor(path: string) {
    this.out = createWriteStream(path);
  }

  add(order: number, payload: Buffer): void {
    this.addFrom(order, payload, 0, payload.length);
  }

  /** Adds `source[start, end)` as the payload (no view of it made). */
  addFrom(order: number, source: Buffer, start: number, end: number): void {
    const length = end - start;
    const size = FRAME_HEADER + length;
    if (this.used + size > this.block.length) this.flush();
    if (size > this.block.length) this.block = Buffer.allocUnsafe(size);
    this.block.writeUInt32LE(length, this.used);
    this.block.writeDoubleLE(order, this.used + 4);
    source.copy(this.block, this.used + FRAME_HEADER, start, end);
    this.used += size;
    this.bytes += size;
  }

  async drain(): Promise<void> {
    if (this.needsDrain) await once(this.out, 'drain');
    this.needsDrain = false;
  }

  async end(): Promise<void> {
    this.flush();
    this.out.end();
    await once(this.out, 'finish');
  }

  private flush(): void {
    if (this.used === 0) return;
    const block = this.block;
    const full = block.subarray(0, this.used);
    this.block = this.free.pop() ?? Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES);
    this.used = 0;
    const written = (): void => {
      if (block.length === WRITE_BATCH_BYTES) this.free.push(block);
    };
    if (!this.out.write(full, written)) this.needsDrain = true;
  }
}

/**
 * The spill-and-merge life of a sorter: what it holds in memory is up to the subclass (objects, or
 * frames with typed key columns); runs on disk are frames read back with `codec`.
 */
export abstract class SpillingSorter<T> {
  readonly stats: SortStats = { records: 0, runs: 0, spilledRecords: 0, spilledBytes: 0 };
  private dir: string | null = null;
  private readonly runPaths: string[] = [];
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private consumed = false;
  /** The run being written, if any (its failure surfaces at the next spill or `settled`). */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly base: RunCodec<T> & Pick<ExternalSortOptions<T>, 'maxRecordsInMemory' | 'maxBytesInMemory' | 'tmpDir'>) {
    this.maxRecords = base.maxRecordsInMemory ?? 250_000;
    this.maxBytes = base.maxBytesInMemory ?? 256 * 1024 * 1024;
    if (this.maxRecords < 1) throw new Error('maxRecordsInMemory must be ≥ 1');
  }

  protected abstract get heldRecords(): number;
  protected abstract get heldBytes(): number;
  /** The held records as a sorted run, and forgets them. */
  protected abstract takeSorted(): RunSource<T>;
  /** Takes the held records over (the sorter forgets them); the returned function writes them in key order as the run at `path` and returns its bytes. */
  protected abstract detachSorted(): (path: string) => Promise<number>;

  protected checkOpen(): void {
    if (this.consumed) throw new Error('sorter: add() after batches()');
  }

  /** A limit is reached: spill before holding more. */
  protected get full(): boolean {
    return this.heldRecords >= this.maxRecords || this.heldBytes >= this.maxBytes;
  }

  /**
   * All records in key order, in batches of up to MERGE_BATCH (a generator step per record was a
   * tenth of the producer's time). Temp files are removed when iteration ends (or is abandoned).
   */
  async *batches(): AsyncGenerator<T[]> {
    if (this.consumed) throw new Error('sorter: batches() called twice');
    this.consumed = true;
    const sources: RunSource<T>[] = [];
    try {
      await this.settled();
      sources.push(this.takeSorted());
      for (const path of this.runPaths) sources.push(await FileRun.open(path, this.base));
      yield* mergeRuns(sources);
    } finally {
      await Promise.all(sources.map((s) => s.close()));
      await this.dispose();
    }
  }

  /** Every spilled run written: a failure to write one is thrown here. */
  async settled(): Promise<void> {
    await this.writing;
  }

  /** Removes spill files; safe to call more than once. */
  async dispose(): Promise<void> {
    await this.writing.catch(() => undefined);
    if (this.dir !== null) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  /**
   * Hands the held records over as a run and starts writing it; returns once the run before it is
   * written. Reading goes on while a run is written, so memory holds at most the run being written
   * and the one filling.
   */
  protected async spill(): Promise<void> {
    await this.writing;
    this.dir ??= await mkdtemp(join(this.base.tmpDir ?? tmpdir(), 'optflow-sort-'));
    const path = join(this.dir, `run-${this.runPaths.length}.bin`);
    this.runPaths.push(path);
    this.stats.runs++;
    this.stats.spilledRecords += this.heldRecords;
    const write = this.detachSorted();
    this.writing = write(path).then((bytes) => void (this.stats.spilledBytes += bytes));
    this.writing.catch(() => undefined); // thrown by the next spill, or by settled()
  }
}

/** External sort of objects, held as they are until a run spills. */
export class ExternalSorter<T> extends SpillingSorter<T> {
  private held: Entry<T>[] = [];
  private bytesHeld = 0;

  constructor(private readonly options: ExternalSortOptions<T>) {
    super(options);
  }

  protected get heldRecords(): number {
    return this.held.length;
  }

  protected get heldBytes(): number {
    return this.bytesHeld;
  }

  async add(record: T): Promise<void> {
    this.checkOpen();
    this.held.push({ key: this.options.key(record), order: this.stats.records++, record });
    this.bytesHeld += this.options.estimateBytes?.(record) ?? 400;
    if (this.full) await this.spill();
  }

  private takeEntries(): Entry<T>[] {
    const sorted = this.held.sort(compareEntries);
    this.held = [];
    this.bytesHeld = 0;
    return sorted;
  }

  protected takeSorted(): RunSource<T> {
    return new MemoryRun(this.takeEntries());
  }

  protected detachSorted(): (path: string) => Promise<number> {
    const entries = this.takeEntries();
    return async (path) => {
      const out = new RunWriter(path);
      for (const e of entries) {
        out.add(e.order, this.options.codec.encode(e.record));
        if (out.needsDrain) await out.drain();
      }
      await out.end();
      return out.bytes;
    };
  }
}

/** A sorted run being merged: its head record, with the head's key and input order (record null: exhausted). */
export interface RunSource<T> {
  readonly record: T | null;
  readonly key: SortKey | null;
  readonly order: number;
  /** Moves to the next record; false when that needs a read first (`refill`, then call again). */
  advance(): boolean;
  refill(): Promise<void>;
  close(): Promise<void>;
}

class MemoryRun<T> implements RunSource<T> {
  record: T | null = null;
  key: SortKey | null = null;
  order = 0;
  private next = 0;

  constructor(private readonly entries: Entry<T>[]) {
    this.advance();
  }

  advance(): boolean {
    const entry = this.entries[this.next++];
    this.record = entry?.record ?? null;
    this.key = entry?.key ?? null;
    this.order = entry?.order ?? 0;
    return true;
  }

  async refill(): Promise<void> {}

  async close(): Promise<void> {}
}

/**
 * Reads a run file block by block and decodes one frame per advance: only the head is an object. (A
 * block decoded at once kept thousands of entries per run alive across a merge of many runs, long
 * enough to be promoted: bench:day's producer then ran a full collection every second.)
 */
class FileRun<T> implements RunSource<T> {
  record: T | null = null;
  key: SortKey | null = null;
  order = 0;
  private block: Buffer = Buffer.alloc(0);
  private pos = 0;
  private eof = false;

  private constructor(private readonly file: FileHandle, private readonly options: RunCodec<T>) {}

  static async open<T>(path: string, options: RunCodec<T>): Promise<FileRun<T>> {
    const run = new FileRun(await open(path, 'r'), options);
    await run.refill();
    run.advance();
    return run;
  }

  advance(): boolean {
    const end = this.frameEnd();
    if (end >= 0) {
      const { block, pos } = this;
      const { codec } = this.options;
      const record = codec.decodeAt !== undefined ? codec.decodeAt(block, pos + FRAME_HEADER, end) : codec.decode(block.subarray(pos + FRAME_HEADER, end));
      this.record = record;
      this.key = this.options.key(record);
      this.order = block.readDoubleLE(pos + 4);
      this.pos = end;
      return true;
    }
    if (!this.eof) return false;
    this.record = null;
    this.key = null;
    return true;
  }

  /** Reads on until a whole frame is in the block (what is left of it, then the next blocks), or the file ends. */
  async refill(): Promise<void> {
    while (!this.eof && this.frameEnd() < 0) {
      const read = Buffer.allocUnsafe(READ_BLOCK_BYTES);
      const { bytesRead } = await this.file.read(read, 0, READ_BLOCK_BYTES, null);
      const rest = this.block.subarray(this.pos);
      if (bytesRead === 0) {
        if (rest.length > 0) throw new Error('ExternalSorter: truncated spill file');
        this.eof = true;
      }
      this.block = rest.length > 0 ? Buffer.concat([rest, read.subarray(0, bytesRead)]) : read.subarray(0, bytesRead);
      this.pos = 0;
    }
  }

  /** Where the frame at `pos` ends, or -1 when the block does not hold all of it. */
  private frameEnd(): number {
    const { block, pos } = this;
    if (pos + FRAME_HEADER > block.length) return -1;
    const end = pos + FRAME_HEADER + block.readUInt32LE(pos);
    return end <= block.length ? end : -1;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/** k-way merge over a binary min-heap of run heads, in batches. */
async function* mergeRuns<T>(sources: RunSource<T>[]): AsyncGenerator<T[]> {
  const heap = sources.filter((s) => s.record !== null);
  const less = (i: number, j: number): boolean => (compareKeys(heap[i].key!, heap[j].key!) || heap[i].order - heap[j].order) < 0;
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
    batch.push(top.record!);
    if (!top.advance()) {
      await top.refill();
      top.advance();
    }
    if (top.record === null) {
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

/**
 * The external sort of a file's encoded records (encoded.ts), held as the packed frames they
 * arrived in, with their sort keys in typed columns. A filling run makes no object per record, so
 * nothing survives the young generation one record at a time (object-per-record runs cost the
 * producer a sixth of its time in GC). A full run goes to the spill thread (spill-thread.ts), which
 * sorts it and writes it as frame copies; the merge hands out EncodedRecord objects. The order is `compareKeys` then arrival, as ExternalSorter's.
 */
import { encodedRecordCodec, FRAME, type EncodedRecord } from '../encode/encoded';
import { SpillingSorter, type RunSource, type SortKey } from './order';
import { spillThread } from './spill-thread';
import { capacityOf, grownTo, keyColumns, sortedIndices, type KeyColumns } from './key-columns';

const { TIME, HAS_SEQ, SEQ, GROUP_LENGTH, GROUP } = FRAME;

/** Group names by id; ranks follow the names' string order (compareKeys' `<`). */
class GroupNames {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  /** The last group's bytes and id: a file's records come in runs of one group (it is sorted by ticker). */
  private last = Buffer.alloc(0);
  private lastId = -1;

  /** The id of the group name in `bytes[start, end)`. */
  idAt(bytes: Buffer, start: number, end: number): number {
    if (this.isLast(bytes, start, end)) return this.lastId;
    this.last = Buffer.from(bytes.subarray(start, end));
    this.lastId = this.idOf(bytes.toString('utf8', start, end));
    return this.lastId;
  }

  /** A byte loop: names are a few bytes, shorter than Buffer.compare's checks. */
  private isLast(bytes: Buffer, start: number, end: number): boolean {
    const last = this.last;
    if (end - start !== last.length) return false;
    for (let k = 0; k < last.length; k++) if (bytes[start + k] !== last[k]) return false;
    return true;
  }

  private idOf(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.push(name) - 1;
      this.ids.set(name, id);
    }
    return id;
  }

  ranks(): Int32Array {
    const rank = new Int32Array(this.names.length);
    [...this.names.keys()].sort((a, b) => (this.names[a] < this.names[b] ? -1 : 1)).forEach((id, r) => (rank[id] = r));
    return rank;
  }
}

export interface FrameSortOptions {
  /** Spill once this many records are held. */
  maxRecordsInMemory: number;
  /** Spill once the held frames reach this many bytes (default 256 MiB). */
  maxBytesInMemory?: number;
  tmpDir?: string;
}

export class FrameSorter extends SpillingSorter<EncodedRecord> {
  private readonly groups = new GroupNames();
  private chunks: Buffer[] = [];
  private columns = keyColumns(1024);
  private held = 0;
  private bytesHeld = 0;

  constructor(options: FrameSortOptions) {
    super({ ...options, key: (r) => r, codec: encodedRecordCodec });
  }

  protected get heldRecords(): number {
    return this.held;
  }

  protected get heldBytes(): number {
    return this.bytesHeld;
  }

  /**
   * Adds the records of `packed` (packEncoded's u32-length-prefixed frames), in their order. A spill
   * hands the held frames' memory over to the spill thread when a frame buffer is the whole of its
   * memory (a worker's batch), emptying every view of it: the caller keeps none.
   */
  async addFrames(packed: Buffer): Promise<void> {
    this.checkOpen();
    let chunk = -1;
    for (let pos = 0; pos < packed.length; ) {
      if (chunk < 0) chunk = this.chunks.push(packed) - 1;
      const length = packed.readUInt32LE(pos);
      this.addFrame(packed, chunk, pos + 4, length);
      this.bytesHeld += 4 + length;
      pos += 4 + length;
      if (this.full) {
        if (pos < packed.length) [packed, pos] = [Buffer.from(packed.subarray(pos)), 0]; // the rest, out of the memory the spill takes
        await this.spill();
        chunk = -1; // the spill forgot the chunks: the rest is held anew
      }
    }
  }

  private addFrame(packed: Buffer, chunk: number, at: number, length: number): void {
    if (this.held === capacityOf(this.columns)) this.columns = grownTo(this.columns, 2 * capacityOf(this.columns), this.held);
    const c = this.columns;
    const i = this.held++;
    c.timeHi[i] = packed.readUInt32LE(at + TIME + 4);
    c.timeLo[i] = packed.readUInt32LE(at + TIME);
    c.hasSeq[i] = packed[at + HAS_SEQ];
    c.seqHi[i] = packed.readUInt32LE(at + SEQ + 4);
    c.seqLo[i] = packed.readUInt32LE(at + SEQ);
    const groupLength = packed.readUInt16LE(at + GROUP_LENGTH);
    c.group[i] = this.groups.idAt(packed, at + GROUP, at + GROUP + groupLength);
    c.order[i] = this.stats.records++;
    c.chunk[i] = chunk;
    c.offset[i] = at;
    c.length[i] = length;
  }

  private forget(): void {
    this.chunks = [];
    this.columns = keyColumns(1024);
    this.held = 0;
    this.bytesHeld = 0;
  }

  protected takeSorted(): RunSource<EncodedRecord> {
    const run = new HeldRun(sortedIndices(this.columns, this.held, this.groups.ranks()), this.chunks, this.columns);
    this.forget();
    return run;
  }

  /** The run is sorted and written by the spill thread, which the held frames and columns go to (spill-thread.ts). */
  protected detachSorted(): (path: string) => Promise<number> {
    const run = { chunks: this.chunks, columns: this.columns, held: this.held, rank: this.groups.ranks() };
    this.forget();
    return (path) => spillThread().write({ path, ...run });
  }
}

/**
 * The held records in key order, one decoded per advance. Decoded all at once, a file's remainder (up
 * to maxRecordsInMemory records, a few hundred bytes of objects each) lived through the whole produce
 * phase, and every full collection of it marked them: bench:flatfile's heap went from 24 to 360 MB.
 */
class HeldRun implements RunSource<EncodedRecord> {
  record: EncodedRecord | null = null;
  key: SortKey | null = null;
  order = 0;
  private next = 0;

  constructor(private readonly sorted: Uint32Array, private readonly chunks: Buffer[], private readonly columns: KeyColumns) {
    this.advance();
  }

  advance(): boolean {
    if (this.next === this.sorted.length) {
      this.record = this.key = null;
      return true;
    }
    const i = this.sorted[this.next++];
    const { chunk, offset, length, order } = this.columns;
    this.record = this.key = encodedRecordCodec.decodeAt(this.chunks[chunk[i]], offset[i], offset[i] + length[i]);
    this.order = order[i];
    return true;
  }

  async refill(): Promise<void> {}

  async close(): Promise<void> {}
}

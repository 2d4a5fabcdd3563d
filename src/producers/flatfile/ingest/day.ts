/**
 * One day, end to end (DESIGN 4: history replays like live):
 *   1. read:    for each file of the day, source body → gunzip → parser (universe filter, normalise)
 *               → ExternalSorter in event-time order (records) and a spill-backed list (dead
 *               letters). Nothing is produced yet, so a corrupt or truncated gzip fails the day with
 *               no output at all.
 *   2. produce: one k-way merge of the day's sorted files, so every partition receives its records
 *               in event-time order across underlyings and datasets, then each file's dead letters,
 *               in transactions of massive.transaction_records items. Each transaction also carries
 *               every file's checkpoint and dedupe hashes (checkpoint.ts), and a watermark marker on
 *               every partition of the job's topics: "all of this day up to t is in". A kill at any
 *               point leaves either the whole chunk, its checkpoints and its markers, or none of them.
 *               Before the first record, a transaction of markers alone (first event time − 1 ns)
 *               makes every partition marker-driven, so no processor takes a partition whose first
 *               batch it has not read yet for idle (see processors/runtime/watermarks.ts).
 * Memory is bounded by the sorters (spill past massive.sort_memory_records, shared by the day's
 * files; a spilled run is in memory until the spill thread has written it, beside the one filling)
 * and two chunks (one committing while the next fills).
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { OutgoingMessage, PackedRun, RecordProducer } from '../../../kafka/producer';
import { markerMessages } from '../../../kafka/markers';
import type { TopicSerde } from '../../../avro/serde';
import type { DeadLetter } from '../../../domain/records';
import { encodeCheckpoint, type FileAction, type FileCheckpoint } from './checkpoint';
import { deadLetterKey, hash64, PackedHashes, RepublishFilter, type HashMultiset } from './dedupe';
import type { Dataset } from '../datasets';
import { unpackEncoded, type EncodedRecord } from '../encode/encoded';
import { KeyPartitions, PackedValues, RunMemory } from './packed-runs';
import { FrameSorter } from '../sort/frame-sort';
import type { EncodingSpec, FileEncoding } from '../encode/file-encoding';
import type { MarketRecord } from '../parse/normalise';
import { compareKeys, ExternalSorter, MERGE_BATCH, sortKey, type SortKey } from '../sort/order';
import type { PlannedFile } from './planner';
import type { FileProgress } from './progress';
import type { RootMap } from '../parse/opra-lite';
import { QuoteReduction, ReadAheadJoin, reduceSorted, type SortedRecords, TradeTimes } from './quote-reduction';
import { FlatFileParser, type Rejection } from '../parse/flat-file-parser';
import type { FlatFileSource } from './source';
import { GENERATION_HEADER, type StateTopics } from './state';
import type { Universe } from '../parse/universe';
import { logger } from '../../../util/log';

const log = logger('flatfile');

export interface IngestSettings {
  universe: Universe;
  rootMap: RootMap;
  sortMemoryRecords: number;
  spillDir?: string;
  transactionRecords: number;
}

export interface IngestPorts {
  producer: RecordProducer;
  stateTopics: StateTopics;
  serdeFor(dataset: Dataset): TopicSerde<MarketRecord>;
  deadLetterSerdeFor(dataset: Dataset): TopicSerde<DeadLetter>;
  /** Hashes of earlier generations (only called for a re-publication). */
  priorHashes(fileKey: string, generation: number): Promise<HashMultiset>;
  /** Every partition of the job's market topics (physical names): where watermark markers go; their records are put in partitions here, by key. */
  markerPartitions: ReadonlyMap<string, readonly number[]>;
  /** After each committed transaction, with the checkpoints it committed. */
  onCommit?(checkpoints: readonly FileCheckpoint[]): void;
}

/** A file that can never be read as published (bad gzip, bad header): failing it again is pointless. */
export class CorruptFileError extends Error {}

export interface FileResult {
  checkpoint: FileCheckpoint;
  vanished: number;
}

export interface ReadOutput {
  records: FrameSorter;
  deadLetters: ExternalSorter<Rejection>;
  maxEventTimeNs: bigint | null;
  etag: string;
  /** For an option-trades file read with collectTrades: its trades' times per contract. */
  tradeTimes: TradeTimes | null;
}

/**
 * How a day's option-quote file is reduced: by the trades of `by` (file key @ ETag, then
 * READ_AHEAD_TAG when the exact rule also runs at read), or not at all.
 */
export interface DayReduction {
  by: string;
  reduction: QuoteReduction;
  /** The exact rule one quote ahead at read (quote-reduction.ts ReadAhead) too. */
  readAhead: boolean;
}

/** Marks a reduction that ran ReadAhead: a file interrupted without it resumes without it (its positions count those quotes). */
export const READ_AHEAD_TAG = '+read-ahead';

const SEND_BATCH_BYTES = 512 * 1024;

function isZlibError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return code.startsWith('Z_') || /unexpected end of file|incorrect header check|invalid (block|distance|stored|code)/i.test(String((err as Error).message));
}

/** Counts compressed bytes as they pass. */
function byteMeter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

function rejectionCodec(): { encode(r: Rejection): Buffer; decode(b: Buffer): Rejection } {
  return { encode: (r) => Buffer.from(JSON.stringify(r), 'utf8'), decode: (b) => JSON.parse(b.toString('utf8')) as Rejection };
}

async function readFile(body: Readable, etag: string, s: IngestSettings, progress: FileProgress, encoding: FileEncoding, collectTrades: boolean, readAhead: ReadAheadJoin | null): Promise<ReadOutput> {
  const records = new FrameSorter({ maxRecordsInMemory: s.sortMemoryRecords, tmpDir: s.spillDir });
  const deadLetters = new ExternalSorter<Rejection>({
    key: () => sortKey('', 0n, null), codec: rejectionCodec(), maxRecordsInMemory: 100_000, tmpDir: s.spillDir,
    estimateBytes: (r) => 100 + r.raw.length * 2,
  });
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  let maxEventTimeNs: bigint | null = null;
  const tradeTimes = collectTrades ? new TradeTimes() : null;
  const stream: { failure: Error | null } = { failure: null };
  pipeline(body, byteMeter((n) => (progress.bytesRead += n)), gunzip, (err) => {
    if (err) stream.failure = err;
  });
  try {
    for await (const batch of encoding.batches(gunzip)) {
      if (batch.maxEventTimeNs !== null && (maxEventTimeNs === null || batch.maxEventTimeNs > maxEventTimeNs)) maxEventTimeNs = batch.maxEventTimeNs;
      const droppedBefore = readAhead?.dropped ?? 0;
      const frames = readAhead === null ? [batch.frames] : readAhead.push(batch.frames, batch.readAhead);
      progress.quotesSkipped += batch.quotesSkipped + (readAhead?.dropped ?? 0) - droppedBefore;
      if (tradeTimes !== null) for (const r of unpackEncoded(batch.frames)) tradeTimes.add(r.ticker, r.time);
      for (const part of frames) await records.addFrames(part);
      for (const rejection of batch.rejections) await deadLetters.add(rejection);
      const { stats } = encoding;
      progress.csvBytes = stats.bytes;
      progress.rowsRead = Math.max(0, stats.lines - 1);
      progress.filtered = stats.filtered;
      progress.invalid = { ...stats.rejected };
    }
    if (stream.failure) throw stream.failure;
    if (encoding.header === null) throw new CorruptFileError('file is empty (no header line)');
    if (readAhead !== null) for (const last of readAhead.end()) await records.addFrames(last);
    await records.settled();
    await deadLetters.settled();
  } catch (err) {
    await records.dispose();
    await deadLetters.dispose();
    body.destroy();
    const cause = stream.failure ?? err;
    if (cause instanceof CorruptFileError) throw cause;
    if (isZlibError(cause)) throw new CorruptFileError(`corrupt or truncated gzip: ${(cause as Error).message}`);
    if ((cause as Error).name === 'HeaderError') throw new CorruptFileError(`bad header: ${(cause as Error).message}`);
    throw cause;
  }
  return { records, deadLetters, maxEventTimeNs, etag, tradeTimes: tradeTimes?.seal() ?? null };
}

/** The trade times of an option-trades file that is not produced in this run (its quotes file is). */
export async function readTradeTimes(file: PlannedFile, source: FlatFileSource, s: IngestSettings): Promise<TradeTimes> {
  const opened = await source.open(file.key);
  const parser = new FlatFileParser({ dataset: file.dataset, origin: file.key, universe: s.universe, rootMap: s.rootMap });
  const times = new TradeTimes();
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  const stream: { failure: Error | null } = { failure: null };
  pipeline(opened.body, gunzip, (err) => {
    if (err) stream.failure = err;
  });
  const absorb = (records: readonly MarketRecord[]): void => {
    for (const r of records) times.add(r.ticker, r.sip_timestamp);
  };
  for await (const chunk of gunzip) absorb(parser.push(chunk as Buffer).records);
  if (stream.failure) throw stream.failure;
  absorb(parser.finish().records);
  return times.seal();
}

/** One open chunk of the day's output: its messages packed per topic, packed hashes per file, item count. */
class Chunk {
  constructor(private readonly memory: RunMemory, private readonly partitions: KeyPartitions) {}

  /**
   * Not yet enqueued, by topic, then partition + 1: the day's merge interleaves its topics and
   * partitions, and the producer takes one partition's run in one call.
   */
  private runs = new Map<string, PackedValues[]>();
  bytes = 0;
  readonly hashes: PackedHashes[] = [];
  items = 0;
  /** The last record added: the chunk's latest event time (the day's merge is in event-time order). */
  lastRecord: EncodedRecord | null = null;
  /** Per file, the key of its last record and where it went: a file's records come in runs of a key. */
  private lastKeys: string[] = [];
  private lastValues: PackedValues[] = [];

  /** A record, its value copied from where the merge read it. */
  addRecord(file: number, topic: string, record: EncodedRecord, hi: number, lo: number): void {
    const key = record.group;
    let values = this.lastValues[file];
    if (values === undefined || this.lastKeys[file] !== key) {
      values = this.lastValues[file] = this.valuesOf(topic, key);
      this.lastKeys[file] = key;
    }
    this.added(file, values.addRecord(record), hi, lo);
  }

  add(file: number, topic: string, key: string, value: Buffer, hi: number, lo: number): void {
    this.added(file, this.valuesOf(topic, key).add(key, value), hi, lo);
  }

  private valuesOf(topic: string, key: string): PackedValues {
    const partition = this.partitions.of(topic, key);
    let byPartition = this.runs.get(topic);
    if (byPartition === undefined) this.runs.set(topic, (byPartition = []));
    return (byPartition[partition + 1] ??= new PackedValues(topic, partition, this.memory));
  }

  private added(file: number, length: number, hi: number, lo: number): void {
    this.bytes += length + 32;
    (this.hashes[file] ??= new PackedHashes()).push(hi, lo);
  }

  /** The runs to enqueue, each partition's in the order added; the chunk keeps none. */
  takeRuns(): PackedRun[] {
    const runs: PackedRun[] = [];
    for (const byPartition of this.runs.values()) for (const values of byPartition) if (values !== undefined) runs.push(values.run());
    this.runs = new Map();
    this.lastKeys = [];
    this.lastValues = [];
    this.bytes = 0;
    return runs;
  }
}

type IngestAction = Extract<FileAction, { kind: 'ingest' }>;

/** A file of the day, read and sorted, with what its checkpoint says to do. */
export interface DayFile {
  file: PlannedFile;
  action: IngestAction;
  read: ReadOutput;
  progress: FileProgress;
  /** For a re-publication: what earlier generations emitted. */
  filter: RepublishFilter | null;
  /** For an option-quote file: the reduction its sequence is decided by (null: every quote is sent). */
  reduction: QuoteReduction | null;
  /** For an option-quote file, what its checkpoint records: the trades file@ETag it is reduced by, or '' (none). */
  reducedBy?: string;
}

/** `skip`: an option quote no trade can see (quote-reduction.ts): an item of the file's sequence, not sent. */
export type DayItem = { file: number; kind: 'record'; record: EncodedRecord; skip: boolean } | { file: number; kind: 'dead'; rejection: Rejection };

/**
 * A batch of the day's merged records as columns: record i is of file `files[i]`, skipped when
 * `skips[i]` is 1. No object per record: the merge made one for each of the real-size day's 34
 * million records, and the produce phase's main thread is its limit.
 */
export class RecordBatch {
  readonly kind = 'records';

  constructor(readonly files: Uint16Array, readonly skips: Uint8Array, readonly records: EncodedRecord[] = []) {}

  /** One file's batch as it comes (no merge). */
  static of(file: number, { records, skips }: SortedBatch): RecordBatch {
    return new RecordBatch(new Uint16Array(records.length).fill(file), skips ?? new Uint8Array(records.length), records);
  }

  get length(): number {
    return this.records.length;
  }

  push(file: number, record: EncodedRecord, skip: number): void {
    this.files[this.records.length] = file;
    this.skips[this.records.length] = skip;
    this.records.push(record);
  }
}

/** One file's dead letters, in line order. */
export interface DeadLetterBatch {
  kind: 'dead';
  file: number;
  rejections: Rejection[];
}

export type DayBatch = RecordBatch | DeadLetterBatch;

type SortedBatch = SortedRecords<EncodedRecord>;

async function* sortedBatches(f: DayFile): AsyncGenerator<SortedBatch> {
  const sorted = f.read.records.batches();
  if (f.reduction === null) {
    for await (const records of sorted) yield { records, skips: null };
    return;
  }
  yield* reduceSorted(sorted, f.reduction, (r) => r.time);
}

/** One file's sorted records: the current batch, the position in it and the sort key there (null: exhausted). */
class MergeInput {
  batch: SortedBatch = { records: [], skips: null };
  index = 0;
  key: SortKey | null = null;

  constructor(readonly file: number, readonly stream: AsyncGenerator<SortedBatch>) {}

  async refill(): Promise<void> {
    const next = await this.stream.next();
    this.batch = next.done ? { records: [], skips: null } : next.value;
    this.index = 0;
    this.key = this.batch.records.length > 0 ? this.batch.records[0] : null;
  }

  /** Moves its next record to `out`; false when the batch is used up. */
  moveTo(out: RecordBatch): boolean {
    const { records, skips } = this.batch;
    const i = this.index++;
    out.push(this.file, records[i], skips === null ? 0 : skips[i]);
    if (this.index >= records.length) return false;
    this.key = records[this.index];
    return true;
  }
}

/**
 * The day's records in event-time order, in batches: a merge of the files' sorted streams by (time,
 * key, sequence), ties to the earlier dataset. Deterministic for a given set of files, though resume
 * only needs each file's own sequence to be (positions are counted per file).
 */
async function* mergedRecords(files: readonly DayFile[]): AsyncGenerator<RecordBatch> {
  if (files.length > 0xffff) throw new Error(`a day of ${files.length} files`);
  const inputs = files.map((f, i) => new MergeInput(i, sortedBatches(f)));
  const fresh = (): RecordBatch => new RecordBatch(new Uint16Array(MERGE_BATCH), new Uint8Array(MERGE_BATCH));
  try {
    for (const input of inputs) await input.refill();
    if (inputs.length === 1) {
      // nothing to merge: the file's own batches
      for (let input = inputs[0]; input.key !== null; await input.refill()) yield RecordBatch.of(input.file, input.batch);
      return;
    }
    let out = fresh();
    for (;;) {
      let best = -1;
      for (let i = 0; i < inputs.length; i++) {
        const key = inputs[i].key;
        if (key !== null && (best < 0 || compareKeys(key, inputs[best].key!) < 0)) best = i;
      }
      if (best < 0) break;
      if (!inputs[best].moveTo(out)) await inputs[best].refill();
      if (out.length >= MERGE_BATCH) {
        yield out;
        out = fresh();
      }
    }
    if (out.length > 0) yield out;
  } finally {
    await Promise.all(inputs.map((input) => input.stream.return(undefined)));
  }
}

/** The day's output sequence, in batches: merged records, then each file's dead letters in line order. */
export async function* dayBatches(files: readonly DayFile[]): AsyncGenerator<DayBatch> {
  yield* mergedRecords(files);
  for (const [file, f] of files.entries()) {
    for await (const rejections of f.read.deadLetters.batches()) yield { kind: 'dead', file, rejections };
  }
}

/** The same sequence, an object per item: for readers that want them (the bench's pure core, tests). */
export async function* daySequence(files: readonly DayFile[]): AsyncGenerator<DayItem[]> {
  for await (const batch of dayBatches(files)) {
    if (batch.kind === 'dead') yield batch.rejections.map((rejection): DayItem => ({ file: batch.file, kind: 'dead', rejection }));
    else yield batch.records.map((record, i): DayItem => ({ file: batch.files[i], kind: 'record', record, skip: batch.skips[i] === 1 }));
  }
}

function deadLetterOf(file: PlannedFile, r: Rejection): DeadLetter {
  return {
    reason: r.reason, detail: r.detail, origin: file.key, position: BigInt(r.lineNumber), partition: null, event_time: null,
    raw: Buffer.from(r.raw, 'latin1'), recorded_at_ms: BigInt(Date.now()),
  };
}

/** Per file of the day: its checkpoint as it advances, dedupe filter, serdes, position in its own sequence. */
interface FileCursor {
  day: DayFile;
  checkpoint: FileCheckpoint;
  filter: RepublishFilter | null;
  topic: string;
  dlqSerde: TopicSerde<DeadLetter>;
  position: number;
}

function cursorOf(day: DayFile, ports: IngestPorts): FileCursor {
  const { file, action, read, progress, filter } = day;
  const checkpoint: FileCheckpoint = {
    key: file.key, etag: read.etag, status: 'in_progress', generation: action.generation, position: action.resumeFrom,
    ...action.resumed, ...(day.reducedBy !== undefined ? { reducedBy: day.reducedBy } : {}), priorEmitted: action.priorEmitted, updatedAtMs: Date.now(), maxEventTimeNs: read.maxEventTimeNs?.toString(),
  };
  progress.itemsTotal = read.records.stats.records + read.deadLetters.stats.records;
  progress.itemsDone = action.resumeFrom;
  progress.phase = 'producing';
  progress.phaseStartedAtMs = Date.now();
  progress.readSeconds = (progress.phaseStartedAtMs - progress.startedAtMs) / 1000;
  if (action.resumeFrom > progress.itemsTotal) throw new Error(`${file.key}: checkpoint position ${action.resumeFrom} is past the file's ${progress.itemsTotal} items`);
  return { day, checkpoint, filter, topic: ports.serdeFor(file.dataset).topic, dlqSerde: ports.deadLetterSerdeFor(file.dataset), position: 0 };
}

/** Counts the file's next item; false when an interrupted run already committed it. */
function advance(cursor: FileCursor): boolean {
  cursor.position++;
  return cursor.position > cursor.day.action.resumeFrom;
}

/** An item an earlier generation emitted (a re-publication): counted, and an item of the chunk all the same. */
function isDuplicate(cursor: FileCursor, hi: number, lo: number): boolean {
  if (cursor.filter === null || cursor.filter.isNew(hi, lo)) return false;
  cursor.day.progress.duplicates++;
  return true;
}

/** Adds a record to the chunk unless an interrupted run committed it or it is skipped (quote reduction); false then. */
function addRecord(cursor: FileCursor, file: number, record: EncodedRecord, skip: boolean, chunk: Chunk): boolean {
  if (!advance(cursor)) return false;
  if (skip) {
    cursor.day.progress.quotesSkipped++;
    return false;
  }
  if (!isDuplicate(cursor, record.hashHi, record.hashLo)) {
    chunk.addRecord(file, cursor.topic, record, record.hashHi, record.hashLo);
    cursor.checkpoint.producedRecords++;
    cursor.day.progress.produced++;
  }
  chunk.lastRecord = record;
  chunk.items++;
  return true;
}

/** Adds a dead letter to the chunk unless an interrupted run committed it; false then. */
function addDeadLetter(cursor: FileCursor, file: number, rejection: Rejection, chunk: Chunk): boolean {
  if (!advance(cursor)) return false;
  const [hi, lo] = hash64(deadLetterKey(rejection.reason, rejection.raw));
  if (!isDuplicate(cursor, hi, lo)) {
    chunk.add(file, cursor.dlqSerde.topic, cursor.day.file.key, cursor.dlqSerde.encode(deadLetterOf(cursor.day.file, rejection)), hi, lo);
    cursor.checkpoint.deadLetters++;
    cursor.day.progress.deadLetters++;
  }
  chunk.items++;
  return true;
}

/**
 * Produces the day's merged sequence from each file's checkpointed position on, in transactions;
 * returns each file's final checkpoint. Every transaction that carries records also carries a
 * marker (last record's time − 1 ns) to every partition of the day's topics, so a processor's
 * watermark follows the backfill closely and never passes a record of the day not yet sent.
 */
export async function produceDay(files: readonly DayFile[], s: IngestSettings, ports: IngestPorts): Promise<FileResult[]> {
  const cursors = files.map((f) => cursorOf(f, ports));
  const memory = new RunMemory(SEND_BATCH_BYTES + (64 << 10), 4096);
  const partitions = new KeyPartitions(new Map([...ports.markerPartitions].map(([topic, list]) => [topic, list.length])));
  const txn = new DayTransactions(ports, cursors, memory);
  let chunk = new Chunk(memory, partitions);
  const sendDue = (): boolean => chunk.bytes >= SEND_BATCH_BYTES && !txn.committing;
  const commitDue = (): boolean => chunk.items >= s.transactionRecords;
  /** Checked per item without an await (a microtask each, 34 million a day); `flow` only when it holds. */
  const full = (): boolean => sendDue() || commitDue();
  /** The chunk's messages sent once it holds enough bytes, and it committed once it holds enough items. */
  const flow = async (): Promise<void> => {
    if (sendDue()) await txn.send(chunk);
    if (commitDue()) {
      await txn.committed();
      txn.commit(chunk, false);
      chunk = new Chunk(memory, partitions);
    }
  };
  let started = false;
  for await (const batch of dayBatches(files)) {
    if (batch.kind === 'dead') {
      for (const rejection of batch.rejections) if (addDeadLetter(cursors[batch.file], batch.file, rejection, chunk) && full()) await flow();
      continue;
    }
    const { records, files: fileOf, skips } = batch;
    if (!started && records.length > 0) {
      await txn.markersOnly(records[0].time - 1n);
      started = true;
    }
    for (let i = 0; i < records.length; i++) {
      const file = fileOf[i];
      if (addRecord(cursors[file], file, records[i], skips[i] === 1, chunk) && full()) await flow();
    }
  }
  await txn.committed();
  txn.commit(chunk, true);
  await txn.committed();
  return cursors.map((c) => ({ checkpoint: c.checkpoint, vanished: c.filter?.vanished() ?? 0 }));
}

async function priorFilter(file: PlannedFile, action: IngestAction, priorHashes: IngestPorts['priorHashes']): Promise<RepublishFilter> {
  const prior = await priorHashes(file.key, action.generation);
  if (prior.size !== action.priorEmitted) {
    throw new CorruptFileError(
      `re-publication of ${file.key}: found ${prior.size} dedupe hashes of earlier versions, expected ${action.priorEmitted} ` +
        '(expired from the hashes topic?); refusing to re-ingest rather than duplicate records',
    );
  }
  return new RepublishFilter(prior);
}

/**
 * The transaction of the current chunk: opened lazily, sub-batches enqueued as they fill. A commit
 * runs while the next chunk is merged: it waits on the broker (every message acknowledged, then the
 * transaction's markers written) for as long as the merge takes, so the merge fills that wait
 * (bench:flatfile: the main thread was idle 27% of the produce phase). Messages can only be produced
 * into the next transaction once this one is committed, so the next chunk collects them until then.
 */
class DayTransactions {
  private open = false;
  /** The commit in flight, or one that failed: its failure surfaces at the next committed(). */
  private inFlight: Promise<void> | null = null;

  constructor(private readonly ports: IngestPorts, private readonly cursors: readonly FileCursor[], private readonly memory: RunMemory) {}

  /** A transaction of nothing but markers. */
  async markersOnly(watermark: bigint): Promise<void> {
    await this.ports.producer.inTransaction(this.markers(watermark));
  }

  private markers(watermark: bigint): OutgoingMessage[] {
    return [...this.ports.markerPartitions].flatMap(([topic, partitions]) => markerMessages(topic, partitions, watermark));
  }

  private async begin(): Promise<void> {
    if (this.open) return;
    await this.ports.producer.begin();
    this.open = true;
  }

  async send(chunk: Chunk): Promise<void> {
    if (chunk.bytes === 0) return;
    await this.begin();
    const runs = chunk.takeRuns();
    try {
      for (const run of runs) {
        await this.ports.producer.enqueuePacked(run);
        this.memory.giveBack(run);
      }
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  get committing(): boolean {
    return this.inFlight !== null;
  }

  /** Waits for the commit in flight; throws its failure. */
  async committed(): Promise<void> {
    const inFlight = this.inFlight;
    if (inFlight === null) return;
    try {
      await inFlight;
    } finally {
      this.inFlight = null;
    }
  }

  /**
   * Starts committing the chunk with every file's checkpoint (all `done` when `last`), hashes and
   * markers, as of now: the checkpoints' positions are taken before this returns, so the caller may go
   * on adding items to a new chunk. Call committed() first: one commit at a time.
   */
  commit(chunk: Chunk, last: boolean): void {
    if (this.inFlight !== null) throw new Error('DayTransactions.commit: a commit is already in flight');
    const inFlight = this.commitWith(chunk, this.stateMessages(chunk, last));
    this.inFlight = inFlight;
    // Done: sends may resume. Failed: kept, for committed() to throw.
    inFlight.then(
      () => {
        if (this.inFlight === inFlight) this.inFlight = null;
      },
      () => undefined,
    );
  }

  private async commitWith(chunk: Chunk, state: OutgoingMessage[]): Promise<void> {
    await this.send(chunk);
    await this.begin();
    try {
      await this.ports.producer.enqueue(state);
      await this.ports.producer.commit();
    } catch (err) {
      await this.abort();
      throw err;
    } finally {
      this.open = false;
    }
    for (const c of this.cursors) c.day.progress.itemsDone = c.checkpoint.position;
    this.ports.onCommit?.(this.cursors.map((c) => c.checkpoint));
  }

  private stateMessages(chunk: Chunk, last: boolean): OutgoingMessage[] {
    const state = this.ports.stateTopics;
    const now = Date.now();
    const out: OutgoingMessage[] = [];
    for (const [i, c] of this.cursors.entries()) {
      c.checkpoint.position = Math.max(c.position, c.day.action.resumeFrom);
      if (last) c.checkpoint.status = 'done';
      c.checkpoint.updatedAtMs = now;
      out.push({ topic: state.progress, key: c.day.file.key, value: encodeCheckpoint(c.checkpoint) });
      for (const value of chunk.hashes[i]?.messages() ?? []) out.push({ topic: state.hashes, key: c.day.file.key, value, headers: { [GENERATION_HEADER]: String(c.checkpoint.generation) } });
    }
    if (chunk.lastRecord !== null) out.push(...this.markers(chunk.lastRecord.time - 1n));
    return out;
  }

  private async abort(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.ports.producer.abort().catch(() => undefined);
  }
}

/**
 * Opens and reads (gunzip, parse, sort) one file of a day, unless its checkpoint says skip. Throws
 * CorruptFileError for a file that cannot be read as published; `filesInDay` shares the sort memory.
 */
export interface DayFileReader {
  source: FlatFileSource;
  /** The registered schema id of the file's topic (its values' wire header). */
  schemaId: number;
  /** Where the file's rows are parsed and encoded: this thread (encodeInline) or an EncodingPool. */
  encoding(spec: EncodingSpec): FileEncoding;
  decide(servedEtag: string): FileAction;
  priorHashes: IngestPorts['priorHashes'];
}

/**
 * `dayReduction`: for an option-quote file, the reduction the day offers (null: none). A resumed
 * file keeps the reduction its checkpoint records, whatever the configuration says now: positions
 * count items of the reduced (or unreduced) sequence. `collectTrades`: gather the trade times of an
 * option-trades file.
 */
export async function readDayFile(
  file: PlannedFile, reader: DayFileReader, s: IngestSettings, progress: FileProgress, filesInDay: number,
  options: { collectTrades?: boolean; dayReduction?: DayReduction | null } = {},
): Promise<DayFile | { skipped: string }> {
  const opened = await reader.source.open(file.key);
  const action = reader.decide(opened.etag);
  if (action.kind === 'skip') {
    opened.body.destroy();
    return { skipped: action.reason };
  }
  let filter: RepublishFilter | null;
  let reduction: DayReduction | null = null;
  const isQuotes = file.dataset.kind === 'OptionQuote';
  try {
    if (isQuotes) reduction = reductionFor(file, action, options.dayReduction ?? null);
    filter = action.dedupe ? await priorFilter(file, action, reader.priorHashes) : null;
  } catch (err) {
    opened.body.destroy();
    throw err;
  }
  progress.bytesTotal = opened.size || file.size;
  const share = { ...s, sortMemoryRecords: Math.max(1, Math.floor(s.sortMemoryRecords / Math.max(1, filesInDay))) };
  const encoding = reader.encoding({
    dataset: file.dataset, origin: file.key, universe: s.universe, rootMap: s.rootMap, schemaId: reader.schemaId, reduction: reduction?.reduction ?? null,
    readAhead: reduction?.readAhead ?? false,
  });
  const readAhead = reduction?.readAhead ? new ReadAheadJoin(reduction.reduction) : null;
  const read = await readFile(opened.body, opened.etag, share, progress, encoding, options.collectTrades ?? false, readAhead);
  log.info('file_read', {
    file: file.key, seconds: (Date.now() - progress.phaseStartedAtMs) / 1000, records: read.records.stats.records,
    dead_letters: read.deadLetters.stats.records, spilled_runs: read.records.stats.runs, resume_from: action.resumeFrom,
    ...(isQuotes ? { reduced_by: reduction?.by ?? '', quotes_skipped_at_read: progress.quotesSkipped } : {}),
  });
  return { file, action, read, progress, filter, reduction: reduction?.reduction ?? null, ...(isQuotes ? { reducedBy: reduction?.by ?? '' } : {}) };
}

/** The reduction of a quote file: the day's, unless an interrupted run of this generation recorded another. */
function reductionFor(file: PlannedFile, action: IngestAction, offered: DayReduction | null): DayReduction | null {
  if (action.resumeFrom === 0) return offered;
  const recorded = action.reducedBy ?? '';
  if (recorded === '') return null;
  if (offered?.by === recorded) return offered;
  if (offered?.readAhead && offered.by === recorded + READ_AHEAD_TAG) return { ...offered, by: recorded, readAhead: false };
  throw new Error(
    `${file.key}: the interrupted run reduced its option quotes by the trades of ${recorded}, ` +
      `now ${offered ? `the trades are ${offered.by}` : 'no reduction is offered (massive.reduce_option_quotes off, or no option-trades file in this run)'}; ` +
      'resume with the same trades file and reduce_option_quotes on',
  );
}

export async function disposeDay(files: readonly DayFile[]): Promise<void> {
  for (const f of files) {
    await f.read.records.dispose();
    await f.read.deadLetters.dispose();
  }
}

/** Records a file as failed (its own transaction; nothing else in it). */
export async function commitFailure(ports: IngestPorts, checkpoint: FileCheckpoint): Promise<void> {
  await ports.producer.inTransaction([{ topic: ports.stateTopics.progress, key: checkpoint.key, value: encodeCheckpoint(checkpoint) }]);
}

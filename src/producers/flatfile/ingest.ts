/**
 * One file, end to end:
 *   1. read:    source body → gunzip → parser (universe filter, normalise) → ExternalSorter
 *               (records) and a spill-backed list (dead letters). Nothing is produced yet, so a
 *               corrupt or truncated gzip fails the file with no output at all.
 *   2. produce: the sorted records, then the dead letters, in transactions of
 *               massive.transaction_records items; each transaction also carries the chunk's dedupe
 *               hashes and the file's checkpoint (checkpoint.ts), so a kill at any point leaves either
 *               the whole chunk and its checkpoint or neither.
 * Memory is bounded by the sorter (spills past massive.sort_memory_records) and one chunk.
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Message, Producer, TopicMessages } from 'kafkajs';
import type { TopicSerde } from '../../avro/serde';
import { typeOf } from '../../avro/types';
import type { DeadLetter } from '../../domain/records';
import { encodeCheckpoint, type FileAction, type FileCheckpoint } from './checkpoint';
import { dedupeKey, deadLetterKey, hash64, RepublishFilter, type HashMultiset } from './dedupe';
import type { Dataset } from './datasets';
import type { MarketRecord } from './normalise';
import { avroCodec, ExternalSorter, marketSortKey } from './order';
import type { PlannedFile } from './planner';
import type { FileProgress } from './progress';
import type { RootMap } from './opra-lite';
import { FlatFileParser, type Rejection } from './rows';
import type { FlatFileSource } from './source';
import { GENERATION_HEADER, type StateTopics } from './state';
import type { Universe } from './universe';
import { logger } from '../../util/log';

const log = logger('flatfile');

export interface IngestSettings {
  universe: Universe;
  rootMap: RootMap;
  sortMemoryRecords: number;
  spillDir?: string;
  transactionRecords: number;
}

export interface IngestPorts {
  source: FlatFileSource;
  producer: Producer;
  stateTopics: StateTopics;
  serdeFor(dataset: Dataset): TopicSerde<MarketRecord>;
  deadLetterSerdeFor(dataset: Dataset): TopicSerde<DeadLetter>;
  /** Hashes of earlier generations (only called for a re-publication). */
  priorHashes(fileKey: string, generation: number): Promise<HashMultiset>;
  /** After each committed transaction, with the checkpoint it committed. */
  onCommit?(checkpoint: FileCheckpoint): void;
}

/** A file that can never be read as published (bad gzip, bad header): failing it again is pointless. */
export class CorruptFileError extends Error {}

export interface IngestResult {
  checkpoint: FileCheckpoint;
  maxEventTimeNs: bigint | null;
  vanished: number;
}

interface ReadOutput {
  records: ExternalSorter<MarketRecord>;
  deadLetters: ExternalSorter<Rejection>;
  maxEventTimeNs: bigint | null;
  etag: string;
}

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

async function readFile(file: PlannedFile, body: Readable, etag: string, s: IngestSettings, progress: FileProgress): Promise<ReadOutput> {
  const records = new ExternalSorter<MarketRecord>({
    key: marketSortKey, codec: avroCodec(typeOf(file.dataset.kind)), maxRecordsInMemory: s.sortMemoryRecords, tmpDir: s.spillDir,
  });
  const deadLetters = new ExternalSorter<Rejection>({
    key: () => ({ group: '', time: 0n, seq: null }), codec: rejectionCodec(), maxRecordsInMemory: 100_000, tmpDir: s.spillDir,
    estimateBytes: (r) => 100 + r.raw.length * 2,
  });
  const parser = new FlatFileParser({ dataset: file.dataset, origin: file.key, universe: s.universe, rootMap: s.rootMap });
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  let maxEventTimeNs: bigint | null = null;
  const stream: { failure: Error | null } = { failure: null };
  pipeline(body, byteMeter((n) => (progress.bytesRead += n)), gunzip, (err) => {
    if (err) stream.failure = err;
  });
  try {
    const absorb = async (batch: { records: MarketRecord[]; rejections: Rejection[] }): Promise<void> => {
      for (const r of batch.records) {
        if (maxEventTimeNs === null || r.sip_timestamp > maxEventTimeNs) maxEventTimeNs = r.sip_timestamp;
        await records.add(r);
      }
      for (const rejection of batch.rejections) await deadLetters.add(rejection);
      progress.csvBytes = parser.stats.bytes;
      progress.rowsRead = Math.max(0, parser.stats.lines - 1);
      progress.filtered = parser.stats.filtered;
      progress.invalid = { ...parser.stats.rejected };
    };
    for await (const chunk of gunzip) await absorb(parser.push(chunk as Buffer));
    if (stream.failure) throw stream.failure;
    await absorb(parser.finish());
    if (parser.header === null) throw new CorruptFileError('file is empty (no header line)');
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
  return { records, deadLetters, maxEventTimeNs, etag };
}

/** One open chunk of the output sequence: messages per topic, packed hashes, item count. */
class Chunk {
  messages = new Map<string, Message[]>();
  bytes = 0;
  hashes: number[] = [];
  items = 0;

  add(topic: string, message: Message, hi: number, lo: number): void {
    const list = this.messages.get(topic) ?? [];
    list.push(message);
    this.messages.set(topic, list);
    this.bytes += (message.value as Buffer).length + 32;
    this.hashes.push(hi, lo);
  }

  packedHashes(): Buffer {
    const buf = Buffer.allocUnsafe(this.hashes.length * 4);
    for (let i = 0; i < this.hashes.length; i++) buf.writeUInt32BE(this.hashes[i], i * 4);
    return buf;
  }
}

type Item = { kind: 'record'; record: MarketRecord } | { kind: 'dead'; rejection: Rejection };

async function* sequenceOf(read: ReadOutput): AsyncGenerator<Item> {
  for await (const record of read.records.sorted()) yield { kind: 'record', record };
  for await (const rejection of read.deadLetters.sorted()) yield { kind: 'dead', rejection };
}

function deadLetterOf(file: PlannedFile, r: Rejection): DeadLetter {
  return {
    reason: r.reason, detail: r.detail, origin: file.key, position: BigInt(r.lineNumber), partition: null, event_time: null,
    raw: Buffer.from(r.raw, 'latin1'), recorded_at_ms: BigInt(Date.now()),
  };
}

/** Produces the sequence from `action.resumeFrom` on, in transactions; returns the final checkpoint. */
async function produceSequence(file: PlannedFile, read: ReadOutput, action: Extract<FileAction, { kind: 'ingest' }>, s: IngestSettings, ports: IngestPorts, progress: FileProgress): Promise<{ checkpoint: FileCheckpoint; vanished: number }> {
  const filter = action.dedupe ? await priorFilter(file, action, ports) : null;
  const serde = ports.serdeFor(file.dataset);
  const dlqSerde = ports.deadLetterSerdeFor(file.dataset);
  const checkpoint: FileCheckpoint = {
    key: file.key, etag: read.etag, status: 'in_progress', generation: action.generation, position: action.resumeFrom,
    ...action.resumed, priorEmitted: action.priorEmitted, updatedAtMs: Date.now(),
    maxEventTimeNs: read.maxEventTimeNs?.toString(),
  };
  progress.itemsTotal = read.records.stats.records + read.deadLetters.stats.records;
  progress.itemsDone = action.resumeFrom;
  if (action.resumeFrom > progress.itemsTotal) throw new Error(`${file.key}: checkpoint position ${action.resumeFrom} is past the file's ${progress.itemsTotal} items`);
  let chunk = new Chunk();
  const txn = new ChunkTransactions(ports, file, action.generation);
  let position = 0;
  for await (const item of sequenceOf(read)) {
    const text = item.kind === 'record' ? dedupeKey(item.record) : deadLetterKey(item.rejection.reason, item.rejection.raw);
    const [hi, lo] = hash64(text);
    const isNew = filter === null || filter.isNew(hi, lo);
    position++;
    if (position <= action.resumeFrom) continue;
    if (!isNew) progress.duplicates++;
    else if (item.kind === 'record') {
      chunk.add(serde.topic, { key: marketSortKey(item.record).group, value: serde.encode(item.record) }, hi, lo);
      checkpoint.producedRecords++;
      progress.produced++;
    } else {
      chunk.add(dlqSerde.topic, { key: file.key, value: dlqSerde.encode(deadLetterOf(file, item.rejection)) }, hi, lo);
      checkpoint.deadLetters++;
      progress.deadLetters++;
    }
    chunk.items++;
    if (chunk.bytes >= SEND_BATCH_BYTES) await txn.send(chunk);
    if (chunk.items >= s.transactionRecords) {
      checkpoint.position = position;
      await txn.commit(chunk, checkpoint);
      progress.itemsDone = position;
      chunk = new Chunk();
    }
  }
  checkpoint.position = position;
  checkpoint.status = 'done';
  await txn.commit(chunk, checkpoint);
  progress.itemsDone = position;
  return { checkpoint, vanished: filter?.vanished() ?? 0 };
}

async function priorFilter(file: PlannedFile, action: Extract<FileAction, { kind: 'ingest' }>, ports: IngestPorts): Promise<RepublishFilter> {
  const prior = await ports.priorHashes(file.key, action.generation);
  if (prior.size !== action.priorEmitted) {
    throw new CorruptFileError(
      `re-publication of ${file.key}: found ${prior.size} dedupe hashes of earlier versions, expected ${action.priorEmitted} ` +
        '(expired from the hashes topic?); refusing to re-ingest rather than duplicate records',
    );
  }
  return new RepublishFilter(prior);
}

/** The transaction of the current chunk: opened lazily, sub-batches sent as they fill. */
class ChunkTransactions {
  private open: Awaited<ReturnType<Producer['transaction']>> | null = null;

  constructor(private readonly ports: IngestPorts, private readonly file: PlannedFile, private readonly generation: number) {}

  async send(chunk: Chunk): Promise<void> {
    if (chunk.messages.size === 0) return;
    this.open ??= await this.ports.producer.transaction();
    const topicMessages = [...chunk.messages].map(([topic, messages]) => ({ topic, messages }));
    chunk.messages = new Map();
    chunk.bytes = 0;
    try {
      await this.open.sendBatch({ acks: -1, topicMessages });
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  async commit(chunk: Chunk, checkpoint: FileCheckpoint): Promise<void> {
    await this.send(chunk);
    this.open ??= await this.ports.producer.transaction();
    checkpoint.updatedAtMs = Date.now();
    const state = this.ports.stateTopics;
    const topicMessages: TopicMessages[] = [{ topic: state.progress, messages: [{ key: this.file.key, value: encodeCheckpoint(checkpoint) }] }];
    if (chunk.hashes.length > 0) {
      const headers = { [GENERATION_HEADER]: String(this.generation) };
      topicMessages.push({ topic: state.hashes, messages: [{ key: this.file.key, value: chunk.packedHashes(), headers }] });
    }
    try {
      await this.open.sendBatch({ acks: -1, topicMessages });
      await this.open.commit();
    } catch (err) {
      await this.abort();
      throw err;
    } finally {
      this.open = null;
    }
    this.ports.onCommit?.(checkpoint);
  }

  private async abort(): Promise<void> {
    const open = this.open;
    this.open = null;
    await open?.abort().catch(() => undefined);
  }
}

/**
 * Reads, sorts and produces one file. Throws CorruptFileError for a file that cannot be read as
 * published (the caller records it as failed); any other error leaves the last committed checkpoint.
 */
export async function ingestFile(file: PlannedFile, decide: (servedEtag: string) => FileAction, s: IngestSettings, ports: IngestPorts, progress: FileProgress): Promise<IngestResult | { skipped: string }> {
  const opened = await ports.source.open(file.key);
  const action = decide(opened.etag);
  if (action.kind === 'skip') {
    opened.body.destroy();
    return { skipped: action.reason };
  }
  progress.bytesTotal = opened.size || file.size;
  const read = await readFile(file, opened.body, opened.etag, s, progress);
  log.info('file_read', {
    file: file.key, seconds: (Date.now() - progress.phaseStartedAtMs) / 1000, records: read.records.stats.records,
    dead_letters: read.deadLetters.stats.records, spilled_runs: read.records.stats.runs, resume_from: action.resumeFrom,
  });
  progress.phase = 'producing';
  progress.phaseStartedAtMs = Date.now();
  try {
    const { checkpoint, vanished } = await produceSequence(file, read, action, s, ports, progress);
    return { checkpoint, maxEventTimeNs: read.maxEventTimeNs, vanished };
  } finally {
    await read.records.dispose();
    await read.deadLetters.dispose();
  }
}

/** Records a file as failed (its own transaction; nothing else in it). */
export async function commitFailure(ports: IngestPorts, checkpoint: FileCheckpoint): Promise<void> {
  const txn = await ports.producer.transaction();
  try {
    await txn.send({ topic: ports.stateTopics.progress, acks: -1, messages: [{ key: checkpoint.key, value: encodeCheckpoint(checkpoint) }] });
    await txn.commit();
  } catch (err) {
    await txn.abort().catch(() => undefined);
    throw err;
  }
}

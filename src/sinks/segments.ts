import { Logger } from '../util/log';
import { Destination, PublishOutcome } from './parquet/destination';
import { addToStats, emptyStats, eventTimeOf, HiveDirs, PartitionColumn, PartitionedRecord, sealAtMarker, sealBefore, segmentFileName, SegmentLimits, SegmentStats, UtcDays } from './parquet/layout';

/**
 * The sink's exactly-once protocol, independent of the file format and of the consumer-group loop.
 * Each Kafka partition fills one segment at a time: a contiguous offset range written as one file per
 * Hive directory, named by topic, partition, first offset (and generation). Exactly-once effect by a
 * seal in the consumer group's offset metadata:
 *
 *   1. seal:    commit offset = segment start, metadata {"seal": end}   (the boundary is now durable)
 *   2. publish: write each file under a temporary name, then publish it (Destination: rename / upload;
 *               a newer generation replaces its partition directory)
 *   3. advance: commit offset = end
 *
 * A member that restarts (or takes over the partition) finds the seal and rebuilds exactly
 * [start, end), replacing the same files with identical ones; without a seal nothing of the segment
 * was published. Boundaries come from the records (count, bytes, event-time span, UTC day, generation,
 * a watermark marker past the segment's day) or from idleness; the seal makes even an idle (wall-clock)
 * flush replay identically, and a zombie member cannot seal: its commit is rejected once the group
 * has moved on.
 *
 * A new sink type is a FileFormat plus a declaration. The interface with the consumer-group loop is
 * narrow: the loop creates one PartitionSegments per assigned partition with the committed offset and
 * metadata (`resumeFrom` says where to seek), hands it every record in offset order (`record`,
 * `marker`, `skip`), calls `flushIfIdle` from a timer and `flush` on a graceful stop, `abort` on a
 * rebalance; the protocol calls back only `SegmentHost.commit`. All calls for a partition are
 * serialised by the loop.
 */

/** One file being written: rows in, a complete file at `stagingPath` on close. */
export interface FileWriter {
  append(record: object): void;
  close(): Promise<{ rows: number; bytes: number }>;
  abort(): Promise<void>;
}

/** A file format: how a segment's file is written (e.g. ParquetFormat). */
export interface FileFormat {
  open(stagingPath: string, metadata: Record<string, string>): Promise<FileWriter>;
}

/** What the protocol needs from the consumer-group loop. */
export interface SegmentHost {
  /** Commits the partition's offset with metadata (rejected for a member the group has moved past). */
  commit(partition: number, offset: bigint, metadata: string | null): Promise<void>;
}

export interface SegmentContext {
  /** Logical topic name (file names). */
  topic: string;
  /** Physical topic name (file metadata). */
  physicalTopic: string;
  destination: Destination;
  /** Hive partition columns of the lake (SinkSpec.partitionBy). */
  partitionBy: readonly PartitionColumn[];
  format: FileFormat;
  limits: SegmentLimits;
  host: SegmentHost;
  log: Logger;
  /** Counts what a flush published. */
  onPublished(outcome: PublishOutcome, rows: number): void;
  onSegment(rows: number): void;
}

interface OpenFile {
  writer: FileWriter;
  staging: string;
  relative: string;
  generation: number;
}

/** The committed state of a partition as the protocol reads it. */
export function parseCommitted(offset: bigint, metadata: string | null | undefined): { start: bigint; sealedEnd?: bigint } {
  const seal = metadata ? (JSON.parse(metadata) as { seal?: string }).seal : undefined;
  return { start: offset, sealedEnd: seal !== undefined ? BigInt(seal) : undefined };
}

export class PartitionSegments {
  private start: bigint;
  private sealedEnd?: bigint;
  private nextOffset: bigint;
  private stats: SegmentStats = emptyStats();
  private readonly files = new Map<string, OpenFile>();
  private readonly dirs: HiveDirs;
  private readonly days = new UtcDays();
  private lastActivityMs = Date.now();

  /** `start`: the committed offset (or the partition's first); `sealedEnd`: a seal found with it. */
  constructor(
    private readonly ctx: SegmentContext,
    readonly partition: number,
    start: bigint,
    sealedEnd?: bigint,
  ) {
    this.start = start;
    this.sealedEnd = sealedEnd;
    this.nextOffset = start;
    this.dirs = new HiveDirs(ctx.partitionBy);
  }

  /** Where the loop must seek the partition to. */
  get resumeFrom(): bigint {
    return this.start;
  }

  /** Whether the offset was already handled (a batch fetched before the seek). */
  seen(offset: bigint): boolean {
    return offset < this.nextOffset;
  }

  /** A decoded record at `offset` (`bytes`: its encoded size). */
  async record(offset: bigint, record: PartitionedRecord, bytes: number): Promise<void> {
    if (this.seen(offset)) return;
    if (this.sealedEnd !== undefined && offset >= this.sealedEnd) await this.flush(this.sealedEnd);
    this.lastActivityMs = Date.now();
    const eventTime = eventTimeOf(record);
    const day = this.days.of(eventTime);
    const generation = record.generation ?? 0;
    if (this.sealedEnd === undefined && sealBefore(this.stats, bytes, eventTime, day, this.ctx.limits, generation)) await this.flush(offset);
    const dir = this.dirs.of(record, day);
    const file = this.files.get(dir) ?? (await this.open(dir, generation));
    file.writer.append(record);
    addToStats(this.stats, bytes, eventTime, day, generation);
    this.nextOffset = offset + 1n;
    if (this.sealedEnd !== undefined && this.nextOffset >= this.sealedEnd) await this.flush(this.sealedEnd);
  }

  /** A watermark marker: one past the segment's day closes it (a boundary every replay sees). */
  async marker(offset: bigint, watermark: bigint | null): Promise<void> {
    if (this.seen(offset)) return;
    if (this.sealedEnd !== undefined && offset >= this.sealedEnd) await this.flush(this.sealedEnd);
    this.lastActivityMs = Date.now();
    if (watermark !== null && this.sealedEnd === undefined && sealAtMarker(this.stats, watermark)) await this.flush(offset);
    this.nextOffset = offset + 1n;
    if (this.sealedEnd !== undefined && this.nextOffset >= this.sealedEnd) await this.flush(this.sealedEnd);
  }

  /** A record that is not written (undecodable): only the position moves. */
  async skip(offset: bigint): Promise<void> {
    await this.marker(offset, null);
  }

  /** The segment's file of a directory, opened for its first record. */
  private async open(dir: string, generation: number): Promise<OpenFile> {
    const relative = `${dir}/${segmentFileName(this.ctx.topic, this.partition, this.start, generation)}`;
    const staging = await this.ctx.destination.stagingPath(relative);
    const writer = await this.ctx.format.open(staging, {
      'optflow.topic': this.ctx.physicalTopic,
      'optflow.partition': String(this.partition),
      'optflow.first_offset': this.start.toString(),
    });
    const file = { writer, staging, relative, generation };
    this.files.set(dir, file);
    return file;
  }

  /** Seal [start, end), publish its files, advance the committed offset to end. */
  async flush(end: bigint): Promise<void> {
    if (this.stats.records === 0 && this.files.size === 0) {
      this.start = end;
      this.sealedEnd = undefined;
      return;
    }
    if (this.sealedEnd === undefined) await this.ctx.host.commit(this.partition, this.start, JSON.stringify({ seal: end.toString() }));
    let rows = 0;
    for (const file of [...this.files.values()].sort((a, b) => (a.relative < b.relative ? -1 : 1))) {
      const result = await file.writer.close();
      const outcome = await this.ctx.destination.publish(file.staging, file.relative, file.generation);
      this.ctx.onPublished(outcome, result.rows);
      if (outcome === 'superseded') {
        this.ctx.log.info('file_superseded', { file: file.relative, rows: result.rows, generation: file.generation });
        continue;
      }
      rows += result.rows;
      this.ctx.log.info(outcome === 'replaced' ? 'partition_replaced' : 'file_published', { file: file.relative, rows: result.rows, bytes: result.bytes, generation: file.generation });
    }
    await this.ctx.host.commit(this.partition, end, null);
    this.ctx.onSegment(rows);
    this.files.clear();
    this.stats = emptyStats();
    this.start = end;
    this.sealedEnd = undefined;
  }

  /** Once the partition has been idle for `idleMs`: publishes the open segment (sealed first, as always). */
  async flushIfIdle(nowMs: number, idleMs: number): Promise<void> {
    if (this.sealedEnd !== undefined || nowMs - this.lastActivityMs < idleMs) return;
    if (this.stats.records > 0) await this.flush(this.nextOffset);
    else if (this.files.size === 0 && this.nextOffset > this.start) await this.skipEmpty();
  }

  /**
   * Only watermark markers (or skipped poison) since the last commit: nothing to publish, but the
   * committed offset moves past them, so that lag reads 0 on a partition no data is keyed to.
   */
  private async skipEmpty(): Promise<void> {
    await this.ctx.host.commit(this.partition, this.nextOffset, null);
    this.start = this.nextOffset;
  }

  /** Graceful stop: the open segment is published. */
  async flushOpen(): Promise<void> {
    if (this.stats.records > 0) await this.flush(this.sealedEnd ?? this.nextOffset);
  }

  /** Rebalance or crash: unpublished files are dropped (the next owner rebuilds from the committed state). */
  async abort(): Promise<void> {
    for (const file of this.files.values()) {
      await file.writer.abort().catch(() => undefined);
      await this.ctx.destination.discard(file.staging).catch(() => undefined);
    }
    this.files.clear();
  }
}

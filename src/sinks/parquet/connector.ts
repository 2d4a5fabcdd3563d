import { createRegistry, PoisonRecordError, TopicSerde } from '../../avro/serde';
import { loadSchema, SchemaName } from '../../avro/types';
import { Config } from '../../config';
import { Admin, createAdmin } from '../../kafka/client';
import { ConsumedRecord, PartitionEnd, TopicPartitionOffset } from '../../kafka/consumer';
import { GroupMember, TopicPartition } from '../../kafka/member';
import { ProcessMetrics } from '../../kafka/metrics';
import { logger } from '../../util/log';
import { createS3Client } from '../../util/s3';
import { Destination, LocalDestination, parseS3Url, S3Destination } from './destination';
import { addToStats, emptyStats, eventTimeOf, hiveDir, PartitionedRecord, partitionFields, sealAtMarker, sealBefore, segmentFileName, SegmentLimits, SegmentStats } from './layout';
import { markerOf } from '../../kafka/markers';
import { buildTopology, sinkSpec } from '../../../topology/topology';
import { AvroRecordSchema } from './schema';
import { ParquetFileWriter, ParquetWriterOptions } from './writer';

/**
 * Parquet sink for one topic, as a consumer group. Each Kafka partition fills one segment at a time:
 * a contiguous offset range written as one file per Hive directory, named by topic, partition and
 * first offset. Exactly-once effect by a seal in the consumer group's offset metadata:
 *
 *   1. seal:    commit offset = segment start, metadata {"seal": end}   (the boundary is now durable)
 *   2. publish: write each file under a temporary name, then rename / complete the upload
 *   3. advance: commit offset = end
 *
 * A member that restarts (or takes over the partition) finds the seal and rebuilds exactly
 * [start, end), replacing the same files with identical ones; without a seal nothing of the segment
 * was published. Boundaries come from the records (count, bytes, event-time span, UTC day, a watermark
 * marker past the segment's day) or from idleness; the seal makes even an idle (wall-clock) flush replay identically, and a
 * zombie member cannot seal: its commit is rejected once the group has moved on.
 */

const ROWS_PER_APPEND = 2048;
const log = logger('sink.parquet');

export interface ParquetSinkOptions {
  topic: string;
  out: string;
  metricsPort?: number;
}

interface OpenFile {
  writer: ParquetFileWriter;
  staging: string;
  relative: string;
  rows: object[];
}

interface PartitionState {
  partition: number;
  start: bigint;
  sealedEnd?: bigint;
  nextOffset: bigint;
  stats: SegmentStats;
  files: Map<string, OpenFile>;
  lastActivityMs: number;
}

export function destinationFor(out: string, config: Config): Destination {
  if (!out.startsWith('s3://')) return new LocalDestination(out);
  return new S3Destination(createS3Client({ endpoint: config.sink.s3_endpoint, region: config.sink.s3_region }), parseS3Url(out));
}

export class ParquetSink {
  private readonly topic: string;
  private readonly group: string;
  private serde?: TopicSerde<PartitionedRecord>;
  private member?: GroupMember;
  private admin?: Admin;
  private readonly partitions = new Map<number, PartitionState>();
  private readonly destination: Destination;
  private readonly limits: SegmentLimits;
  private readonly writerOptions: Partial<ParquetWriterOptions>;
  private readonly avroSchema: AvroRecordSchema;
  /** Wall-clock time of the last record or publish (for run-all's quiescence check). */
  lastActivityMs = Date.now();
  private readonly metrics: ProcessMetrics;
  private metricsServer?: { close(): Promise<void> };
  private readonly m;

  constructor(
    private readonly config: Config,
    private readonly schemaName: SchemaName,
    private readonly options: ParquetSinkOptions,
  ) {
    const spec = sinkSpec(buildTopology(config), options.topic, config);
    this.topic = spec.topic;
    this.group = spec.consumerGroup;
    this.destination = destinationFor(options.out.startsWith('s3://') ? options.out : `${options.out}/${options.topic}`, config);
    const s = config.sink;
    this.limits = { maxRecords: s.max_file_records, maxBytes: s.target_file_mb * 1024 * 1024, maxSpanNs: BigInt(s.max_file_span_minutes) * 60_000_000_000n };
    this.avroSchema = loadSchema(schemaName).json as unknown as AvroRecordSchema;
    this.writerOptions = {
      rowGroupRows: s.row_group_rows,
      compression: s.compression === 'SNAPPY' ? 'snappy' : 'zstd',
      omitFields: partitionFields(this.avroSchema.fields.map((f) => f.name)),
    };
    this.metrics = new ProcessMetrics({ sink: 'parquet', topic: options.topic });
    this.m = {
      records: this.metrics.counter('optflow_sink_records_total', 'records written to published files'),
      files: this.metrics.counter('optflow_sink_files_total', 'files published'),
      segments: this.metrics.counter('optflow_sink_segments_total', 'segments sealed and published'),
      poison: this.metrics.counter('optflow_sink_poison_total', 'records that could not be decoded (skipped, logged)', ['reason']),
    };
  }

  async start(): Promise<void> {
    this.serde = await TopicSerde.forTopic<PartitionedRecord>(createRegistry(this.config.schema_registry), this.topic, this.schemaName);
    this.admin = createAdmin(this.config, `sink-${this.options.topic}-admin`);
    await this.admin.connect();
    this.metricsServer = await this.metrics.serve(this.config, this.options.metricsPort);
    this.member = new GroupMember(this.config, { group: this.group, topics: [this.topic], clientSuffix: `sink-${this.options.topic}`, tickMs: 1000, sessionTimeoutMs: 15_000 });
    await this.member.start({
      assigned: (partitions) => this.assigned(partitions),
      revoked: () => this.dropAll('revoked'),
      fetched: (records, ends) => this.fetched(records, ends),
      tick: () => this.flushIdle(),
    });
    log.info('started', { topic: this.topic, group: this.group, out: this.destination.description });
  }

  private async dropAll(reason: string): Promise<void> {
    for (const state of this.partitions.values()) await this.abortFiles(state);
    if (this.partitions.size > 0) log.info('partitions_dropped', { reason, partitions: [...this.partitions.keys()] });
    this.partitions.clear();
  }

  private async assigned(partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    const starts: TopicPartitionOffset[] = [];
    for (const { partition } of partitions) starts.push({ topic: this.topic, partition, offset: (await this.stateFor(partition)).start });
    return starts;
  }

  private async stateFor(partition: number): Promise<PartitionState> {
    const existing = this.partitions.get(partition);
    if (existing) return existing;
    const [committed] = await this.member!.consumer.committed([{ topic: this.topic, partition }]);
    let start: bigint;
    let sealedEnd: bigint | undefined;
    if (committed && committed.offset !== null) {
      start = committed.offset;
      const seal = committed.metadata ? (JSON.parse(committed.metadata) as { seal?: string }).seal : undefined;
      sealedEnd = seal !== undefined ? BigInt(seal) : undefined;
    } else {
      start = (await this.member!.consumer.queryOffsets(this.topic, partition)).low;
    }
    const stale = await this.destination.discardStale(`${this.options.topic}+${partition}+`);
    if (stale > 0) log.info('stale_staging_files_removed', { partition, files: stale });
    const state: PartitionState = { partition, start, sealedEnd, nextOffset: start, stats: emptyStats(), files: new Map(), lastActivityMs: Date.now() };
    this.partitions.set(partition, state);
    log.info('partition_started', { partition, start, sealed_end: sealedEnd });
    return state;
  }

  private async fetched(records: ConsumedRecord[], _ends: PartitionEnd[]): Promise<void> {
    if (records.length > 0) this.lastActivityMs = Date.now();
    for (const record of records) {
      const state = this.partitions.get(record.partition);
      if (state) await this.handleRecord(state, record);
    }
  }

  private async handleRecord(state: PartitionState, message: ConsumedRecord): Promise<void> {
    const offset = message.offset;
    if (offset < state.nextOffset) return;
    if (state.sealedEnd !== undefined && offset >= state.sealedEnd) await this.flush(state, state.sealedEnd);
    state.lastActivityMs = Date.now();
    if (message.value === null) {
      // A marker past the segment's day closes it: a boundary every replay sees at the same offset.
      const marker = markerOf(message.value, message.headers);
      if (marker !== null && state.sealedEnd === undefined && sealAtMarker(state.stats, marker)) await this.flush(state, offset);
      state.nextOffset = offset + 1n;
      return;
    }
    let record: PartitionedRecord;
    try {
      record = await this.serde!.decode(message.value);
    } catch (err) {
      if (!(err instanceof PoisonRecordError)) throw err;
      this.m.poison.inc({ reason: err.reason });
      log.warn('poison_record_skipped', { topic: this.topic, partition: state.partition, offset, reason: err.reason, detail: err.message });
      state.nextOffset = offset + 1n;
      return;
    }
    const eventTime = eventTimeOf(record);
    if (state.sealedEnd === undefined && sealBefore(state.stats, message.value.length, eventTime, this.limits)) await this.flush(state, offset);
    await this.append(state, record);
    addToStats(state.stats, message.value.length, eventTime);
    state.nextOffset = offset + 1n;
    if (state.sealedEnd !== undefined && state.nextOffset >= state.sealedEnd) await this.flush(state, state.sealedEnd);
  }

  private async append(state: PartitionState, record: PartitionedRecord): Promise<void> {
    const dir = hiveDir(record);
    let file = state.files.get(dir);
    if (!file) {
      const relative = `${dir}/${segmentFileName(this.options.topic, state.partition, state.start)}`;
      const staging = await this.destination.stagingPath(relative);
      const writer = await ParquetFileWriter.open(staging, this.avroSchema, {
        ...this.writerOptions,
        keyValueMetadata: { 'optflow.topic': this.topic, 'optflow.partition': String(state.partition), 'optflow.first_offset': state.start.toString() },
      });
      file = { writer, staging, relative, rows: [] };
      state.files.set(dir, file);
    }
    file.rows.push(record);
    if (file.rows.length >= ROWS_PER_APPEND) {
      file.writer.appendRows(file.rows);
      file.rows = [];
    }
  }

  /** Seal [start, end), publish its files, advance the committed offset to end. */
  private async flush(state: PartitionState, end: bigint): Promise<void> {
    if (state.stats.records === 0 && state.files.size === 0) {
      state.start = end;
      state.sealedEnd = undefined;
      return;
    }
    if (state.sealedEnd === undefined) await this.commit(state.partition, state.start, JSON.stringify({ seal: end.toString() }));
    let rows = 0;
    for (const file of [...state.files.values()].sort((a, b) => (a.relative < b.relative ? -1 : 1))) {
      if (file.rows.length > 0) file.writer.appendRows(file.rows);
      const result = await file.writer.close();
      await this.destination.publish(file.staging, file.relative);
      rows += result.rows;
      this.m.files.inc();
      log.info('file_published', { file: file.relative, rows: result.rows, bytes: result.bytes });
    }
    await this.commit(state.partition, end, null);
    this.lastActivityMs = Date.now();
    this.m.records.inc(rows);
    this.m.segments.inc();
    state.files.clear();
    state.stats = emptyStats();
    state.start = end;
    state.sealedEnd = undefined;
  }

  private async commit(partition: number, offset: bigint, metadata: string | null): Promise<void> {
    this.member!.consumer.commit([{ topic: this.topic, partition, offset, metadata }]);
  }

  private async abortFiles(state: PartitionState): Promise<void> {
    for (const file of state.files.values()) {
      await file.writer.abort().catch(() => undefined);
      await this.destination.discard(file.staging).catch(() => undefined);
    }
    state.files.clear();
  }

  private async flushIdle(): Promise<void> {
    const idleMs = this.config.sink.flush_idle_seconds * 1000;
    for (const state of this.partitions.values()) {
      if (state.sealedEnd !== undefined || Date.now() - state.lastActivityMs < idleMs) continue;
      if (state.stats.records > 0) await this.flush(state, state.nextOffset);
      else if (state.files.size === 0 && state.nextOffset > state.start) await this.skipEmpty(state);
    }
  }

  /**
   * Only watermark markers (or skipped poison) since the last commit: nothing to publish, but the
   * committed offset moves past them, so that lag reads 0 on a partition no data is keyed to.
   */
  private async skipEmpty(state: PartitionState): Promise<void> {
    await this.commit(state.partition, state.nextOffset, null);
    state.start = state.nextOffset;
  }

  /** Graceful stop: publish the open segments (sealed first, as always), then leave the group. */
  async stop(): Promise<void> {
    await this.member?.exclusive(async () => {
      for (const state of this.partitions.values()) if (state.stats.records > 0) await this.flush(state, state.sealedEnd ?? state.nextOffset);
    });
    await this.member?.stop();
    await this.admin?.disconnect();
    await this.metricsServer?.close();
  }
}

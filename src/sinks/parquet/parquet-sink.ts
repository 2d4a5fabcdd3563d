import { createRegistry, PoisonRecordError, TopicSerde } from '../../avro/serde';
import { loadSchema, SchemaName } from '../../avro/types';
import { Config } from '../../config';
import { Admin, createAdmin } from '../../kafka/client';
import { requireTopics } from '../../kafka/topics';
import { ConsumedRecord, PartitionEnd, TopicPartitionOffset } from '../../kafka/consumer';
import { GroupMember, TopicPartition } from '../../kafka/member';
import { ProcessMetrics } from '../../kafka/metrics';
import { logger } from '../../util/log';
import { createS3Client } from '../../util/s3';
import { Destination, LocalDestination, parseS3Url, S3Destination } from './destination';
import { PartitionColumn, PartitionedRecord, partitionFields } from './layout';
import { markerOf } from '../../kafka/markers';
import { buildTopology, sinkSpec } from '../../../topology/topology';
import { AvroRecordSchema } from './schema';
import { ParquetFormat } from './format';
import { parseCommitted, PartitionSegments, SegmentContext } from '../segments';

/**
 * Parquet sink for one topic, as a consumer group: this file is the consumer-group loop (a GroupMember,
 * src/kafka/member.ts: assignment, decode, commit). The exactly-once segment / seal / publish protocol
 * is format-agnostic (../segments.ts), the file format is ParquetFormat (format.ts) and the destination
 * a local directory or S3 (destination.ts). The loop talks to the protocol through PartitionSegments
 * (one per assigned partition: records in offset order, idle and stop flushes, abort on rebalance) and
 * SegmentHost (commit with metadata) only.
 */

const log = logger('sink.parquet');

export interface ParquetSinkOptions {
  topic: string;
  out: string;
  metricsPort?: number;
}

export function destinationFor(out: string, config: Config): Destination {
  if (!out.startsWith('s3://')) return new LocalDestination(out);
  return new S3Destination(createS3Client({ endpoint: config.sink.s3_endpoint, region: config.sink.s3_region }), parseS3Url(out));
}

export class ParquetSink {
  private readonly topic: string;
  private readonly group: string;
  private readonly partitionBy: readonly PartitionColumn[];
  private serde?: TopicSerde<PartitionedRecord>;
  private member?: GroupMember;
  private admin?: Admin;
  private readonly partitions = new Map<number, PartitionSegments>();
  private readonly destination: Destination;
  private readonly segments: SegmentContext;
  /** Wall-clock time of the last publish (with the member's last records: run-all's quiet check). */
  private lastPublishMs = Date.now();
  private readonly metrics: ProcessMetrics;
  private metricsServer?: { close(): Promise<void> };
  private readonly meters;

  constructor(
    private readonly config: Config,
    private readonly schemaName: SchemaName,
    private readonly options: ParquetSinkOptions,
  ) {
    const spec = sinkSpec(buildTopology(config), options.topic, config);
    this.topic = spec.topic;
    this.group = spec.consumerGroup;
    this.partitionBy = spec.partitionBy;
    this.destination = destinationFor(options.out.startsWith('s3://') ? options.out : `${options.out}/${options.topic}`, config);
    this.metrics = new ProcessMetrics({ sink: 'parquet', topic: options.topic });
    this.meters = {
      records: this.metrics.counter('optflow_sink_records_total', 'records written to published files'),
      files: this.metrics.counter('optflow_sink_files_total', 'files published'),
      segments: this.metrics.counter('optflow_sink_segments_total', 'segments sealed and published'),
      publishes: this.metrics.counter('optflow_sink_publishes_total', 'file publishes by outcome: published, replaced (an older generation left the partition), superseded (a newer one is there)', ['outcome']),
      poison: this.metrics.counter('optflow_sink_poison_total', 'records that could not be decoded (skipped, logged)', ['reason']),
    };
    this.segments = this.segmentContext(loadSchema(schemaName).json as unknown as AvroRecordSchema);
  }

  private segmentContext(avroSchema: AvroRecordSchema): SegmentContext {
    const s = this.config.sink;
    return {
      topic: this.options.topic,
      physicalTopic: this.topic,
      destination: this.destination,
      partitionBy: this.partitionBy,
      format: new ParquetFormat(avroSchema, {
        rowGroupRows: s.row_group_rows,
        compression: s.compression === 'SNAPPY' ? 'snappy' : 'zstd',
        omitFields: partitionFields(avroSchema.fields.map((f) => f.name), this.partitionBy),
      }),
      limits: { maxRecords: s.max_file_records, maxBytes: s.target_file_mb * 1024 * 1024, maxSpanNs: BigInt(s.max_file_span_minutes) * 60_000_000_000n },
      host: { commit: (partition, offset, metadata) => this.commit(partition, offset, metadata) },
      log,
      onPublished: (outcome) => {
        this.meters.publishes.inc({ outcome });
        if (outcome !== 'superseded') this.meters.files.inc();
      },
      onSegment: (rows) => {
        this.lastPublishMs = Date.now();
        this.meters.records.inc(rows);
        this.meters.segments.inc();
      },
    };
  }

  async start(): Promise<void> {
    this.admin = createAdmin(this.config, `sink-${this.options.topic}-admin`);
    await this.admin.connect();
    await requireTopics(this.admin, [this.topic]);
    this.serde = await TopicSerde.forTopic<PartitionedRecord>(createRegistry(this.config.schema_registry), this.topic, this.schemaName);
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
    for (const segments of this.partitions.values()) await segments.abort();
    if (this.partitions.size > 0) log.info('partitions_dropped', { reason, partitions: [...this.partitions.keys()] });
    this.partitions.clear();
  }

  private async assigned(partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    const starts: TopicPartitionOffset[] = [];
    for (const { partition } of partitions) starts.push({ topic: this.topic, partition, offset: (await this.segmentsFor(partition)).resumeFrom });
    return starts;
  }

  /** The partition's segments, from its committed offset and seal (or its first offset). */
  private async segmentsFor(partition: number): Promise<PartitionSegments> {
    const existing = this.partitions.get(partition);
    if (existing) return existing;
    const [committed] = await this.member!.consumer.committed([{ topic: this.topic, partition }]);
    let start: bigint;
    let sealedEnd: bigint | undefined;
    if (committed && committed.offset !== null) {
      ({ start, sealedEnd } = parseCommitted(committed.offset, committed.metadata));
    } else {
      start = (await this.member!.consumer.queryOffsets(this.topic, partition)).low;
    }
    const stale = await this.destination.discardStale(`${this.options.topic}+${partition}+`);
    if (stale > 0) log.info('stale_staging_files_removed', { partition, files: stale });
    const segments = new PartitionSegments(this.segments, partition, start, sealedEnd);
    this.partitions.set(partition, segments);
    log.info('partition_started', { partition, start, sealed_end: sealedEnd });
    return segments;
  }

  private async fetched(records: Iterable<ConsumedRecord>, _ends: PartitionEnd[]): Promise<void> {
    for (const record of records) {
      const segments = this.partitions.get(record.partition);
      if (segments) await this.handleRecord(segments, record);
    }
  }

  private async handleRecord(segments: PartitionSegments, message: ConsumedRecord): Promise<void> {
    const offset = message.offset;
    if (segments.seen(offset)) return;
    if (message.value === null) {
      await segments.marker(offset, markerOf(message.value, message.headers));
      return;
    }
    let record: PartitionedRecord;
    try {
      record = await this.serde!.decode(message.value);
    } catch (err) {
      if (!(err instanceof PoisonRecordError)) throw err;
      this.meters.poison.inc({ reason: err.reason });
      log.warn('poison_record_skipped', { topic: this.topic, partition: segments.partition, offset, reason: err.reason, detail: err.message });
      await segments.skip(offset);
      return;
    }
    await segments.record(offset, record, message.value.length);
  }

  private async commit(partition: number, offset: bigint, metadata: string | null): Promise<void> {
    await this.member!.consumer.commit([{ topic: this.topic, partition, offset, metadata }]);
  }

  private async flushIdle(): Promise<void> {
    const idleMs = this.config.sink.flush_idle_seconds * 1000;
    for (const segments of this.partitions.values()) await segments.flushIfIdle(Date.now(), idleMs);
  }

  /** Wall-clock time of the last batch that carried records or the last publish (run-all's quiet check). */
  get lastActivityMs(): number {
    return Math.max(this.lastPublishMs, this.member?.lastRecordsMs ?? 0);
  }

  /** Settles once the member stopped: null after stop(), or the error that stopped it. */
  get stopped(): Promise<Error | null> {
    return this.member?.stopped ?? Promise.resolve(null);
  }

  /** Graceful stop: publish the open segments (sealed first, as always), then leave the group. */
  async stop(): Promise<void> {
    await this.member?.exclusive(async () => {
      for (const segments of this.partitions.values()) await segments.flushOpen();
    });
    await this.member?.stop();
    await this.admin?.disconnect();
    await this.metricsServer?.close();
  }
}

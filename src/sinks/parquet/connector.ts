import { Admin, Batch, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { createRegistry, PoisonRecordError, TopicSerde } from '../../avro/serde';
import { loadSchema, SchemaName } from '../../avro/types';
import { Config, physicalName } from '../../config';
import { createKafka } from '../../kafka/client';
import { ProcessMetrics } from '../../processors/runtime/metrics';
import { logger } from '../../util/log';
import { createS3Client } from '../../util/s3';
import { Destination, LocalDestination, parseS3Url, S3Destination } from './destination';
import { PartitionedRecord, partitionFields } from './layout';
import { markerOf } from '../../kafka/markers';
import { AvroRecordSchema } from './schema';
import { ParquetFormat } from './format';
import { parseCommitted, PartitionSegments, SegmentContext } from '../segments';

/**
 * Parquet sink for one topic, as a consumer group: this file is the consumer-group loop (consume,
 * decode, rebalance, commit). The exactly-once segment / seal / publish protocol is format-agnostic
 * (../segments.ts), the file format is ParquetFormat (format.ts) and the destination a local directory
 * or S3 (destination.ts). The loop talks to the protocol through PartitionSegments (one per assigned
 * partition: records in offset order, idle and stop flushes, abort on rebalance) and SegmentHost
 * (commit with metadata) only.
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
  private readonly kafka: Kafka;
  private readonly topic: string;
  private readonly group: string;
  private serde?: TopicSerde<PartitionedRecord>;
  private consumer?: Consumer;
  private admin?: Admin;
  private readonly partitions = new Map<number, PartitionSegments>();
  private readonly destination: Destination;
  private readonly segments: SegmentContext;
  private lock: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private stopping = false;
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
    this.topic = physicalName(config, options.topic);
    this.group = physicalName(config, `optflow.sink.${options.topic}`);
    this.kafka = createKafka(config, `sink-${options.topic}`);
    this.destination = destinationFor(options.out.startsWith('s3://') ? options.out : `${options.out}/${options.topic}`, config);
    const s = config.sink;
    const avroSchema = loadSchema(schemaName).json as unknown as AvroRecordSchema;
    this.metrics = new ProcessMetrics({ sink: 'parquet', topic: options.topic });
    this.m = {
      records: this.metrics.counter('optflow_sink_records_total', 'records written to published files'),
      files: this.metrics.counter('optflow_sink_files_total', 'files published'),
      segments: this.metrics.counter('optflow_sink_segments_total', 'segments sealed and published'),
      publishes: this.metrics.counter('optflow_sink_publishes_total', 'file publishes by outcome: published, replaced (an older generation left the partition), superseded (a newer one is there)', ['outcome']),
      poison: this.metrics.counter('optflow_sink_poison_total', 'records that could not be decoded (skipped, logged)', ['reason']),
    };
    this.segments = {
      topic: options.topic,
      physicalTopic: this.topic,
      destination: this.destination,
      format: new ParquetFormat(avroSchema, {
        rowGroupRows: s.row_group_rows,
        compression: s.compression === 'SNAPPY' ? 'snappy' : 'zstd',
        omitFields: partitionFields(avroSchema.fields.map((f) => f.name)),
      }),
      limits: { maxRecords: s.max_file_records, maxBytes: s.target_file_mb * 1024 * 1024, maxSpanNs: BigInt(s.max_file_span_minutes) * 60_000_000_000n },
      host: { commit: (partition, offset, metadata) => this.commit(partition, offset, metadata) },
      log,
      onPublished: (outcome, rows) => {
        this.m.publishes.inc({ outcome });
        if (outcome !== 'superseded') this.m.files.inc();
        void rows;
      },
      onSegment: (rows) => {
        this.lastActivityMs = Date.now();
        this.m.records.inc(rows);
        this.m.segments.inc();
      },
    };
  }

  async start(): Promise<void> {
    this.serde = await TopicSerde.forTopic<PartitionedRecord>(createRegistry(this.config.schema_registry.url), this.topic, this.schemaName);
    this.admin = this.kafka.admin();
    await this.admin.connect();
    this.metricsServer = await this.metrics.serve(this.config, this.options.metricsPort);
    this.consumer = this.kafka.consumer({ groupId: this.group, readUncommitted: false, maxWaitTimeInMs: 250, sessionTimeout: 15_000, heartbeatInterval: 1_000 });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => void this.exclusive(() => this.dropAll('rebalance')));
    this.consumer.on(this.consumer.events.CRASH, () => void this.exclusive(() => this.dropAll('crash')));
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, isStale, heartbeat }) => {
        await this.exclusive(() => this.handleBatch(batch, isStale));
        await heartbeat();
      },
    });
    this.timer = setInterval(() => void this.exclusive(() => this.flushIdle()), 1000);
    log.info('started', { topic: this.topic, group: this.group, out: this.destination.description });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.lock.then(work, work);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private async dropAll(reason: string): Promise<void> {
    for (const segments of this.partitions.values()) await segments.abort();
    if (this.partitions.size > 0) log.info('partitions_dropped', { reason, partitions: [...this.partitions.keys()] });
    this.partitions.clear();
  }

  private async stateFor(partition: number): Promise<PartitionSegments> {
    const existing = this.partitions.get(partition);
    if (existing) return existing;
    const fetched = await this.admin!.fetchOffsets({ groupId: this.group, topics: [this.topic] });
    const committed = fetched[0]?.partitions.find((p) => p.partition === partition);
    let start: bigint;
    let sealedEnd: bigint | undefined;
    if (committed && committed.offset !== '-1') {
      ({ start, sealedEnd } = parseCommitted(BigInt(committed.offset), committed.metadata));
    } else {
      const offsets = await this.admin!.fetchTopicOffsets(this.topic);
      start = BigInt(offsets.find((o) => o.partition === partition)?.low ?? '0');
    }
    const segments = new PartitionSegments(this.segments, partition, start, sealedEnd);
    this.consumer!.seek({ topic: this.topic, partition, offset: segments.resumeFrom.toString() });
    const stale = await this.destination.discardStale(`${this.options.topic}+${partition}+`);
    if (stale > 0) log.info('stale_staging_files_removed', { partition, files: stale });
    this.partitions.set(partition, segments);
    log.info('partition_started', { partition, start, sealed_end: sealedEnd });
    return segments;
  }

  private async handleBatch(batch: Batch, isStale: () => boolean): Promise<void> {
    if (this.stopping) return;
    const segments = await this.stateFor(batch.partition);
    if (isStale()) return;
    if (batch.messages.length > 0) this.lastActivityMs = Date.now();
    for (const message of batch.messages) await this.handleMessage(segments, message);
  }

  private async handleMessage(segments: PartitionSegments, message: KafkaMessage): Promise<void> {
    const offset = BigInt(message.offset);
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
      this.m.poison.inc({ reason: err.reason });
      log.warn('poison_record_skipped', { topic: this.topic, partition: segments.partition, offset, reason: err.reason, detail: err.message });
      await segments.skip(offset);
      return;
    }
    await segments.record(offset, record, message.value.length);
  }

  private async commit(partition: number, offset: bigint, metadata: string | null): Promise<void> {
    await this.consumer!.commitOffsets([{ topic: this.topic, partition, offset: offset.toString(), metadata }]);
  }

  private async flushIdle(): Promise<void> {
    if (this.stopping) return;
    const idleMs = this.config.sink.flush_idle_seconds * 1000;
    for (const segments of this.partitions.values()) await segments.flushIfIdle(Date.now(), idleMs);
  }

  /** Graceful stop: publish the open segments (sealed first, as always), then leave the group. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.exclusive(async () => {
      for (const segments of this.partitions.values()) await segments.flushOpen();
      this.stopping = true;
    });
    await this.consumer?.disconnect();
    await this.exclusive(() => this.dropAll('shutdown'));
    await this.admin?.disconnect();
    await this.metricsServer?.close();
  }
}

/**
 * Features for TypeScript models: the `features` topic as a matrix in FEATURE_NAMES order, with the
 * package's own types, the latest version of each window (a reprocess writes a window again; the
 * highest offset wins). Reads committed records only, as a consumer group, up to the end of the topic
 * at start, then commits: the next call reads only what arrived since.
 *
 *   import { readFeatureFrame } from './features-frame';
 *   const frame = await readFeatureFrame({ brokers: ['127.0.0.1:19092'], registryUrl: 'http://127.0.0.1:18081' });
 *   model.predict(frame.rows);   // rows[i][j] = window i, feature FEATURE_NAMES[j] (NaN when null)
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { KafkaConsumer, type Message, type TopicPartitionOffset } from '@confluentinc/kafka-javascript';
import { AVRO_OPTIONS, FEATURE_NAMES, type FeatureRecord } from 'optflow';

export interface WindowKey {
  underlying: string;
  window: string;
  /** Window start and end, ns since the epoch (exact: Avro longs are read as bigint). */
  window_start_ns: bigint;
  window_end_ns: bigint;
}

export interface FeatureFrame {
  columns: readonly string[];
  keys: WindowKey[];
  rows: number[][];
}

export interface ReadOptions {
  brokers: string[];
  registryUrl: string;
  topic?: string;
  groupId?: string;
}

export async function readFeatureFrame(options: ReadOptions): Promise<FeatureFrame> {
  const topic = options.topic ?? 'features';
  const registry = new SchemaRegistry({ host: options.registryUrl }, { [SchemaType.AVRO]: AVRO_OPTIONS });
  // The latest version of a window: the highest generation (optflow reprocess bumps it), then the
  // highest offset (a plain reset re-run writes the same generation again, later in the partition).
  const latest = new Map<string, { at: [number, bigint]; record: FeatureRecord }>();
  await consumeToEnd(options.brokers, topic, options.groupId ?? 'example.features-frame', async (partition, offset, value) => {
    const record = (await registry.decode(value)) as FeatureRecord;
    const key = `${record.underlying}|${record.window}|${record.window_start_ns}`;
    const seen = latest.get(key);
    const generation = record.generation ?? 0;
    if (!seen || generation > seen.at[0] || (generation === seen.at[0] && offset > seen.at[1])) latest.set(key, { at: [generation, offset], record });
  });
  const records = [...latest.values()].map((v) => v.record).sort(byWindow);
  return {
    columns: FEATURE_NAMES,
    keys: records.map(({ underlying, window, window_start_ns, window_end_ns }) => ({ underlying, window, window_start_ns, window_end_ns })),
    rows: records.map((r) => FEATURE_NAMES.map((name) => r[name] ?? Number.NaN)),
  };
}

function byWindow(a: FeatureRecord, b: FeatureRecord): number {
  return a.underlying.localeCompare(b.underlying) || a.window.localeCompare(b.window) || Number(a.window_start_ns - b.window_start_ns);
}

/**
 * From the group's committed position (earliest for a new group) to the end of every partition, then
 * commits. librdkafka says when a partition is at its end (`partition.eof`, counting the transaction
 * markers a transactional topic ends with, which are never delivered).
 */
async function consumeToEnd(brokers: string[], topic: string, groupId: string, onValue: (partition: number, offset: bigint, value: Buffer) => Promise<void>): Promise<void> {
  const consumer = new KafkaConsumer(
    { 'bootstrap.servers': brokers.join(','), 'group.id': groupId, 'enable.auto.commit': false, 'isolation.level': 'read_committed', 'enable.partition.eof': true },
    { 'auto.offset.reset': 'earliest' },
  );
  // partition -> the end offset librdkafka reached; an EOF event may arrive before the batch it ends
  const atEnd = new Map<number, number>();
  consumer.on('partition.eof', (e: TopicPartitionOffset) => atEnd.set(e.partition, e.offset));
  await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
  try {
    consumer.subscribe([topic]);
    const next = new Map<number, number>();
    const partitions = await partitionCount(consumer, topic);
    while (atEnd.size < partitions) {
      const messages = await new Promise<Message[]>((resolve, reject) => consumer.consume(1000, (err, m) => (err ? reject(err) : resolve(m))));
      for (const m of messages) {
        if (m.offset >= (atEnd.get(m.partition) ?? Infinity)) atEnd.delete(m.partition);
        if (m.value && m.value.length > 0) await onValue(m.partition, BigInt(m.offset), m.value);
        next.set(m.partition, m.offset + 1);
      }
    }
    if (next.size > 0) consumer.commitSync([...next].map(([partition, offset]) => ({ topic, partition, offset })));
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

function partitionCount(consumer: KafkaConsumer, topic: string): Promise<number> {
  return new Promise((resolve, reject) =>
    consumer.getMetadata({ topic, timeout: 10_000 }, (err, metadata) => (err ? reject(err) : resolve(metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0))),
  );
}

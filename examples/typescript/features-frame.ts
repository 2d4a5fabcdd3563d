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
import { Kafka, logLevel } from 'kafkajs';
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
  const kafka = new Kafka({ clientId: 'features-frame', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const registry = new SchemaRegistry({ host: options.registryUrl }, { [SchemaType.AVRO]: AVRO_OPTIONS });
  // The latest version of a window: the highest generation (optflow reprocess bumps it), then the
  // highest offset (a plain reset re-run writes the same generation again, later in the partition).
  const latest = new Map<string, { at: [number, bigint]; record: FeatureRecord }>();
  await consumeToEnd(kafka, topic, options.groupId ?? 'example.features-frame', async (partition, offset, value) => {
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

/** From the group's committed position (earliest for a new group) to the end of every partition now. */
async function consumeToEnd(kafka: Kafka, topic: string, groupId: string, onValue: (partition: number, offset: bigint, value: Buffer) => Promise<void>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  await admin.disconnect();
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  const next = new Map<number, bigint>();
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const reached = (partition: number, lastOffset: bigint) => {
    if (lastOffset + 1n >= (ends.get(partition) ?? 0n)) pending.delete(partition);
    if (pending.size === 0) finished();
  };
  // A transactional topic ends with a commit marker, never delivered: batch ends count it.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => reached(payload.partition, BigInt(payload.lastOffset)));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  if (pending.size === 0) finished();
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      if (message.value && message.value.length > 0) await onValue(partition, BigInt(message.offset), message.value);
      next.set(partition, BigInt(message.offset) + 1n);
    },
  });
  await done;
  await consumer.commitOffsets([...next].map(([partition, offset]) => ({ topic, partition, offset: offset.toString() })));
  await consumer.disconnect();
}

/**
 * The producer's durable state lives in Kafka, next to the data it describes:
 * - `_optflow.flatfile.progress` (compacted, 1 partition): checkpoint per file key, `day:<date>`
 *   records for sent watermark markers;
 * - `_optflow.flatfile.hashes` (1 partition, retention massive.dedupe_retention_days): per committed
 *   chunk, the packed 64-bit hashes of the items it emitted; key = file key, header gen = generation.
 * Both are written only inside the producer's transactions and read with read_committed.
 */
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { physicalName, type Config } from '../../config';
import { createTopicsWithLeaders, type Durability, withDurability } from '../../kafka/topics';
import { uniqueSuffix } from './util';
import { DAY_KEY_PREFIX, decodeCheckpoint, type DayCheckpoint, type FileCheckpoint } from './checkpoint';
import { HashMultiset } from './dedupe';

export interface StateTopics {
  progress: string;
  hashes: string;
}

export function stateTopics(config: Pick<Config, 'topics'>): StateTopics {
  return { progress: physicalName(config, '_optflow.flatfile.progress'), hashes: physicalName(config, '_optflow.flatfile.hashes') };
}

export async function ensureStateTopics(admin: Admin, topics: StateTopics, dedupeRetentionDays: number, durability: Durability): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = [
    { topic: topics.progress, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    {
      topic: topics.hashes,
      configEntries: [
        { name: 'cleanup.policy', value: 'delete' },
        { name: 'retention.ms', value: String(Math.round(dedupeRetentionDays * 86_400_000)) },
        { name: 'max.message.bytes', value: String(8 * 1024 * 1024) },
      ],
    },
  ].filter((t) => !existing.has(t.topic));
  if (wanted.length === 0) return;
  try {
    await createTopicsWithLeaders(
      admin,
      wanted.map((t) => withDurability({ ...t, numPartitions: 1 }, durability)),
    );
  } catch (err) {
    // Another process may have created them a moment ago.
    if (!String((err as Error).message).includes('already exists')) throw err;
  }
}

/**
 * Reads a topic from the start to its current end (read_committed). The end is each partition's
 * high watermark at the start; control records (transaction markers) count as reached.
 */
export async function readToEnd(kafka: Kafka, topic: string, onMessage: (m: KafkaMessage) => void, timeoutMs = 120_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high) - 1n]));
  if (remaining.size === 0) return;
  const consumer = kafka.consumer({ groupId: `optflow.flatfile.state-reader.${uniqueSuffix()}`, readUncommitted: false, maxWaitTimeInMs: 100, maxBytes: 64 * 1024 * 1024 });
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const reached = (partition: number, lastOffset: string): void => {
    const end = remaining.get(partition);
    if (end !== undefined && BigInt(lastOffset) >= end) remaining.delete(partition);
    if (remaining.size === 0) finish();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => reached(e.payload.partition, e.payload.lastOffset));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) onMessage(m);
      },
    });
    const timer = setTimeout(() => finish(), timeoutMs);
    await finished;
    clearTimeout(timer);
    if (remaining.size > 0) throw new Error(`timed out reading ${topic} to its end`);
  } finally {
    await consumer.disconnect();
  }
}

export interface LoadedState {
  files: Map<string, FileCheckpoint>;
  days: Map<string, DayCheckpoint>;
}

export async function loadState(kafka: Kafka, topics: StateTopics): Promise<LoadedState> {
  const files = new Map<string, FileCheckpoint>();
  const days = new Map<string, DayCheckpoint>();
  await readToEnd(kafka, topics.progress, (m) => {
    const key = m.key?.toString('utf8');
    if (!key || !m.value) return;
    if (key.startsWith(DAY_KEY_PREFIX)) {
      days.set(key.slice(DAY_KEY_PREFIX.length), JSON.parse(m.value.toString('utf8')) as DayCheckpoint);
      return;
    }
    const checkpoint = decodeCheckpoint(m.value);
    if (checkpoint) files.set(key, checkpoint);
  });
  return { files, days };
}

export const GENERATION_HEADER = 'gen';

/** Hashes emitted by generations < `generation` of one file. */
export async function loadPriorHashes(kafka: Kafka, topics: StateTopics, fileKey: string, generation: number): Promise<HashMultiset> {
  const set = new HashMultiset(1 << 16);
  await readToEnd(kafka, topics.hashes, (m) => {
    if (!m.value || m.key?.toString('utf8') !== fileKey) return;
    const gen = Number(m.headers?.[GENERATION_HEADER]?.toString() ?? NaN);
    if (gen < generation) set.addPacked(m.value);
  });
  return set;
}

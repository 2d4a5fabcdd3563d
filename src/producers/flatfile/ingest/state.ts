/**
 * The producer's durable state lives in Kafka, next to the data it describes:
 * - `_optflow.flatfile.progress` (compacted, 1 partition): checkpoint per file key, `day:<date>`
 *   records for sent watermark markers;
 * - `_optflow.flatfile.hashes` (1 partition, retention massive.dedupe_retention_days): per committed
 *   chunk, the packed 64-bit hashes of the items it emitted; key = file key, header gen = generation.
 * Both are written only inside the producer's transactions and read with read_committed.
 */
import { physicalName, type Config } from '../../../config';
import { readTopicToEnd, type ConsumedRecord } from '../../../kafka/consumer';
import { createMissingTopics, type Durability, type TopicAdmin } from '../../../kafka/topics';
import { DAY_KEY_PREFIX, decodeCheckpoint, type DayCheckpoint, type FileCheckpoint } from './checkpoint';
import { HashMultiset } from './dedupe';

export interface StateTopics {
  progress: string;
  hashes: string;
}

export function stateTopics(config: Pick<Config, 'topics'>): StateTopics {
  return { progress: physicalName(config, '_optflow.flatfile.progress'), hashes: physicalName(config, '_optflow.flatfile.hashes') };
}

/** Creates the state topics if missing, with the configured replication factor and min ISR. */
export async function ensureStateTopics(admin: TopicAdmin, topics: StateTopics, dedupeRetentionDays: number, durability: Durability): Promise<void> {
  await createMissingTopics(admin, [
    { name: topics.progress, partitions: 1, configs: { 'cleanup.policy': 'compact' }, durability },
    {
      name: topics.hashes,
      partitions: 1,
      durability,
      configs: {
        'cleanup.policy': 'delete',
        'retention.ms': String(Math.round(dedupeRetentionDays * 86_400_000)),
        'max.message.bytes': String(8 * 1024 * 1024),
      },
    },
  ]);
}

export interface LoadedState {
  files: Map<string, FileCheckpoint>;
  days: Map<string, DayCheckpoint>;
}

export async function loadState(config: Pick<Config, 'kafka'>, topics: StateTopics): Promise<LoadedState> {
  const files = new Map<string, FileCheckpoint>();
  const days = new Map<string, DayCheckpoint>();
  await readTopicToEnd(config, 'flatfile-state', topics.progress, (m: ConsumedRecord) => {
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
export async function loadPriorHashes(config: Pick<Config, 'kafka'>, topics: StateTopics, fileKey: string, generation: number): Promise<HashMultiset> {
  const set = new HashMultiset(1 << 16);
  await readTopicToEnd(config, 'flatfile-hashes', topics.hashes, (m: ConsumedRecord) => {
    if (!m.value || m.key?.toString('utf8') !== fileKey) return;
    const gen = Number(m.headers?.[GENERATION_HEADER]?.toString() ?? NaN);
    if (gen < generation) set.addPacked(m.value);
  });
  return set;
}

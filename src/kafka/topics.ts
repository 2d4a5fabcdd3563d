import { AdminClient } from '@confluentinc/kafka-javascript';
import { Config } from '../config';
import { Admin, clientProperties } from './client';

/**
 * Topic creation for every topic optflow creates (the topology's, the producers' state topics, the
 * registry's log), and the durability each gets from [topics]: the replication factor it is created
 * with and its min.insync.replicas. -1 leaves either to the broker's default (default.replication.factor,
 * min.insync.replicas), so the one-broker stack gets 1 and a cluster its own.
 */

export interface Durability {
  /** -1 = the broker's default.replication.factor. */
  replicationFactor: number;
  /** -1 = the broker's default min.insync.replicas. */
  minInsyncReplicas: number;
}

/** Both left to the broker (test topics, a cluster whose defaults are right). */
export const BROKER_DEFAULT: Durability = { replicationFactor: -1, minInsyncReplicas: -1 };

export function durabilityOf(config: Pick<Config, 'topics'>): Durability {
  return { replicationFactor: config.topics.replication_factor, minInsyncReplicas: config.topics.min_insync_replicas };
}

/** The topic configs durability adds (none when the broker's default applies). */
export function durabilityConfigs(d: Durability): Record<string, string> {
  return d.minInsyncReplicas > 0 ? { 'min.insync.replicas': String(d.minInsyncReplicas) } : {};
}

/** "RF 3, min ISR 2" / "RF broker default, min ISR broker default". */
export function describeDurability(d: Durability): string {
  const n = (v: number) => (v > 0 ? String(v) : 'broker default');
  return `RF ${n(d.replicationFactor)}, min ISR ${n(d.minInsyncReplicas)}`;
}

/** A topic to create: name, partitions, topic configs (retention, cleanup policy, ...) and its durability. */
export interface TopicToCreate {
  name: string;
  partitions: number;
  configs: Record<string, string>;
  durability: Durability;
}

/** The part of the admin client topic creation uses (a recorder in unit tests). */
export type TopicAdmin = Pick<Admin, 'listTopics' | 'createTopics' | 'fetchTopicMetadata'>;

/**
 * Creates the topics that do not exist yet, each with its replication factor and min ISR (another
 * process creating one at the same time is fine), and waits for their leaders.
 */
export async function createMissingTopics(admin: TopicAdmin, topics: readonly TopicToCreate[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.name));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.durability.replicationFactor,
        configEntries: Object.entries({ ...t.configs, ...durabilityConfigs(t.durability) }).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (err) {
    if (!/already exists/i.test(String((err as Error).message))) throw err;
  }
  await waitForTopics(admin, missing.map((t) => t.name));
  return missing.map((t) => t.name);
}

/**
 * Until every topic has a leader for each partition in the metadata (a new topic takes a moment; on a
 * cluster of several brokers the one asked may not know it yet).
 */
export async function waitForTopics(admin: Pick<Admin, 'fetchTopicMetadata'>, names: readonly string[], attempts = 40): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [...names] });
      if (meta.length === names.length && meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (attempt >= attempts) throw err;
    }
    if (attempt >= attempts) throw new Error(`topics not ready: ${names.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100 * Math.min(attempt, 5)));
  }
}

/** Grows topics to the given partition counts (Kafka cannot shrink them). */
export async function growPartitions(config: Pick<Config, 'kafka'>, grow: readonly { name: string; partitions: number }[]): Promise<void> {
  if (grow.length === 0) return;
  const admin = AdminClient.create({ ...clientProperties(config, 'partitions'), event_cb: false });
  try {
    for (const g of grow) {
      await new Promise<void>((resolve, reject) => admin.createPartitions(g.name, g.partitions, 30_000, (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    admin.disconnect();
  }
}

/** Raised when a role starts before its topics exist: topics come from `optflow topology apply` only. */
export class MissingTopicsError extends Error {
  constructor(readonly topics: readonly string[]) {
    super(`topic${topics.length > 1 ? 's' : ''} ${topics.join(', ')} not found: run \`optflow topology apply\` first (it creates the topology's topics and registers their schemas)`);
    this.name = 'MissingTopicsError';
  }
}

/** Fails with MissingTopicsError unless every named topic exists. */
export async function requireTopics(admin: Pick<Admin, 'listTopics'>, names: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = [...new Set(names)].filter((n) => !existing.has(n));
  if (missing.length > 0) throw new MissingTopicsError(missing);
}

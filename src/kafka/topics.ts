import type { Admin, ITopicConfig } from 'kafkajs';
import type { Config } from '../config';

/**
 * Durability of every topic optflow creates, from [topics]: the replication factor and the
 * min.insync.replicas each is created with. -1 leaves either to the broker's default
 * (default.replication.factor, min.insync.replicas), so the one-broker stack gets 1 and a cluster its own.
 * One rule for the topology's topics, the producers' state topics and the registry's log.
 */

export interface Durability {
  /** -1 = the broker's default.replication.factor. */
  replicationFactor: number;
  /** -1 = the broker's default min.insync.replicas. */
  minInsyncReplicas: number;
}

export function durabilityOf(config: Pick<Config, 'topics'>): Durability {
  return { replicationFactor: config.topics.replication_factor, minInsyncReplicas: config.topics.min_insync_replicas };
}

export interface TopicToCreate {
  topic: string;
  numPartitions?: number;
  configEntries?: { name: string; value: string }[];
}

/** A createTopics entry with the configured replication factor and min ISR (a topic config entry). */
export function withDurability<T extends TopicToCreate>(topic: T, d: Durability): T & { replicationFactor: number } {
  return { ...topic, replicationFactor: d.replicationFactor, configEntries: [...(topic.configEntries ?? []), ...durabilityEntries(d)] };
}

/** The topic config entries durability adds (none when the broker default applies). */
export function durabilityEntries(d: Durability): { name: string; value: string }[] {
  return d.minInsyncReplicas > 0 ? [{ name: 'min.insync.replicas', value: String(d.minInsyncReplicas) }] : [];
}

/** "RF 3, min ISR 2" / "RF broker default, min ISR broker default". */
export function describeDurability(d: Durability): string {
  const n = (v: number) => (v > 0 ? String(v) : 'broker default');
  return `RF ${n(d.replicationFactor)}, min ISR ${n(d.minInsyncReplicas)}`;
}

/** The part of the admin client topic creation uses (a recorder in unit tests). */
export type TopicAdmin = Pick<Admin, 'createTopics' | 'fetchTopicMetadata'>;

/**
 * Creates topics and waits until every partition has a leader. kafkajs' own `waitForLeaders` asks
 * one broker once and gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft cluster of several
 * brokers answers while the new topic's metadata is still on its way to that broker. Returns false
 * when every topic already existed (as kafkajs does).
 */
export async function createTopicsWithLeaders(admin: TopicAdmin, topics: ITopicConfig[], timeoutMs = 60_000): Promise<boolean> {
  const created = await admin.createTopics({ topics, waitForLeaders: false });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      if (meta.topics.length === names.length && meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return created;
    } catch (err) {
      if ((err as { retriable?: boolean }).retriable !== true || Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the leaders of ${names.join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

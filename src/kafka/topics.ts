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

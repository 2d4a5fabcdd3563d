import { AdminClient } from '@confluentinc/kafka-javascript';
import { Config } from '../config';
import { Admin, clientProperties } from './client';

/** A topic to create: name, partitions and topic configs (retention, cleanup policy, ...). */
export interface TopicToCreate {
  name: string;
  partitions: number;
  configs: Record<string, string>;
}

/** Creates the topics that do not exist yet (another process creating one at the same time is fine). */
export async function createMissingTopics(admin: Admin, topics: readonly TopicToCreate[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.name));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (err) {
    if (!/already exists/i.test(String((err as Error).message))) throw err;
  }
  await waitForTopics(admin, missing.map((t) => t.name));
  return missing.map((t) => t.name);
}

/** Until every topic has a leader for each partition in the metadata (a new topic takes a moment). */
export async function waitForTopics(admin: Admin, names: readonly string[], attempts = 40): Promise<void> {
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

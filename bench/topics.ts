import { createRegistry } from '../src/avro/serde';
import { Config } from '../src/config';
import { createAdmin } from '../src/kafka/client';
import { createMissingTopics, durabilityOf } from '../src/kafka/topics';
import { ensureStack } from '../src/stack/ensure';
import { applyTopology } from '../topology/apply';
import { buildTopology } from '../topology/topology';

/**
 * Every topic of the topology under the config's prefix, with its schema: what `optflow topology apply`
 * does. Starts the local stack first when the config points at it and nothing serves (as the demo does).
 */
export async function applyWholeTopology(config: Config): Promise<void> {
  await ensureStack(config);
  const admin = createAdmin(config, 'bench');
  await admin.connect();
  try {
    await applyTopology(config, admin, createRegistry(config.schema_registry.url), buildTopology(config));
  } finally {
    await admin.disconnect();
  }
}

/** Deletes a bench run's topics (every topic under its prefix). */
export async function dropTopics(config: Pick<Config, 'kafka'>, prefix: string): Promise<void> {
  const admin = createAdmin(config, 'bench');
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/** Topics outside the topology (a bench's own), with the config's durability; the broker does not create topics on demand. */
export async function createBenchTopics(config: Config, names: readonly string[], partitions = config.topics.partitions): Promise<void> {
  const admin = createAdmin(config, 'bench');
  await admin.connect();
  try {
    await createMissingTopics(admin, names.map((name) => ({ name, partitions, configs: {}, durability: durabilityOf(config) })));
  } finally {
    await admin.disconnect();
  }
}

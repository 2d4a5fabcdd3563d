import { randomBytes } from 'node:crypto';
import { Admin, Kafka } from 'kafkajs';
import { createRegistry } from '../../src/avro/serde';
import { Config, loadConfig } from '../../src/config';
import { createKafka } from '../../src/kafka/client';

export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ env: { ...process.env, NODE_ENV: 'test' }, overrides });
}

export function uniqueName(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export interface TestKafka {
  config: Config;
  kafka: Kafka;
  admin: Admin;
  registry: ReturnType<typeof createRegistry>;
  close(): Promise<void>;
}

export async function connectTestKafka(overrides: Record<string, unknown> = {}): Promise<TestKafka> {
  const config = testConfig(overrides);
  const kafka = createKafka(config, 'test');
  const admin = kafka.admin();
  await admin.connect();
  return { config, kafka, admin, registry: createRegistry(config.schema_registry), close: () => admin.disconnect() };
}

export async function createTopics(admin: Admin, names: string[], partitions = 3): Promise<void> {
  await admin.createTopics({ waitForLeaders: true, topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
}

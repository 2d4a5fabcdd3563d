import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createRegistry } from '../../src/avro/serde';
import { Config, loadConfig } from '../../src/config';
import { Admin, createAdmin } from '../../src/kafka/client';
import { BROKER_DEFAULT, createMissingTopics } from '../../src/kafka/topics';
import { applyTopology } from '../../topology/apply';
import { buildTopology } from '../../topology/topology';

export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ env: { ...process.env, NODE_ENV: 'test' }, overrides });
}

export function uniqueName(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * The first port the kernel hands out for outgoing connections (32768 on Linux by default). A port a
 * test picks for a service must lie below it: an outgoing connection can take an ephemeral port before
 * the service binds it.
 */
export function ephemeralLow(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/** A random metrics.base_port (a multiple of 100 from 20000) whose role ports all lie below the ephemeral range. */
export function metricsBasePort(): number {
  const slots = Math.floor((Math.min(ephemeralLow(), 65_000) - 100 - 20_000) / 100);
  return 20_000 + Math.floor(Math.random() * slots) * 100;
}

export interface TestKafka {
  config: Config;
  /** The Kafka settings the test's clients use (the config itself). */
  kafka: Pick<Config, 'kafka'>;
  admin: Admin;
  registry: ReturnType<typeof createRegistry>;
  close(): Promise<void>;
}

export async function connectTestKafka(overrides: Record<string, unknown> = {}): Promise<TestKafka> {
  const config = testConfig(overrides);
  const admin = createAdmin(config, 'test');
  await admin.connect();
  return { config, kafka: config, admin, registry: createRegistry(config.schema_registry), close: () => admin.disconnect() };
}

export async function createTopics(admin: Admin, names: string[], partitions = 3): Promise<void> {
  await createMissingTopics(admin, names.map((name) => ({ name, partitions, configs: {}, durability: BROKER_DEFAULT })));
}

/** `optflow topology apply` under a topic prefix (topics and schemas), as a user runs it before producers. */
export async function applyTopologyUnder(t: TestKafka, prefix: string, topics: Record<string, unknown> = {}): Promise<void> {
  const config = testConfig({ topics: { prefix, ...topics } });
  await applyTopology(config, t.admin, t.registry, buildTopology(config));
}

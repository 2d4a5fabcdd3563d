import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { Config, loadConfig } from '../../../src/config';
import type { Admin } from '../../../src/kafka/client';
import { ensureStateTopics, stateTopics } from '../../../src/producers/flatfile/ingest/state';
import { durabilityOf } from '../../../src/kafka/topics';
import { KafkaRegistryLog, SCHEMAS_TOPIC } from '../../../src/registry/kafka-log';
import { applyTopology, type ConfigCalls } from '../../../topology/apply';
import { describeTopology } from '../../../topology/describe';
import { buildTopology } from '../../../topology/topology';

/**
 * Every topic optflow creates (the declared topology's and the internal ones: the producer's state
 * topics, the registry's log) is created with [topics] replication_factor and min_insync_replicas.
 * The admin below only records the requests it gets; it answers metadata as a healthy cluster would.
 */

const configDir = path.join(__dirname, '..', '..', '..', 'config');

type ITopicConfig = KafkaJS.ITopicConfig;

interface Recorder {
  admin: Admin;
  /** The calls applyTopology makes on other clients (partitions, configs), recorded too. */
  configCalls: ConfigCalls;
  created: ITopicConfig[];
  /** The configs given to AlterConfigs for existing topics. */
  altered: { name: string; configs: Record<string, string> }[];
  calls: string[];
}

/**
 * Records createTopics (the Confluent admin's KafkaJS-compatible call); `existing` topics answer with
 * that many replicas per partition; the broker's default.replication.factor is 3.
 */
function recorder(existing: Map<string, number> = new Map()): Recorder {
  const created: ITopicConfig[] = [];
  const altered: Recorder['altered'] = [];
  const calls: string[] = [];
  const partitions = (n: number, replicas: number) =>
    Array.from({ length: n }, (_, p) => ({ partitionErrorCode: 0, partitionId: p, leader: 1, replicas: Array.from({ length: replicas }, (_, r) => r + 1), isr: [] as number[] }));
  const fake: Pick<Admin, 'listTopics' | 'createTopics' | 'fetchTopicMetadata'> = {
    listTopics: async () => [...existing.keys(), ...created.map((t) => t.topic)],
    createTopics: async ({ topics }) => {
      calls.push('createTopics');
      created.push(...topics);
      return true;
    },
    fetchTopicMetadata: async (options) =>
      (options?.topics ?? []).map((name) => ({ name, partitions: partitions(created.find((t) => t.topic === name)?.numPartitions ?? 6, existing.get(name) ?? 3) })),
  };
  const configCalls: ConfigCalls = {
    growPartitions: async () => {
      calls.push('growPartitions');
    },
    alterTopicConfigs: async (_config, topics) => {
      calls.push('alterTopicConfigs');
      altered.push(...topics);
    },
    brokerDefaultReplication: async () => 3,
  };
  return { admin: fake as Admin, configCalls, created, altered, calls };
}

const registry = { register: async () => ({ id: 1 }) } as unknown as SchemaRegistry;

function config(topics: Record<string, unknown>): Config {
  return loadConfig({ configDir, env: {}, overrides: { topics: { prefix: 'p.', ...topics } } });
}

/** Every topic the product creates, as its createTopics requests: topology, producer state, registry log. */
async function everyCreatedTopic(c: Config): Promise<ITopicConfig[]> {
  const r = recorder();
  await applyTopology(c, r.admin, registry, buildTopology(c), undefined, r.configCalls);
  await ensureStateTopics(r.admin, stateTopics(c), c.massive.dedupe_retention_days, durabilityOf(c));
  await new KafkaRegistryLog(c).ensureTopic(r.admin);
  return r.created;
}

const minIsr = (t: ITopicConfig) => t.configEntries?.filter((e) => e.name === 'min.insync.replicas').map((e) => e.value);

describe('replication factor and min ISR of every topic optflow creates', () => {
  it('RF 3, min ISR 2: every declared and internal topic is created with both', async () => {
    const c = config({ replication_factor: 3, min_insync_replicas: 2 });
    const created = await everyCreatedTopic(c);
    const names = created.map((t) => t.topic);
    // all of the declared topology, plus the three internal topics
    expect(names).toEqual(expect.arrayContaining(buildTopology(c).topics.map((t) => t.name)));
    expect(names).toEqual(expect.arrayContaining(['p._optflow.flatfile.progress', 'p._optflow.flatfile.hashes', SCHEMAS_TOPIC]));
    expect(names).toEqual(expect.arrayContaining(['p.greeks.late', 'p.greeks.dlq', 'p.equity.trades.dlq', 'p.features', 'p.option.trades.enriched', 'p.rates.treasury']));
    expect(created).toHaveLength(buildTopology(c).topics.length + 3);
    for (const t of created) {
      expect([t.topic, t.replicationFactor]).toEqual([t.topic, 3]);
      expect([t.topic, minIsr(t)]).toEqual([t.topic, ['2']]);
    }
  });

  it('default: the broker decides (RF -1, no min.insync.replicas override)', async () => {
    const created = await everyCreatedTopic(config({}));
    expect(created.length).toBeGreaterThan(10);
    for (const t of created) {
      expect([t.topic, t.replicationFactor]).toEqual([t.topic, -1]);
      expect([t.topic, minIsr(t)]).toEqual([t.topic, []]);
    }
  });

  it('an existing topic with fewer replicas is reported, never reassigned', async () => {
    const c = config({ replication_factor: 3, min_insync_replicas: 2 });
    const r = recorder(new Map([['p.equity.trades', 1], ['p.equity.quotes', 3]]));
    const report = await applyTopology(c, r.admin, registry, buildTopology(c), undefined, r.configCalls);
    expect(report.underReplicated).toEqual([{ topic: 'p.equity.trades', replicas: 1, wanted: 3 }]);
    // reported only: the calls on existing topics are the usual ones, no reassignment among them
    expect(r.calls.filter((x) => x !== 'createTopics')).toEqual(['growPartitions', 'alterTopicConfigs']);
    // AlterConfigs resets what it is not given: min ISR goes with every existing topic's configs
    expect(r.altered.map((t) => [t.name, t.configs['min.insync.replicas']])).toEqual([
      ['p.equity.trades', '2'],
      ['p.equity.quotes', '2'],
    ]);
    expect(r.created.map((t) => t.topic)).not.toContain('p.equity.trades');
  });

  it('with RF left to the broker, "lower" means below the broker\'s default.replication.factor', async () => {
    const r = recorder(new Map([['p.features', 2]]));
    const c = config({});
    const report = await applyTopology(c, r.admin, registry, buildTopology(c), undefined, r.configCalls);
    expect(report.underReplicated).toEqual([{ topic: 'p.features', replicas: 2, wanted: 3 }]);
  });

  it('topology describe shows RF and min ISR', () => {
    const text = describeTopology(buildTopology(config({ replication_factor: 3, min_insync_replicas: 2 })));
    expect(text).toMatch(/p\.equity\.trades\s+6 partitions\s+RF 3, min ISR 2/);
    expect(describeTopology(buildTopology(config({})))).toMatch(/RF broker default, min ISR broker default/);
  });

  it('no code creates topics except through the shared helper (so none can skip RF / min ISR)', () => {
    const root = path.join(__dirname, '..', '..', '..');
    const files = ['src', 'topology'].flatMap((d) => fs.readdirSync(path.join(root, d), { recursive: true, encoding: 'utf8' }).map((f) => path.join(d, f)));
    const callers = files.filter((f) => f.endsWith('.ts') && /\.createTopics?\(/.test(fs.readFileSync(path.join(root, f), 'utf8')));
    expect(callers).toEqual([path.join('src', 'kafka', 'topics.ts')]);
  });

  it('rejects a replication factor of 0', () => {
    expect(() => config({ replication_factor: 0 })).toThrow(/topics\.replication_factor/);
  });
});

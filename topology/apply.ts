import { Config } from '../src/config';
import { Admin } from '../src/kafka/client';
import { alterTopicConfigs, brokerDefaultReplication } from '../src/kafka/configs';
import { createMissingTopics, durabilityConfigs, growPartitions } from '../src/kafka/topics';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { TopicSerde } from '../src/avro/serde';
import { loadSchema } from '../src/avro/types';
import { TopicSpec, Topology } from './topology';
import * as fs from 'node:fs';
import { schemaFile } from '../src/avro/types';

export interface ApplyReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  /** Existing topics with fewer replicas than configured: reported, never changed (a reassignment is an operator's act). */
  underReplicated: { topic: string; replicas: number; wanted: number }[];
  schemas: { subject: string; id: number }[];
}

/** A topic's configs, min.insync.replicas included: AlterConfigs resets every config it is not given. */
function topicConfigs(spec: TopicSpec): Record<string, string> {
  return { 'cleanup.policy': spec.cleanupPolicy, 'retention.ms': String(spec.retentionMs), ...durabilityConfigs(spec.durability) };
}

/** What applying needs beyond the admin client: calls on other clients (fakes in unit tests). */
export interface ConfigCalls {
  growPartitions: typeof growPartitions;
  alterTopicConfigs: typeof alterTopicConfigs;
  brokerDefaultReplication: typeof brokerDefaultReplication;
}

const CLUSTER_CALLS: ConfigCalls = { growPartitions, alterTopicConfigs, brokerDefaultReplication };

/** Creates missing topics, grows partitions, aligns configs, reports under-replicated topics, registers schemas. Idempotent. */
export async function applyTopology(
  config: Pick<Config, 'kafka'>,
  admin: Admin,
  registry: SchemaRegistry,
  topology: Topology,
  only?: string[],
  calls: ConfigCalls = CLUSTER_CALLS,
): Promise<ApplyReport> {
  const wanted = topology.topics.filter((t) => !only || only.includes(t.name));
  const report: ApplyReport = { created: [], updated: [], unchanged: [], underReplicated: [], schemas: [] };
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.name));
  report.created.push(...(await createMissingTopics(admin, missing.map((t) => ({ name: t.name, partitions: t.partitions, configs: topicConfigs(t), durability: t.durability })))));
  const present = wanted.filter((t) => existing.has(t.name));
  if (present.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    const brokerDefault = present.some((t) => t.durability.replicationFactor < 0) ? await calls.brokerDefaultReplication(config) : undefined;
    for (const t of present) {
      const target = t.durability.replicationFactor > 0 ? t.durability.replicationFactor : brokerDefault;
      const partitions = meta.find((m) => m.name === t.name)?.partitions ?? [];
      const replicas = Math.min(...partitions.map((p) => p.replicas.length));
      if (target !== undefined && partitions.length > 0 && replicas < target) report.underReplicated.push({ topic: t.name, replicas, wanted: target });
    }
    const grow = present.filter((t) => (meta.find((m) => m.name === t.name)?.partitions.length ?? 0) < t.partitions);
    await calls.growPartitions(config, grow.map((t) => ({ name: t.name, partitions: t.partitions })));
    await calls.alterTopicConfigs(config, present.map((t) => ({ name: t.name, configs: topicConfigs(t) })));
    for (const t of present) (grow.includes(t) ? report.updated : report.unchanged).push(t.name);
  }
  for (const t of wanted) {
    if (!fs.existsSync(schemaFile(t.schema))) continue;
    loadSchema(t.schema);
    const serde = await TopicSerde.forTopic(registry, t.name, t.schema);
    report.schemas.push({ subject: `${t.name}-value`, id: serde.schemaId });
  }
  return report;
}

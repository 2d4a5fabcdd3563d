import { Admin, ConfigResourceTypes, ITopicConfig } from 'kafkajs';
import { createTopicsWithLeaders, durabilityEntries } from '../kafka/topics';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { TopicSerde } from '../avro/serde';
import { loadSchema } from '../avro/types';
import { TopicSpec, Topology } from '../../topology/topology';
import * as fs from 'node:fs';
import { schemaFile } from '../avro/types';

export interface ApplyReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  /** Existing topics with fewer replicas than configured: reported, never changed (a reassignment is an operator's act). */
  underReplicated: { topic: string; replicas: number; wanted: number }[];
  schemas: { subject: string; id: number }[];
}

function configEntries(spec: TopicSpec): { name: string; value: string }[] {
  return [
    { name: 'cleanup.policy', value: spec.cleanupPolicy },
    { name: 'retention.ms', value: String(spec.retentionMs) },
    ...durabilityEntries(spec.durability),
  ];
}

/** The replication factor a topic created with -1 gets: the broker's default.replication.factor. */
async function brokerDefaultReplication(admin: Admin): Promise<number | undefined> {
  try {
    const { brokers } = await admin.describeCluster();
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: String(brokers[0].nodeId), configNames: ['default.replication.factor'] }],
    });
    const value = Number(described.resources[0]?.configEntries.find((e) => e.configName === 'default.replication.factor')?.configValue);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined; // not allowed to describe broker configs (a managed cluster): nothing to compare against
  }
}

/** Creates missing topics, grows partitions, aligns configs, registers schemas. Idempotent. */
export async function applyTopology(admin: Admin, registry: SchemaRegistry, topology: Topology, only?: string[]): Promise<ApplyReport> {
  const wanted = topology.topics.filter((t) => !only || only.includes(t.name));
  const report: ApplyReport = { created: [], updated: [], unchanged: [], underReplicated: [], schemas: [] };
  const existing = new Set(await admin.listTopics());
  const toCreate: ITopicConfig[] = wanted
    .filter((t) => !existing.has(t.name))
    .map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: t.durability.replicationFactor, configEntries: configEntries(t) }));
  if (toCreate.length > 0) {
    await createTopicsWithLeaders(admin, toCreate);
    report.created.push(...toCreate.map((t) => t.topic));
  }
  const present = wanted.filter((t) => existing.has(t.name));
  if (present.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    const brokerDefault = present.some((t) => t.durability.replicationFactor < 0) ? await brokerDefaultReplication(admin) : undefined;
    for (const t of present) {
      const wanted = t.durability.replicationFactor > 0 ? t.durability.replicationFactor : brokerDefault;
      const partitions = meta.topics.find((m) => m.name === t.name)?.partitions ?? [];
      const replicas = Math.min(...partitions.map((p) => p.replicas.length));
      if (wanted !== undefined && partitions.length > 0 && replicas < wanted) report.underReplicated.push({ topic: t.name, replicas, wanted });
    }
    const grow = present.filter((t) => (meta.topics.find((m) => m.name === t.name)?.partitions.length ?? 0) < t.partitions);
    if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow.map((t) => ({ topic: t.name, count: t.partitions })) });
    await admin.alterConfigs({
      validateOnly: false,
      resources: present.map((t) => ({ type: 2, name: t.name, configEntries: configEntries(t) })),
    });
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

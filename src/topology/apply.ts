import { Admin, ITopicConfig } from 'kafkajs';
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
  schemas: { subject: string; id: number }[];
}

function configEntries(spec: TopicSpec): { name: string; value: string }[] {
  return [
    { name: 'cleanup.policy', value: spec.cleanupPolicy },
    { name: 'retention.ms', value: String(spec.retentionMs) },
  ];
}

/** Creates missing topics, grows partitions, aligns configs, registers schemas. Idempotent. */
export async function applyTopology(admin: Admin, registry: SchemaRegistry, topology: Topology, only?: string[]): Promise<ApplyReport> {
  const wanted = topology.topics.filter((t) => !only || only.includes(t.name));
  const report: ApplyReport = { created: [], updated: [], unchanged: [], schemas: [] };
  const existing = new Set(await admin.listTopics());
  const toCreate: ITopicConfig[] = wanted
    .filter((t) => !existing.has(t.name))
    .map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: 1, configEntries: configEntries(t) }));
  if (toCreate.length > 0) {
    await admin.createTopics({ topics: toCreate, waitForLeaders: true });
    report.created.push(...toCreate.map((t) => t.topic));
  }
  const present = wanted.filter((t) => existing.has(t.name));
  if (present.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
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

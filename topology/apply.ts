import { Config } from '../src/config';
import { Admin } from '../src/kafka/client';
import { alterTopicConfigs } from '../src/kafka/configs';
import { createMissingTopics, growPartitions } from '../src/kafka/topics';
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
  schemas: { subject: string; id: number }[];
}

function topicConfigs(spec: TopicSpec): Record<string, string> {
  return { 'cleanup.policy': spec.cleanupPolicy, 'retention.ms': String(spec.retentionMs) };
}

/** Creates missing topics, grows partitions, aligns configs, registers schemas. Idempotent. */
export async function applyTopology(config: Pick<Config, 'kafka'>, admin: Admin, registry: SchemaRegistry, topology: Topology, only?: string[]): Promise<ApplyReport> {
  const wanted = topology.topics.filter((t) => !only || only.includes(t.name));
  const report: ApplyReport = { created: [], updated: [], unchanged: [], schemas: [] };
  const existing = new Set(await admin.listTopics());
  report.created.push(...(await createMissingTopics(admin, wanted.filter((t) => !existing.has(t.name)).map((t) => ({ name: t.name, partitions: t.partitions, configs: topicConfigs(t) })))));
  const present = wanted.filter((t) => existing.has(t.name));
  if (present.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    const grow = present.filter((t) => (meta.find((m) => m.name === t.name)?.partitions.length ?? 0) < t.partitions);
    await growPartitions(config, grow.map((t) => ({ name: t.name, partitions: t.partitions })));
    await alterTopicConfigs(config, present.map((t) => ({ name: t.name, configs: topicConfigs(t) })));
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

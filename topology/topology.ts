import { Config, physicalName } from '../src/config';
import { Durability, durabilityOf } from '../src/kafka/topics';
import { SchemaName } from '../src/avro/types';
import type { PartitionColumn } from '../src/sinks/parquet/layout';
import { PROCESSORS } from './processors';
import { dlqTopicOf, lateTopicOf } from '../src/processors/runtime/types';

/**
 * The topology as data: every topic, processor and sink, with partitions, retention and cleanup policy.
 * `optflow topology apply` creates/updates the topics and registers the value schemas;
 * `optflow topology describe` prints this graph.
 */

export interface TopicSpec {
  name: string;
  /** Value schema (subject `<name>-value`); undefined for topics written as raw bytes. */
  schema: SchemaName;
  keyedBy: string;
  partitions: number;
  retentionMs: number;
  /**
   * `compact,delete` (features): Kafka keeps the latest record per key (the window's latest version)
   * and still drops records older than the retention.
   */
  cleanupPolicy: 'delete' | 'compact' | 'compact,delete';
  description: string;
  /** Replication factor and min ISR from [topics] (-1 = the broker's default). */
  durability: Durability;
}

type LogicalTopic = Omit<TopicSpec, 'durability'>;

export interface ProcessorSpec {
  name: string;
  consumerGroup: string;
  /** Input records later than allowed lateness, with the reason. */
  lateTopic: string;
  /** Poison input records, with the reason. */
  dlqTopic: string;
  inputs: string[];
  /** Table topics read whole by every member (GlobalKTable-like). */
  tables: string[];
  outputs: string[];
  description: string;
}

export interface SinkSpec {
  name: string;
  topic: string;
  consumerGroup: string;
  /** Hive directories of the lake, in order: dt=/underlying=/window= (the sink reads this). */
  partitionBy: PartitionColumn[];
}

export interface Topology {
  topics: TopicSpec[];
  processors: ProcessorSpec[];
  sinks: SinkSpec[];
}

const HOUR = 3_600_000;

/** The declared processor `name`, with physical names; throws naming the declared ones. */
export function processorSpec(topology: Topology, name: string): ProcessorSpec {
  const spec = topology.processors.find((p) => p.name === name);
  if (!spec) throw new Error(`unknown processor '${name}'; one of: ${topology.processors.map((p) => p.name).join(', ')}`);
  return spec;
}

/** The Parquet sink of logical topic `topic`, with physical names. */
export function sinkSpec(topology: Topology, topic: string, config: Pick<Config, 'topics'>): SinkSpec {
  const spec = topology.sinks.find((s) => s.topic === physicalName(config, topic));
  if (!spec) throw new Error(`no sink is declared for topic '${topic}'; sinks: ${topology.sinks.map((s) => s.name).join(', ')}`);
  return spec;
}
export const MARKET_TOPICS = ['equity.trades', 'equity.quotes', 'option.trades', 'option.quotes'] as const;

/** The topology with physical names (config.topics.prefix applied to topics and consumer groups). */
export function buildTopology(config: Pick<Config, 'topics'>): Topology {
  const logical = logicalTopology(config);
  const name = (n: string) => physicalName(config, n);
  return {
    topics: logical.topics.map((t) => ({ ...t, name: name(t.name), durability: durabilityOf(config) })),
    processors: logical.processors.map((p) => ({
      ...p,
      consumerGroup: name(p.consumerGroup),
      lateTopic: name(p.lateTopic),
      dlqTopic: name(p.dlqTopic),
      inputs: p.inputs.map(name),
      tables: p.tables.map(name),
      outputs: p.outputs.map(name),
    })),
    sinks: logical.sinks.map((s) => ({ ...s, topic: name(s.topic), consumerGroup: name(s.consumerGroup) })),
  };
}

/**
 * Daily Treasury yields keyed by date: one partition (a small global table, not co-partitioned
 * with the market topics), compacted and kept forever (the latest record of each date).
 */
const RATES_TOPIC: LogicalTopic = {
  name: 'rates.treasury',
  schema: 'TreasuryYields',
  keyedBy: 'date',
  partitions: 1,
  retentionMs: -1,
  cleanupPolicy: 'compact',
  description: 'US Treasury yields per date (optflow rates fetch|import), read whole by greeks',
};

function logicalTopology(config: Pick<Config, 'topics'>): Omit<Topology, 'topics'> & { topics: LogicalTopic[] } {
  const partitions = config.topics.partitions;
  const retentionMs = config.topics.retention_hours * HOUR;
  const topic = (name: string, schema: SchemaName, keyedBy: string, description: string): LogicalTopic => ({
    name,
    schema,
    keyedBy,
    partitions,
    retentionMs,
    cleanupPolicy: 'delete',
    description,
  });
  const deadLetters = (name: string, description: string): LogicalTopic => ({
    ...topic(name, 'DeadLetter', 'original key', description),
    retentionMs: 30 * 24 * HOUR,
  });
  const topics: LogicalTopic[] = [
    topic('equity.trades', 'EquityTrade', 'ticker', 'stock trades (flat files + WebSocket)'),
    topic('equity.quotes', 'EquityQuote', 'ticker', 'stock NBBO quotes'),
    topic('option.trades', 'OptionTrade', 'underlying', 'option trades with parsed OPRA fields'),
    topic('option.quotes', 'OptionQuote', 'underlying', 'option NBBO quotes'),
    RATES_TOPIC,
    ...MARKET_TOPICS.map((t) => deadLetters(`${t}.dlq`, `rows of ${t} that failed validation`)),
  ];
  const processors: ProcessorSpec[] = PROCESSORS.map((def) => {
    for (const out of def.outputs) {
      if (topics.some((t) => t.name === out.topic)) continue;
      const shape = out.shape;
      const spec = topic(out.topic, out.schema, shape?.keyedBy ?? 'underlying', shape?.description ?? out.topic);
      topics.push({
        ...spec,
        retentionMs: shape?.retentionHours !== undefined ? shape.retentionHours * HOUR : spec.retentionMs,
        cleanupPolicy: shape?.cleanupPolicy ?? spec.cleanupPolicy,
      });
    }
    const lateTopic = lateTopicOf(def.name);
    const dlqTopic = dlqTopicOf(def.name);
    topics.push(deadLetters(dlqTopic, `poison input records of ${def.name}`));
    topics.push(deadLetters(lateTopic, `input records of ${def.name} later than allowed lateness`));
    return {
      name: def.name,
      consumerGroup: `optflow.${def.name}`,
      lateTopic,
      dlqTopic,
      inputs: def.inputs.map((i) => i.topic),
      tables: (def.tables ?? []).map((t) => t.topic),
      outputs: [...def.outputs.map((o) => o.topic), lateTopic, dlqTopic],
      description: def.description,
    };
  });
  const sinkTopics = ['equity.trades', 'equity.quotes', 'option.trades', 'option.quotes', 'option.trades.enriched', 'features'];
  const sinks: SinkSpec[] = sinkTopics
    .filter((t) => topics.some((x) => x.name === t))
    .map((t) => ({
      name: `parquet:${t}`,
      topic: t,
      consumerGroup: `optflow.sink.${t}`,
      partitionBy: t === 'features' ? ['dt', 'underlying', 'window'] : ['dt', 'underlying'],
    }));
  return { topics, processors, sinks };
}

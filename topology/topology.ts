import { Config, physicalName } from '../src/config';
import { Durability, durabilityOf } from '../src/kafka/topics';
import { SchemaName } from '../src/avro/types';
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
  partitionBy: string[];
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

const DESCRIPTIONS: Record<string, string> = {
  'option.trades.enriched': 'trades + S, tau, r, q, IV, Greeks, flags, dADVV, gADVV, aggressor side',
  features: 'one record per (underlying, window, start) and generation; compacted to the latest version of each window',
  'equity.trade_counts.1m': 'trades, shares, notional per underlying and minute',
};

const PROCESSOR_DESCRIPTIONS: Record<string, string> = {
  greeks: 'as-of join with the underlying NBBO; IV and Greeks (DESIGN 5.1); aggressor side (5.2)',
  features: 'tumbling windows 1m/5m/15m/30m, the 149 named features at window close (DESIGN 5.3)',
  'trade-counts': 'trades per underlying and minute: the reference processor of the runtime',
};

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

/**
 * `features` holds window records that can be upserted: the key names the window (underlying, label,
 * start), partitioned like the inputs (task p writes partition p: partition = the underlying's), and
 * every record carries the generation of the run that wrote it (`optflow reprocess` bumps it).
 * Cleanup `compact,delete`: compaction keeps only the latest version of each window once a reprocess
 * has written it again (consumers reading the whole topic see one record per window, up to the
 * uncompacted head), and delete still drops windows older than 90 days. Window records carry no
 * watermark markers (a null value would be a tombstone). `option.trades.enriched` keeps `delete`:
 * a trade has no unique key (two prints of a contract may agree in every field), so compaction could
 * merge distinct trades; its records carry the generation, and the lake keeps only the latest.
 */
const FEATURES_TOPIC = (spec: LogicalTopic): LogicalTopic => ({
  ...spec,
  keyedBy: 'underlying|window|window_start_ns',
  retentionMs: 90 * 24 * HOUR,
  cleanupPolicy: 'compact,delete',
});

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
      const spec = topic(out.topic, out.schema, 'underlying', DESCRIPTIONS[out.topic] ?? out.topic);
      topics.push(out.topic === 'features' ? FEATURES_TOPIC(spec) : spec);
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
      description: PROCESSOR_DESCRIPTIONS[def.name] ?? def.name,
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

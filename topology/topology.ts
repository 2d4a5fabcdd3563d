import { Config } from '../src/config';
import { SchemaName } from '../src/avro/types';

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
  cleanupPolicy: 'delete' | 'compact';
  description: string;
}

export interface ProcessorSpec {
  name: string;
  consumerGroup: string;
  inputs: string[];
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
export const MARKET_TOPICS = ['equity.trades', 'equity.quotes', 'option.trades', 'option.quotes'] as const;

export function buildTopology(config: Pick<Config, 'topics'>): Topology {
  const partitions = config.topics.partitions;
  const retentionMs = config.topics.retention_hours * HOUR;
  const market = (name: string, schema: SchemaName, keyedBy: string, description: string): TopicSpec => ({
    name,
    schema,
    keyedBy,
    partitions,
    retentionMs,
    cleanupPolicy: 'delete',
    description,
  });
  const deadLetters = (name: string, description: string): TopicSpec => ({
    ...market(name, 'DeadLetter', 'original key', description),
    retentionMs: 30 * 24 * HOUR,
  });
  const topics: TopicSpec[] = [
    market('equity.trades', 'EquityTrade', 'ticker', 'stock trades (flat files + WebSocket)'),
    market('equity.quotes', 'EquityQuote', 'ticker', 'stock NBBO quotes'),
    market('option.trades', 'OptionTrade', 'underlying', 'option trades with parsed OPRA fields'),
    market('option.quotes', 'OptionQuote', 'underlying', 'option NBBO quotes'),
    market('option.trades.enriched', 'EnrichedOptionTrade', 'underlying', 'trades + S, tau, r, q, IV, Greeks, flags, dADVV, gADVV, aggressor'),
    { ...market('features', 'Features', 'underlying|window', 'one record per (underlying, window, start)'), retentionMs: 90 * 24 * HOUR },
    ...MARKET_TOPICS.map((t) => deadLetters(`${t}.dlq`, `rows of ${t} that failed validation`)),
    deadLetters('greeks.dlq', 'poison input records of the greeks processor'),
    deadLetters('greeks.late', 'option trades later than allowed lateness'),
    deadLetters('features.dlq', 'poison input records of the features processor'),
    deadLetters('features.late', 'trades for already-closed windows'),
  ];
  const processors: ProcessorSpec[] = [
    {
      name: 'greeks',
      consumerGroup: 'optflow.greeks',
      inputs: ['option.trades', 'equity.quotes', 'equity.trades', 'option.quotes'],
      outputs: ['option.trades.enriched', 'greeks.late', 'greeks.dlq'],
      description: 'as-of join with the underlying NBBO; IV and Greeks (DESIGN 5.1); aggressor side (5.2)',
    },
    {
      name: 'features',
      consumerGroup: 'optflow.features',
      inputs: ['option.trades.enriched', 'equity.trades'],
      outputs: ['features', 'features.late', 'features.dlq'],
      description: 'tumbling windows 1m/5m/15m/30m, the 149 named features at window close (DESIGN 5.3)',
    },
  ];
  const sinks: SinkSpec[] = ['equity.trades', 'equity.quotes', 'option.trades', 'option.quotes', 'option.trades.enriched', 'features'].map((topic) => ({
    name: `parquet:${topic}`,
    topic,
    consumerGroup: `optflow.sink.${topic}`,
    partitionBy: topic === 'features' ? ['dt', 'underlying', 'window'] : ['dt', 'underlying'],
  }));
  return { topics, processors, sinks };
}

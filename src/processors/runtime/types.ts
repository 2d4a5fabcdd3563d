import { SchemaName } from '../../avro/types';
import { Config } from '../../config';
import type { TableRecord } from '../../kafka/global-table';

/**
 * The Processor API. A processor is a pure core — state + event → state + outputs — run by the
 * runtime (runtime.ts) once per task. A task is partition p of every input topic (co-partitioned
 * assignment), so it sees every record of the underlyings that hash to p.
 *
 * Lifecycle, as in Kafka Streams: `create` (init) per task, `process` per input record in offset
 * order per partition, `onWatermark` whenever the task's event-time watermark advances (the only
 * timer: windows close and as-of joins release from here), `close` when the task is revoked.
 */

export interface InputRecord<V = unknown> {
  /** Logical topic name as declared in the definition (without the configured prefix). */
  topic: string;
  partition: number;
  offset: bigint;
  key: string | null;
  value: V;
  /** Event time in ns (the value's sip_timestamp). */
  eventTime: bigint;
}

/** A record of a table topic (see TableSpec); produces no outputs. */
export type { TableRecord };

export interface ProcessorContext {
  /** Queues an output record; it becomes visible atomically with the input offsets (transactions). */
  emit(topic: string, key: string, value: unknown): void;
  /** Sends the input record to `<processor>.late` with the reason, counted. Never merged or dropped silently. */
  late(record: InputRecord, reason: string, detail: string): void;
  /** The task's current event-time watermark (ns). */
  readonly watermark: bigint;
}

export interface Processor {
  process(record: InputRecord, ctx: ProcessorContext): void;
  onWatermark(watermark: bigint, ctx: ProcessorContext): void;
  /**
   * A table record: every record of the table's topic up to its end when the task starts (before
   * any input record), then each later one as the member reads it.
   */
  onTable?(record: TableRecord): void;
  close?(): void;
}

export interface InputSpec {
  /** Logical topic name as in the topology (the runtime adds the configured prefix). */
  topic: string;
  schema: SchemaName;
  eventTime(value: unknown): bigint;
}

/**
 * A small compacted topic that every member reads whole, like Kafka Streams' GlobalKTable (not
 * co-partitioned with the inputs). The runtime reads it to its end offset (read_committed) before
 * any task processes an input record, hands every task the latest value per key, and keeps the
 * tasks current as new records arrive. Rule for replay: the table state a record sees is the table
 * as loaded at start plus what arrived before that record was processed (see README).
 */
export interface TableSpec {
  /** Logical topic name (the runtime adds the configured prefix). */
  topic: string;
  schema: SchemaName;
}

export interface OutputSpec {
  topic: string;
  schema: SchemaName;
  /**
   * Labels to count per emitted record (metric optflow_output_flags_total{topic, flag}), e.g. the
   * greeks flags that say how many trades got no IV or no aggressor side.
   */
  flags?(value: unknown): readonly string[];
  /**
   * The output's event time (ns): a reprocess emits only outputs at or after its first instant
   * (restore.ts, OutputVersion). Without it, every output of a rewound range is emitted again.
   */
  eventTime?(value: unknown): bigint;
}

/**
 * The value with its reprocess generation (the `generation` field, default 0, of the output schemas
 * that carry one). Generation 0 leaves the value as it is: the schema default writes 0.
 */
export function stampGeneration(value: unknown, generation: number): unknown {
  return generation === 0 ? value : { ...(value as object), generation };
}

export interface ProcessorDefinition {
  name: string;
  inputs: InputSpec[];
  outputs: OutputSpec[];
  /** Table topics this processor reads whole (see TableSpec). */
  tables?: TableSpec[];
  /**
   * How far behind the watermark (ns of event time) the processor's state reaches. The runtime
   * restores state after a restart or rebalance by replaying inputs from the first offset whose
   * event time is within this horizon; the processor must prune its own state to the same horizon
   * so that replay rebuilds exactly the state it had.
   */
  stateHorizonNs(config: Config): bigint;
  create(config: Config, task: { partition: number }): Processor;
}

/** Helper for the common case: every market record carries its event time in `sip_timestamp`. */
export function sipTimestamp(value: unknown): bigint {
  return (value as { sip_timestamp: bigint }).sip_timestamp;
}

import { SchemaName } from '../../avro/types';
import { Config } from '../../config';
import type { FeatureRecord } from '../../domain/features/window-features';
import type { TableRecord } from '../../kafka/global-table';
import type { Offloadable } from './offload';
import type { DeadLetter, EnrichedOptionTrade, EquityQuote, EquityTrade, OptionQuote, OptionTrade, TradeCounts, TreasuryYields } from '../../domain/records';

/**
 * The Processor API. A processor is a pure core — state + event → state + outputs — run by the
 * runtime (runtime.ts) once per task. A task is partition p of every input topic (co-partitioned
 * assignment), so it sees every record of the underlyings that hash to p.
 *
 * Lifecycle, as in Kafka Streams: `create` (init) per task, one typed handler per declared input
 * (`input(...)`) per record in offset order per partition, `onWatermark` whenever the task's
 * event-time watermark advances (the only timer: windows close and as-of joins release from here),
 * `close` when the task is revoked.
 */

/** The value type of each Avro schema (schemas/<name>.avsc), as the serdes decode and encode it. */
export interface SchemaValues {
  EquityTrade: EquityTrade;
  EquityQuote: EquityQuote;
  OptionTrade: OptionTrade;
  OptionQuote: OptionQuote;
  EnrichedOptionTrade: EnrichedOptionTrade;
  Features: FeatureRecord;
  TradeCounts: TradeCounts;
  TreasuryYields: TreasuryYields;
  DeadLetter: DeadLetter;
}

/** Schemas of market records: their event time is `sip_timestamp`. */
export type EventSchema = { [S in SchemaName]: SchemaValues[S] extends { sip_timestamp: bigint } ? S : never }[SchemaName];

export interface InputRecord<V> {
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
  emit<S extends SchemaName>(output: OutputSpec<S>, key: string, value: SchemaValues[S]): void;
  /**
   * Emits `job(args)`, which the runtime may compute off the task's thread (offload.ts) while the task
   * goes on: the output keeps its place among the task's outputs, and the transaction that carries it
   * waits for it. Nothing is computed while the task replays. For heavy window closes.
   */
  emitComputed<S extends SchemaName, A>(output: OutputSpec<S>, key: string, job: Offloadable<A, SchemaValues[S]>, args: A): void;
  /** Sends the input record to `<processor>.late` with the reason, counted. Never merged or dropped silently. */
  late(record: InputRecord<unknown>, reason: string, detail: string): void;
  /** The task's current event-time watermark (ns). */
  readonly watermark: bigint;
}

export interface Processor {
  onWatermark(watermark: bigint, ctx: ProcessorContext): void;
  close?(): void;
}

/** An input topic bound to the processor's handler for it: the runtime decodes with `schema`, then calls `deliver`. */
export interface InputSpec<P = Processor> {
  /** Logical topic name as in the topology (the runtime adds the configured prefix). */
  readonly topic: string;
  readonly schema: SchemaName;
  /** The fields the handler reads (sip_timestamp among them); absent: all. The runtime decodes only these. */
  readonly reads?: readonly string[];
  eventTime(value: unknown): bigint;
  deliver(processor: P, record: InputRecord<unknown>, ctx: ProcessorContext): void;
}

/** The value of schema S as an input that reads fields F decodes it: those fields and the event time. */
export type Read<S extends EventSchema, F extends keyof SchemaValues[S]> = Pick<SchemaValues[S], F | 'sip_timestamp'>;

/**
 * Declares an input: records of `topic`, decoded with `schema`, go to `handle` typed as that schema's
 * value. The runtime decodes every record of the topic with exactly this schema (poison records go to
 * the DLQ first), which is what makes the one narrowing below sound.
 *
 * `reads` names the only fields the handler uses: records are then decoded into just those (and
 * sip_timestamp), the rest skipped unbuilt, and the handler's type allows no other. Where a
 * processor uses four fields of a quote, that halves its decoding (README, "Projected inputs").
 */
export function input<S extends EventSchema, P, F extends keyof SchemaValues[S] & string = keyof SchemaValues[S] & string>(
  topic: string,
  schema: S,
  handle: (processor: P, record: InputRecord<Read<S, F>>, ctx: ProcessorContext) => void,
  reads?: readonly F[],
): InputSpec<P> {
  return {
    topic,
    schema,
    ...(reads ? { reads: [...new Set<string>([...reads, 'sip_timestamp'])] } : {}),
    eventTime: (value) => (value as Read<S, F>).sip_timestamp,
    deliver: (processor, record, ctx) => handle(processor, record as InputRecord<Read<S, F>>, ctx),
  };
}

/**
 * A small compacted topic that every member reads whole, like Kafka Streams' GlobalKTable (not
 * co-partitioned with the inputs). The runtime reads it to its end offset (read_committed) before
 * any task processes an input record, hands every task the latest value per key, and keeps the
 * tasks current as new records arrive. Rule for replay: the table state a record sees is the table
 * as loaded at start plus what arrived before that record was processed (see README).
 */
export interface TableSpec<P = Processor> {
  /** Logical topic name (the runtime adds the configured prefix). */
  readonly topic: string;
  readonly schema: SchemaName;
  deliver(processor: P, record: TableRecord): void;
}

/** Declares a table: each of its records (value null = deleted) goes to `handle`, typed as `schema`'s value. */
export function table<S extends SchemaName, P>(topic: string, schema: S, handle: (processor: P, key: string, value: SchemaValues[S] | null) => void): TableSpec<P> {
  return { topic, schema, deliver: (processor, record) => handle(processor, record.key, record.value as SchemaValues[S] | null) };
}

export interface OutputSpec<S extends SchemaName = SchemaName> {
  readonly topic: string;
  readonly schema: S;
  /**
   * Labels to count per emitted record (metric optflow_output_flags_total{topic, flag}), e.g. the
   * greeks flags that say how many trades got no IV or no aggressor side.
   */
  flags?(value: SchemaValues[S]): readonly string[];
  /**
   * The output's event time (ns): a reprocess emits only outputs at or after its first instant
   * (restore.ts, OutputVersion). Without it, every output of a rewound range is emitted again.
   */
  eventTime?(value: SchemaValues[S]): bigint;
  /** How the topology declares the output topic (the topology's defaults where absent). */
  readonly shape?: OutputTopicShape;
}

/** An output topic's declaration in the topology: key, retention, cleanup and what it holds. */
export interface OutputTopicShape {
  /** What the record key is (partitioning stays by underlying: task p writes partition p). Default: underlying. */
  keyedBy?: string;
  /** Default: topics.retention_hours. */
  retentionHours?: number;
  /** Default: delete. */
  cleanupPolicy?: 'delete' | 'compact,delete';
  description: string;
}

/**
 * The value with its reprocess generation (the `generation` field, default 0, of the output schemas
 * that carry one; others ignore it). Generation 0 leaves the value as it is: the schema default writes 0.
 */
export function stampGeneration<S extends SchemaName>(value: SchemaValues[S], generation: number): SchemaValues[S] {
  return generation === 0 ? value : { ...value, generation };
}

/** Declares an output: `topic` written with `schema`; optional flags to count and event time (see OutputSpec). */
export function output<S extends SchemaName>(topic: string, schema: S, options: Pick<OutputSpec<S>, 'flags' | 'eventTime' | 'shape'> = {}): OutputSpec<S> {
  return { topic, schema, ...options };
}

export interface ProcessorDefinition<P extends Processor = Processor> {
  name: string;
  /** One line for `topology describe`. */
  description: string;
  inputs: InputSpec<P>[];
  outputs: OutputSpec[];
  /** Table topics this processor reads whole (see TableSpec). */
  tables?: TableSpec<P>[];
  /**
   * How far behind the watermark (ns of event time) the processor's state reaches. The runtime
   * restores state after a restart or rebalance by replaying inputs from the first offset whose
   * event time is within this horizon; the processor must prune its own state to the same horizon
   * so that replay rebuilds exactly the state it had.
   */
  stateHorizonNs(config: Config): bigint;
  create(config: Config, task: { partition: number }): P;
}

/** `event_time.allowed_lateness_ms` in ns: how far behind the watermark a record may still be processed. */
export function allowedLatenessNs(config: Pick<Config, 'event_time'>): bigint {
  return BigInt(config.event_time.allowed_lateness_ms) * 1_000_000n;
}

/** A processor instance bound to its definition's input and table handlers: what a task drives. */
export interface BoundProcessor {
  /** `record.topic` is the logical input topic. */
  process(record: InputRecord<unknown>, ctx: ProcessorContext): void;
  table(record: TableRecord): void;
  onWatermark(watermark: bigint, ctx: ProcessorContext): void;
  close(): void;
}

export function instantiate<P extends Processor>(definition: ProcessorDefinition<P>, config: Config, task: { partition: number }): BoundProcessor {
  const processor = definition.create(config, task);
  const inputs = new Map(definition.inputs.map((i) => [i.topic, i]));
  const tables = new Map((definition.tables ?? []).map((t) => [t.topic, t]));
  return {
    process: (record, ctx) => inputs.get(record.topic)!.deliver(processor, record, ctx),
    table: (record) => tables.get(record.topic)?.deliver(processor, record),
    onWatermark: (watermark, ctx) => processor.onWatermark(watermark, ctx),
    close: () => processor.close?.(),
  };
}

/** A processor's late topic (logical name; the topology declares it, the in-memory driver uses the same). */
export function lateTopicOf(processor: string): string {
  return `${processor}.late`;
}

/** A processor's dead-letter topic for poison input records (logical name). */
export function dlqTopicOf(processor: string): string {
  return `${processor}.dlq`;
}

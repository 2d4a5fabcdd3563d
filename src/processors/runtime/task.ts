import type { OutgoingMessage } from '../../kafka/producer';
import { DeadLetter } from '../../domain/records';
import { CommitMetadata, INITIAL_VERSION, OutputVersion, RestorePointTracker } from './restore';
import { SchemaName } from '../../avro/types';
import { BoundProcessor, InputRecord, OutputSpec, ProcessorContext, SchemaValues, stampGeneration, TableRecord } from './types';
import { NO_WATERMARK, WatermarkTracker } from './watermarks';
import { INLINE, Offload, Offloadable } from './offload';

/**
 * One task: partition p of every input topic, with its processor instance, watermarks, restore
 * bookkeeping and the outputs of the open transaction. No I/O here: the runtime feeds records in and
 * takes outputs and offsets out.
 */

export interface TaskCounters {
  recordsIn: number;
  late: number;
  dlq: number;
  replayed: number;
}

/** An output ready to produce (physical topic). */
export type EncodedOutput = OutgoingMessage;

export interface TaskOptions {
  partition: number;
  /** Physical input topic names. */
  inputs: string[];
  processor: BoundProcessor;
  watermarks: WatermarkTracker;
  stateHorizonNs: bigint;
  /** Committed state per input topic (undefined: nothing committed yet). */
  committed: Map<string, { restorePoint: bigint; metadata?: CommitMetadata }>;
  /**
   * Which version the task writes (restore.ts): its generation goes into every output, outputs and
   * late records before `fromNs` are not emitted. Default: generation 0, no bound.
   */
  version?: OutputVersion;
  /** Encodes an output; returns it with the physical topic name. */
  encode<S extends SchemaName>(output: OutputSpec<S>, key: string, value: SchemaValues[S]): EncodedOutput;
  lateTopic: string;
  dlqTopic: string;
  deadLetter(letter: DeadLetter): Buffer;
  /** Where emitComputed's jobs run. Default: inline. */
  offload?: Offload;
}

/** An output in the order emitted: encoded, or being computed (null: not emitted after all, see beforeVersion). */
type QueuedOutput = EncodedOutput | Promise<EncodedOutput | null>;

export class Task implements ProcessorContext {
  readonly partition: number;
  private readonly restore = new Map<string, RestorePointTracker>();
  private readonly replayUntil = new Map<string, bigint>();
  private outputs: QueuedOutput[] = [];
  /** How many of `outputs` are being computed. */
  private computing = 0;
  private replaying = false;
  private current?: InputRecord<unknown>;
  private currentRaw?: Buffer | (() => Buffer);
  private currentTopic?: string;
  readonly counters: TaskCounters = { recordsIn: 0, late: 0, dlq: 0, replayed: 0 };
  private dirty = false;
  /** The watermark last handed to the outputs as markers. */
  private forwarded: bigint;
  readonly version: OutputVersion;

  constructor(private readonly options: TaskOptions) {
    this.partition = options.partition;
    this.version = options.version ?? INITIAL_VERSION;
    this.forwarded = options.watermarks.watermark;
    for (const topic of options.inputs) {
      const committed = options.committed.get(topic);
      const start = committed?.restorePoint ?? 0n;
      this.restore.set(topic, new RestorePointTracker(start));
      if (committed?.metadata) {
        this.replayUntil.set(topic, committed.metadata.position);
        options.watermarks.restore(topic, committed.metadata);
        options.watermarks.restoreWatermark(committed.metadata.watermark);
      }
    }
  }

  /** How far each input partition's watermark runs ahead of the slowest one the task waits for; null while one has none. */
  inputLeads(nowMs: number): Map<string, bigint | null> {
    const slowest = this.options.watermarks.slowest(nowMs);
    return new Map(this.options.inputs.map((topic) => [topic, slowest === NO_WATERMARK ? null : this.options.watermarks.partitionWatermark(topic) - slowest]));
  }

  get watermark(): bigint {
    return this.options.watermarks.watermark;
  }

  /** True while some input still has committed records to replay: the watermark is held until then. */
  private stillReplaying(): boolean {
    for (const [topic, until] of this.replayUntil) if (this.restore.get(topic)!.position < until) return true;
    return false;
  }

  /** Before the version's first event time: an output of the days a reprocess leaves as they are. */
  private beforeVersion(eventTime: bigint | undefined): boolean {
    return this.version.fromNs > 0n && eventTime !== undefined && eventTime < this.version.fromNs;
  }

  /**
   * Outputs carry the task's generation, and task p writes partition p of their topic: inputs are
   * co-partitioned by underlying, so every output stays co-partitioned with them whatever its key
   * (features keys by window).
   */
  emit<S extends SchemaName>(output: OutputSpec<S>, key: string, value: SchemaValues[S]): void {
    if (this.replaying) return;
    const encoded = this.encoded(output, key, value);
    if (encoded === null) return;
    this.outputs.push(encoded);
    this.dirty = true;
  }

  emitComputed<S extends SchemaName, A>(output: OutputSpec<S>, key: string, job: Offloadable<A, SchemaValues[S]>, args: A): void {
    if (this.replaying) return;
    const value = (this.options.offload ?? INLINE).run(job, args);
    if (value instanceof Promise) {
      this.outputs.push(value.then((v) => this.encoded(output, key, v)));
      this.computing += 1;
      this.dirty = true;
    } else {
      this.emit(output, key, value);
    }
  }

  private encoded<S extends SchemaName>(output: OutputSpec<S>, key: string, value: SchemaValues[S]): EncodedOutput | null {
    if (this.beforeVersion(output.eventTime?.(value))) return null;
    const encoded = this.options.encode(output, key, stampGeneration(value, this.version.generation));
    encoded.partition = this.partition;
    return encoded;
  }

  late(record: InputRecord<unknown>, reason: string, detail: string): void {
    if (this.replaying) return;
    if (this.beforeVersion(record.eventTime)) return;
    this.counters.late += 1;
    this.pushDeadLetter(this.options.lateTopic, record.key, {
      reason,
      detail,
      origin: this.current === record && this.currentTopic ? this.currentTopic : record.topic,
      position: record.offset,
      partition: record.partition,
      event_time: record.eventTime,
      raw: this.current === record && this.currentRaw ? (typeof this.currentRaw === 'function' ? this.currentRaw() : this.currentRaw) : Buffer.alloc(0),
      recorded_at_ms: BigInt(Date.now()),
    });
  }

  private pushDeadLetter(topic: string, key: string | null, letter: DeadLetter): void {
    this.outputs.push({ topic, key, value: this.options.deadLetter(letter), partition: this.partition });
    this.dirty = true;
  }

  private isReplay(topic: string, offset: bigint): boolean {
    const until = this.replayUntil.get(topic);
    return until !== undefined && offset < until;
  }

  /**
   * `topic` is the physical input topic; the processor sees `record.topic`, the logical name. `raw`
   * (the record's bytes, for a late record's dead letter) may be a function that encodes them on
   * demand (the in-memory driver: its inputs are values).
   */
  process(topic: string, record: InputRecord<unknown>, raw: Buffer | (() => Buffer), nowMs: number): void {
    this.replaying = this.isReplay(topic, record.offset);
    this.current = record;
    this.currentRaw = raw;
    this.currentTopic = topic;
    this.options.watermarks.observe(topic, record.eventTime, nowMs);
    this.options.processor.process(record, this);
    this.restore.get(topic)!.record(record.offset, record.eventTime);
    if (this.replaying) this.counters.replayed += 1;
    else this.counters.recordsIn += 1;
    this.current = undefined;
    this.currentRaw = undefined;
    this.currentTopic = undefined;
    this.replaying = false;
    this.dirty = true;
    this.punctuate(nowMs);
  }

  marker(topic: string, offset: bigint, watermark: bigint, nowMs: number): void {
    this.options.watermarks.marker(topic, watermark, nowMs);
    this.restore.get(topic)!.skip(offset);
    this.dirty = true;
    this.punctuate(nowMs);
  }

  poison(topic: string, offset: bigint, key: string | null, raw: Buffer, reason: string, detail: string): void {
    this.restore.get(topic)!.skip(offset);
    this.dirty = true;
    if (this.isReplay(topic, offset)) return;
    this.counters.dlq += 1;
    this.pushDeadLetter(this.options.dlqTopic, key, {
      reason,
      detail,
      origin: topic,
      position: offset,
      partition: this.partition,
      event_time: null,
      raw,
      recorded_at_ms: BigInt(Date.now()),
    });
  }

  /** A table record (see TableSpec): no event time, no output, no offset of the task's inputs. */
  table(record: TableRecord): void {
    this.options.processor.table(record);
  }

  fetched(topic: string, caughtUp: boolean): void {
    this.options.watermarks.fetched(topic, caughtUp);
  }

  /** Advances the watermark (time-driven punctuation) and lets the processor fire its timers. */
  punctuate(nowMs: number): void {
    if (this.stillReplaying()) return;
    const before = this.options.watermarks.watermark;
    const after = this.options.watermarks.advance(nowMs);
    if (after > before) {
      this.options.processor.onWatermark(after, this);
      this.dirty = true;
    }
  }

  get pendingOutputs(): number {
    return this.outputs.length;
  }

  get hasWork(): boolean {
    return this.dirty;
  }

  /**
   * Outputs and offsets of the transaction to commit now; clears them. `watermark` is set when the
   * task's watermark advanced since the last drain: every output with an event time at or below it
   * is in this transaction or an earlier one, so the runtime forwards it to the outputs as markers.
   * `outputs` is a promise while some are being computed (emitComputed), in the order emitted.
   */
  drain(): { outputs: EncodedOutput[] | Promise<EncodedOutput[]>; offsets: { topic: string; offset: bigint; metadata: CommitMetadata }[]; watermark: bigint | null } {
    const horizon = this.watermark - this.options.stateHorizonNs;
    const offsets = this.options.inputs.map((topic) => {
      const tracker = this.restore.get(topic)!;
      const committedPosition = this.replayUntil.get(topic) ?? 0n;
      const position = tracker.position > committedPosition ? tracker.position : committedPosition;
      const restorePoint = tracker.restorePoint(horizon);
      return {
        topic,
        offset: restorePoint < position ? restorePoint : position,
        metadata: { position, watermark: this.watermark, ...this.options.watermarks.snapshot(topic), version: this.version },
      };
    });
    const queued = this.outputs;
    const outputs = this.computing === 0 ? (queued as EncodedOutput[]) : settled(queued);
    this.outputs = [];
    this.computing = 0;
    this.dirty = false;
    const advanced = this.watermark > this.forwarded && !this.stillReplaying();
    if (advanced) this.forwarded = this.watermark;
    return { outputs, offsets, watermark: advanced ? this.watermark : null };
  }

  close(): void {
    this.options.processor.close?.();
  }
}

async function settled(queued: QueuedOutput[]): Promise<EncodedOutput[]> {
  return (await Promise.all(queued)).filter((o): o is EncodedOutput => o !== null);
}

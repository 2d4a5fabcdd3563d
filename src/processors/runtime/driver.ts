import * as avro from 'avsc';
import { encodeAvro, typeOf } from '../../avro/types';
import { Config } from '../../config';
import { DeadLetter } from '../../domain/records';
import { Task } from './task';
import { dlqTopicOf, instantiate, lateTopicOf, ProcessorDefinition } from './types';
import { WatermarkTracker } from './watermarks';

/**
 * Runs a processor in memory on one task, with the runtime's own Task (watermarks, lateness, output
 * encoding) and no Kafka: for tests and benchmarks, like Kafka Streams' TopologyTestDriver. Records
 * are processed in the order piped; there is no idle timeout; outputs are Avro-encoded exactly as the
 * runtime would send them, so byte-level comparisons are meaningful.
 */

export interface DrivenOutput<T = unknown> {
  topic: string;
  key: string | null;
  bytes: Buffer;
  value: T;
}

export class ProcessorDriver {
  private readonly task: Task;
  private readonly inputTypes = new Map<string, { type: avro.Type; eventTime: (v: unknown) => bigint; reads?: readonly string[] }>();
  private readonly outputTypes = new Map<string, avro.Type>();
  private readonly deadLetterType = typeOf('DeadLetter');
  private readonly offsets = new Map<string, bigint>();
  private readonly tableTopics: Set<string>;

  constructor(definition: ProcessorDefinition, config: Config) {
    for (const input of definition.inputs) this.inputTypes.set(input.topic, { type: typeOf(input.schema), eventTime: input.eventTime, reads: input.reads });
    for (const output of definition.outputs) this.outputTypes.set(output.topic, typeOf(output.schema));
    const inputs = definition.inputs.map((i) => i.topic);
    this.tableTopics = new Set((definition.tables ?? []).map((t) => t.topic));
    const ooo = BigInt(config.event_time.max_out_of_orderness_ms) * 1_000_000n;
    this.task = new Task({
      partition: 0,
      inputs,
      processor: instantiate(definition, config, { partition: 0 }),
      watermarks: new WatermarkTracker(inputs, ooo, Number.MAX_SAFE_INTEGER, 0),
      stateHorizonNs: definition.stateHorizonNs(config),
      committed: new Map(),
      encode: (output, key, value) => {
        const type = this.outputTypes.get(output.topic);
        if (!type) throw new Error(`${definition.name} emitted to undeclared topic ${output.topic}`);
        return { topic: output.topic, key, value: encodeAvro(type, value) };
      },
      lateTopic: lateTopicOf(definition.name),
      dlqTopic: dlqTopicOf(definition.name),
      deadLetter: (letter) => encodeAvro(this.deadLetterType, letter),
    });
  }

  private nextOffset(topic: string): bigint {
    const offset = this.offsets.get(topic) ?? 0n;
    this.offsets.set(topic, offset + 1n);
    return offset;
  }

  /** Processes one record of a (logical) input topic. */
  pipe(topic: string, value: unknown, key: string | null = null): void {
    const input = this.inputTypes.get(topic);
    if (!input) throw new Error(`not an input topic: ${topic}`);
    const offset = this.nextOffset(topic);
    // The bytes are only needed for a late record's dead letter: encoded then, not for every record.
    const raw = (): Buffer => input.type.toBuffer(value);
    const read = input.reads ? fieldsOf(value, input.reads) : value;
    this.task.process(topic, { topic, partition: 0, offset, key, value: read, eventTime: input.eventTime(read) }, raw, 0);
  }

  /** A record of a declared table topic (value null = tombstone), as the runtime hands it over. */
  pipeTable(topic: string, key: string, value: unknown): void {
    if (!this.tableTopics.has(topic)) throw new Error(`not a table topic: ${topic}`);
    this.task.table({ topic, key, value });
  }

  /** A watermark marker on every input, as producers send at the end of a day. */
  advanceWatermark(watermark: bigint): void {
    for (const topic of this.inputTypes.keys()) this.task.marker(topic, this.nextOffset(topic), watermark, 0);
  }

  get watermark(): bigint {
    return this.task.watermark;
  }

  /** Outputs since the last call (late and DLQ records included, under their topics). */
  drain<T = unknown>(): DrivenOutput<T>[] {
    return this.drainEncoded().map((output) => {
      const type = this.outputTypes.get(output.topic);
      const value = type ? type.fromBuffer(output.bytes) : (this.deadLetterType.fromBuffer(output.bytes) as DeadLetter);
      return { ...output, value: value as T };
    });
  }

  /** Outputs since the last call as the runtime would produce them, not decoded back (what a benchmark times). */
  drainEncoded(): Omit<DrivenOutput, 'value'>[] {
    const { outputs } = this.task.drain();
    // The driver's task computes inline (no offload): nothing is ever pending.
    if (outputs instanceof Promise) throw new Error('the in-memory driver has no offloaded outputs');
    return outputs.map((message) => ({
      topic: message.topic,
      key: message.key === undefined || message.key === null ? null : String(message.key),
      bytes: message.value as Buffer,
    }));
  }
}

/** The input's declared fields of a value, as the runtime's projected decoding gives them (InputSpec.reads). */
function fieldsOf(value: unknown, reads: readonly string[]): Record<string, unknown> {
  const whole = value as Record<string, unknown>;
  const read: Record<string, unknown> = {};
  for (const field of reads) read[field] = whole[field];
  return read;
}

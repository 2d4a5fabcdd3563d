/**
 * A chunk's messages to one topic partition as the native packed call takes them (kafka/producer.ts
 * PackedRun): values one after another in one Buffer, their ends and keys, with no Buffer per message.
 */
import type { PackedRun } from '../../../kafka/producer';
import { partitionOf } from '../../../kafka/partitioner';
import { copyValue, valueLength, type EncodedRecord } from '../encode/encoded';

/**
 * The memory of packed runs, reused once the producer has them (librdkafka copies each message as it
 * is enqueued): a run's fresh memory per send was four times the day's values in new memory, and V8
 * starts a full collection for every 64 MiB of that (the real-size day's produce phase: 7 → 11 s of
 * collector threads).
 */
export class RunMemory {
  private readonly free: { data: Buffer; ends: Uint32Array }[] = [];

  /** `bytes` and `messages`: a fresh run's room. */
  constructor(private readonly bytes: number, private readonly messages: number) {}

  take(): { data: Buffer; ends: Uint32Array } {
    return this.free.pop() ?? { data: Buffer.allocUnsafeSlow(this.bytes), ends: new Uint32Array(this.messages) };
  }

  /** The run's memory, once the producer has its messages. */
  giveBack(run: PackedRun): void {
    if (this.free.length < 16) this.free.push({ data: run.data, ends: run.ends });
  }
}

/**
 * The partition of each key of the job's topics, as the producer's murmur2 partitioner puts it
 * (kafka/partitioner.ts): a run to one partition is enqueued by librdkafka with the partition looked
 * up, and added to the transaction, once, not per message. -1 (librdkafka partitions by key): a topic
 * of unknown partition count.
 */
export class KeyPartitions {
  private readonly byTopic = new Map<string, Map<string, number>>();

  constructor(private readonly partitionCounts: ReadonlyMap<string, number>) {}

  of(topic: string, key: string): number {
    let keys = this.byTopic.get(topic);
    if (keys === undefined) this.byTopic.set(topic, (keys = new Map()));
    let partition = keys.get(key);
    if (partition === undefined) {
      const count = this.partitionCounts.get(topic);
      keys.set(key, (partition = count === undefined ? -1 : partitionOf(key, count)));
    }
    return partition;
  }
}

/** One topic partition's messages (or one topic's, partition -1), filling; `run()` hands them over. */
export class PackedValues {
  private data: Buffer;
  private ends: Uint32Array;
  private readonly keys: string[] = [];
  private count = 0;
  private used = 0;

  constructor(private readonly topic: string, private readonly partition: number, memory: RunMemory) {
    ({ data: this.data, ends: this.ends } = memory.take());
  }

  /** A record keyed by its group, its value copied from where it lies; returns the value's bytes. */
  addRecord(record: EncodedRecord): number {
    const length = valueLength(record);
    const at = this.reserve(length); // before reading this.data: it may grow it
    copyValue(record, this.data, at);
    return this.added(record.group, length);
  }

  /** A value keyed `key`; returns its bytes. */
  add(key: string, value: Buffer): number {
    const at = this.reserve(value.length);
    value.copy(this.data, at);
    return this.added(key, value.length);
  }

  run(): PackedRun {
    return { topic: this.topic, partition: this.partition, data: this.data, ends: this.ends, keys: this.keys, count: this.count };
  }

  /** Where `length` more bytes go, the data grown first if it must be (read `this.data` after calling it). */
  private reserve(length: number): number {
    if (this.used + length > this.data.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.data.length, this.used + length));
      this.data.copy(grown, 0, 0, this.used);
      this.data = grown;
    }
    return this.used;
  }

  private added(key: string, length: number): number {
    if (this.count === this.ends.length) {
      const grown = new Uint32Array(2 * this.ends.length);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.used += length;
    this.ends[this.count++] = this.used;
    this.keys.push(key);
    return length;
  }
}

import { KafkaConsumer, LibrdKafkaError, MessageHeader, Producer } from '@confluentinc/kafka-javascript';
import { Config } from '../config';
import { clientProperties, routeLogs } from './client';

/**
 * A producer on librdkafka's low-level API: produce() only enqueues (no per-message promise, no
 * array copies), batches form in librdkafka's threads. Keys without an explicit partition go where
 * Kafka's Java client puts them (murmur2). Idempotent always; transactional when given an id.
 */

export interface OutgoingMessage {
  topic: string;
  /** Explicit partition (markers, partition-pinned records); else by key. */
  partition?: number;
  key: string | Buffer | null;
  value: Buffer | null;
  headers?: Record<string, string | Buffer>;
}

/**
 * Messages to one topic without headers, each to the partition of its key, with their values packed
 * one after another: value i is `data[ends[i - 1] (0 for i = 0), ends[i])`. What the native packed
 * call takes as it is, with no Buffer per message.
 */
export interface PackedRun {
  topic: string;
  /** -1: each message by its key. */
  partition: number;
  data: Buffer;
  ends: Uint32Array;
  keys: string[];
  count: number;
}

/** An input offset to commit with a transaction or a plain commit. */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: bigint;
  metadata?: string | null;
}

export interface ProducerOptions {
  clientSuffix: string;
  transactionalId?: string;
  transactionTimeoutMs?: number;
}

const QUEUE_FULL = -184;
const TIMEOUT_MS = 60_000;

/**
 * How long a transactional call may take before it is given up for hung. librdkafka does not always
 * honour the timeout it is given: sendOffsetsToTransaction waits for ever when the group coordinator
 * broker dies or is decommissioned (confluentinc/librdkafka#5456 and #5511, open in 2.15; seen here
 * with a broker killed -9 under a processor).
 */
const HUNG_MS = TIMEOUT_MS + 15_000;

/** A transactional call that did not return: its producer is abandoned (see RecordProducer.hung). */
export class HungCallError extends Error {
  override readonly name = 'HungCallError';
}

let hungCalls = 0;

/**
 * Native calls of this process that never returned. Each holds a libuv worker thread, and Node's exit
 * waits for those threads: a process with one cannot exit normally (bin/optflow.js ends it by signal).
 */
export function hungNativeCalls(): number {
  return hungCalls;
}

function promised(run: (cb: (err: LibrdKafkaError | null | undefined) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));
}

function headersOf(headers: Record<string, string | Buffer> | undefined): MessageHeader[] | undefined {
  if (!headers) return undefined;
  return Object.entries(headers).map(([k, v]) => ({ [k]: v }));
}

/** The patched binding's batch call (patches/confluent-kafka-javascript-*.patch). */
interface NativeBatchProducer {
  /** Produces values[from..to) keyed by keys[from..to) to `topic`, to `partition` (-1: by key); returns [first index not enqueued, error code or 0]. */
  produceBatch(topic: string, partition: number, values: (Buffer | null)[], keys: (string | Buffer | null)[], from: number, to: number): [number, number];
  /** produceBatch of a PackedRun's messages from..to. */
  producePacked(topic: string, partition: number, data: Buffer, ends: Uint32Array, keys: string[], from: number, to: number): [number, number];
}

/** The end of the run of messages from `from` that one produceBatch can take: one topic, one partition (or each by its key), no headers. */
function batchableRun(messages: readonly OutgoingMessage[], from: number): number {
  const { topic, partition } = messages[from];
  let end = from;
  while (end < messages.length) {
    const m = messages[end];
    if (m.topic !== topic || m.partition !== partition || m.headers !== undefined) break;
    end++;
  }
  return end;
}

/** Delivery of one send(): resolves when every message of it is acknowledged. */
class Delivery {
  pending = 0;
  error?: Error;
  private resolve?: () => void;
  private reject?: (e: Error) => void;
  done = false;

  wait(): Promise<void> {
    if (this.pending === 0) return this.error ? Promise.reject(this.error) : Promise.resolve();
    // The client's poll timer is unref'd: keep the process alive until the acknowledgements arrive.
    const keepAlive = setInterval(() => undefined, 1000);
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    }).finally(() => clearInterval(keepAlive));
  }

  settle(err: Error | null): void {
    if (err && !this.error) this.error = err;
    this.pending -= 1;
    if (this.pending === 0 && !this.done) {
      this.done = true;
      if (this.error) this.reject?.(this.error);
      else this.resolve?.();
    }
  }
}

export class RecordProducer {
  private readonly client: Producer;
  private transactional: boolean;
  /**
   * A call of this producer hung: its native handle is left alone from then on (another call would
   * queue behind the hung one, and disconnecting would block too). A new producer with the same
   * transactional id fences it; the broker aborts its open transaction.
   */
  private hung = false;
  /** The native producer, when the binding is the patched one with produceBatch (a prebuilt binary has none). */
  private readonly native: NativeBatchProducer | null;
  /** disconnect() has stopped polling: nothing may poll the native handle from then on. */
  private disconnecting = false;

  private constructor(config: Pick<Config, 'kafka'>, options: ProducerOptions) {
    this.transactional = options.transactionalId !== undefined;
    this.client = new Producer({
      ...(clientProperties(config, options.clientSuffix) as Record<string, string | number | boolean>),
      'enable.idempotence': true,
      acks: -1,
      'linger.ms': 5,
      'batch.size': 1_000_000,
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 500_000,
      'compression.type': 'lz4',
      partitioner: 'murmur2_random',
      // A transaction's commit fails if any of its messages failed: per-message reports would only cost
      // a trip into JS each, and hold their messages in native memory until the JS thread polls them.
      dr_cb: !this.transactional,
      // The binding registers its native report callback whatever dr_cb says, so librdkafka still handed
      // every acknowledged message to the JS thread's poll (1.2 s of the real-size day's produce phase),
      // counted against queue.buffering.max.messages until then. This frees them on acknowledgement.
      'delivery.report.only.error': this.transactional,
      ...(options.transactionalId !== undefined
        ? { 'transactional.id': options.transactionalId, 'transaction.timeout.ms': options.transactionTimeoutMs ?? 60_000 }
        : {}),
    });
    routeLogs(this.client, options.clientSuffix);
    const native = (this.client as unknown as { _client?: Partial<NativeBatchProducer> })._client;
    this.native = typeof native?.produceBatch === 'function' && typeof native.producePacked === 'function' ? (native as NativeBatchProducer) : null;
    this.client.on('delivery-report', (err, report) => {
      const delivery = report.opaque as Delivery | undefined;
      delivery?.settle(err ? new Error(`delivery to ${report.topic}[${report.partition}] failed: ${err.message}`) : null);
    });
  }

  /** Connects; a transactional producer also initialises its id, which fences a predecessor with the same id. */
  static async connect(config: Pick<Config, 'kafka'>, options: ProducerOptions): Promise<RecordProducer> {
    const producer = new RecordProducer(config, options);
    await promised((cb) => producer.client.connect({}, (err) => cb(err)));
    producer.client.setPollInterval(20);
    if (producer.transactional) await promised((cb) => producer.client.initTransactions(TIMEOUT_MS, cb));
    return producer;
  }

  /**
   * Enqueues messages; a transaction's commit (or send's wait) makes them durable. Runs of messages
   * to one topic and partition (or each by its key) without headers go to the patched binding's
   * produceBatch in one call each (a call per message cost the flat-file producer about 1 µs a record).
   */
  enqueue(messages: readonly OutgoingMessage[], delivery?: Delivery): Promise<void> | void {
    const native = this.native;
    if (delivery !== undefined || native === null) return this.enqueueEach(messages, delivery);
    for (let i = 0; i < messages.length; ) {
      const end = batchableRun(messages, i);
      if (end === i) {
        const waiting = this.enqueueEach(messages.slice(i, i + 1));
        if (waiting) return waiting.then(() => this.enqueue(messages.slice(i + 1)));
        i += 1;
        continue;
      }
      const values: (Buffer | null)[] = new Array(end - i);
      const keys: (string | Buffer | null)[] = new Array(end - i);
      for (let j = i; j < end; j++) {
        values[j - i] = messages[j].value;
        keys[j - i] = messages[j].key;
      }
      const waiting = this.produceBatch(native, messages[i].topic, messages[i].partition ?? -1, values, keys, 0);
      if (waiting) return waiting.then(() => this.enqueue(messages.slice(end)));
      i = end;
    }
  }

  /** Enqueues a packed run of keyed messages to one topic as it is (no message object or Buffer per message). */
  enqueuePacked(run: PackedRun): Promise<void> | void {
    const native = this.native;
    if (native === null) {
      const partition = run.partition < 0 ? undefined : run.partition;
      return this.enqueueEach(Array.from({ length: run.count }, (_, i) => ({ topic: run.topic, partition, key: run.keys[i], value: run.data.subarray(i === 0 ? 0 : run.ends[i - 1], run.ends[i]) })));
    }
    return this.producePacked(native, run, 0);
  }

  private producePacked(native: NativeBatchProducer, run: PackedRun, from: number): Promise<void> | void {
    const [next, code] = native.producePacked(run.topic, run.partition, run.data, run.ends, run.keys, from, run.count);
    if (code === QUEUE_FULL) return this.drained().then(() => this.producePacked(native, run, next));
    if (code !== 0) throw Object.assign(new Error(`produce to ${run.topic} failed at message ${next}: librdkafka error ${code}`), { code });
  }

  /** values[from..) through the native batch call, waiting for room whenever librdkafka's queue is full. */
  private produceBatch(native: NativeBatchProducer, topic: string, partition: number, values: (Buffer | null)[], keys: (string | Buffer | null)[], from: number): Promise<void> | void {
    const [next, code] = native.produceBatch(topic, partition, values, keys, from, values.length);
    if (code === QUEUE_FULL) return this.drained().then(() => this.produceBatch(native, topic, partition, values, keys, next));
    if (code !== 0) throw Object.assign(new Error(`produce to ${topic} failed at message ${next}: librdkafka error ${code}`), { code });
  }

  private enqueueEach(messages: readonly OutgoingMessage[], delivery?: Delivery): Promise<void> | void {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      try {
        this.client.produce(m.topic, m.partition ?? null, m.value, m.key ?? undefined, null, delivery, headersOf(m.headers));
        if (delivery) delivery.pending += 1;
      } catch (err) {
        if ((err as LibrdKafkaError).code !== QUEUE_FULL) throw err;
        // librdkafka's queue is full: let it drain, then continue from this message.
        return this.drained().then(() => this.enqueueEach(messages.slice(i), delivery));
      }
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.disconnecting) this.client.poll();
      setTimeout(resolve, 5);
    });
  }

  /** Sends and resolves once every message is acknowledged (outside transactions). */
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.transactional) throw new Error('send() is for producers without a transactional id: use inTransaction()');
    const delivery = new Delivery();
    await this.enqueue(messages, delivery);
    await delivery.wait();
  }

  /** A transactional call, given up (and this producer with it) when it outlasts HUNG_MS. */
  private watched(call: string, run: (cb: (err: LibrdKafkaError | null | undefined) => void) => void): Promise<void> {
    if (this.hung) return Promise.reject(new HungCallError(`${call}: an earlier call of this producer hung`));
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.hung = true;
        hungCalls += 1;
        reject(new HungCallError(`${call} did not return within ${HUNG_MS / 1000} s (librdkafka ignores its timeout when a coordinator broker is gone); the producer is abandoned`));
      }, HUNG_MS);
    });
    return Promise.race([promised(run), hung]).finally(() => clearTimeout(timer));
  }

  begin(): Promise<void> {
    return this.watched('beginTransaction', (cb) => this.client.beginTransaction(cb));
  }

  /** Adds input offsets to the open transaction, fenced by the consumer's group generation. */
  sendOffsets(offsets: readonly OffsetToCommit[], consumer: KafkaConsumer): Promise<void> {
    const list = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset), ...(o.metadata ? { metadata: o.metadata } : {}) }));
    return this.watched('sendOffsetsToTransaction', (cb) => this.client.sendOffsetsToTransaction(list, consumer, TIMEOUT_MS, cb));
  }

  commit(): Promise<void> {
    return this.watched('commitTransaction', (cb) => this.client.commitTransaction(TIMEOUT_MS, cb));
  }

  abort(): Promise<void> {
    return this.watched('abortTransaction', (cb) => this.client.abortTransaction(TIMEOUT_MS, cb));
  }

  /** One transaction: messages (and input offsets of a consumer group), then commit; aborts on error. */
  async inTransaction(messages: readonly OutgoingMessage[], offsets?: { offsets: readonly OffsetToCommit[]; consumer: KafkaConsumer }): Promise<void> {
    await this.begin();
    try {
      await this.enqueue(messages);
      if (offsets && offsets.offsets.length > 0) await this.sendOffsets(offsets.offsets, offsets.consumer);
      await this.commit();
    } catch (err) {
      await this.abort().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Flushes, stops polling, then disconnects. The binding's poll() uses the native handle without the
   * lock its disconnect holds while destroying that handle, and the client's poll timer runs until the
   * disconnect has finished: a poll in between crashed a process (SIGSEGV in rd_kafka_q_serve, from
   * Producer::NodePoll; @confluentinc/kafka-javascript 1.10.1). Nothing polls once the disconnect begins.
   */
  async disconnect(): Promise<void> {
    if (this.hung) return;
    await promised((cb) => this.client.flush(10_000, cb)).catch(() => undefined);
    this.disconnecting = true;
    this.client.setPollInterval(0);
    await promised((cb) => this.client.disconnect(5_000, (err) => cb(err))).catch(() => undefined);
  }
}

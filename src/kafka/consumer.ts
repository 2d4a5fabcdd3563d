import { CODES, KafkaConsumer, LibrdKafkaError, Message, MessageHeader } from '@confluentinc/kafka-javascript';
import { Config } from '../config';
import { ClientProperties, clientProperties, routeLogs } from './client';
import type { OffsetToCommit } from './producer';

/**
 * The low-level consumer as the product uses it: read_committed, no auto commit, batches with the
 * partitions that reached their end (EOF events), offsets as bigint, headers as a plain object.
 */

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer>;
  timestampMs: number;
}

export interface PartitionEnd {
  topic: string;
  partition: number;
  /** The end offset reached (next offset to read). */
  offset: bigint;
}

export interface ConsumedBatch {
  /** Read once, in order. A packed batch makes each record as it is read (see `unpack`). */
  records: Iterable<ConsumedRecord>;
  count: number;
  ends: PartitionEnd[];
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** null: nothing committed. */
  offset: bigint | null;
  metadata: string | null;
}

/** Answers while the group coordinator moves or is briefly unreachable (a broker restarting): retried. */
const COORDINATOR_MOVING = new Set([
  CODES.ERRORS.ERR__WAIT_COORD,
  CODES.ERRORS.ERR__TRANSPORT,
  CODES.ERRORS.ERR__TIMED_OUT,
  CODES.ERRORS.ERR_REQUEST_TIMED_OUT,
  CODES.ERRORS.ERR_COORDINATOR_NOT_AVAILABLE,
  CODES.ERRORS.ERR_NOT_COORDINATOR,
  CODES.ERRORS.ERR_COORDINATOR_LOAD_IN_PROGRESS,
]);

/**
 * A group call (commit, committed offsets), retried with backoff for up to `budgetMs` while the
 * coordinator is moving; any other error, or the budget spent, is thrown. Commits are idempotent.
 */
export async function whileCoordinatorMoves<T>(call: () => T | Promise<T>, budgetMs = 60_000): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!COORDINATOR_MOVING.has((err as LibrdKafkaError).code) || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(250 * attempt, 2_000)));
    }
  }
}

const CONSUME_TIMEOUT_MS = 100;

export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

function toRecord(m: Message): ConsumedRecord {
  const headers = m.headers && m.headers.length > 0 ? headersOf(m.headers) : undefined;
  const key = m.key === undefined || m.key === null ? null : Buffer.isBuffer(m.key) ? m.key : Buffer.from(String(m.key));
  return { topic: m.topic, partition: m.partition, offset: BigInt(m.offset), key, value: m.value ?? null, headers, timestampMs: m.timestamp ?? 0 };
}

/**
 * The patched binding's consumePacked batch (patches/confluent-kafka-javascript-*.patch): [count,
 * chunks, meta, topics, headers]. meta holds PACKED_FIELDS numbers a message: offset, partition,
 * timestamp, topic index, then chunk, start and length of its value and of its key (chunk -1: null);
 * headers holds [message index, headers] pairs.
 */
type PackedBatch = [number, Buffer[], Float64Array, string[], (number | MessageHeader[])[]];
const PACKED_FIELDS = 10;

interface PackedConsumer {
  consumePacked(
    timeoutMs: number, max: number, timeoutOnlyForFirst: boolean,
    cb: (err: LibrdKafkaError | null, packed: PackedBatch, ends: { topic: string; partition: number; offset: number }[]) => void,
  ): void;
}

function headersOf(list: MessageHeader[]): Record<string, Buffer> {
  const headers: Record<string, Buffer> = {};
  for (const h of list) for (const [k, v] of Object.entries(h)) headers[k] = Buffer.isBuffer(v) ? v : Buffer.from(String(v));
  return headers;
}

/**
 * A packed batch's records, each made (in JS, with views of the batch's chunks) only when it is read.
 * Made all at once, the 10,000 records of a batch lived until its last was processed, so every young
 * generation collection in between copied them (greeks through the broker: scavenges of 25–30 ms,
 * 11% of its time in GC).
 */
function* unpack([count, chunks, meta, topics, headerPairs]: PackedBatch): Generator<ConsumedRecord, void, undefined> {
  let nextHeaders = 0;
  for (let i = 0, m = 0; i < count; i++, m += PACKED_FIELDS) {
    const valueChunk = meta[m + 4];
    const keyChunk = meta[m + 7];
    let headers: Record<string, Buffer> | undefined;
    if (nextHeaders < headerPairs.length && headerPairs[nextHeaders] === i) {
      headers = headersOf(headerPairs[nextHeaders + 1] as MessageHeader[]);
      nextHeaders += 2;
    }
    yield {
      topic: topics[meta[m + 3]],
      partition: meta[m + 1],
      offset: BigInt(meta[m]),
      key: keyChunk < 0 ? null : chunks[keyChunk].subarray(meta[m + 8], meta[m + 8] + meta[m + 9]),
      value: valueChunk < 0 ? null : chunks[valueChunk].subarray(meta[m + 5], meta[m + 5] + meta[m + 6]),
      headers,
      timestampMs: meta[m + 2],
    };
  }
}

/**
 * Record keys as text, decoded again only when a key differs from the one before: inputs are keyed by
 * underlying, so keys repeat in long runs (a string per record was 4–5% of greeks through the broker).
 * The last key's bytes are a view of its batch, kept until the key changes.
 */
export class KeyText {
  private bytes: Buffer | null = null;
  private text = '';

  of(key: Buffer): string {
    const last = this.bytes;
    if (last !== null && last.length === key.length) {
      let i = 0;
      while (i < key.length && last[i] === key[i]) i++;
      if (i === key.length) return this.text;
    }
    this.bytes = key;
    this.text = key.toString('utf8');
    return this.text;
  }
}

export class LowLevelConsumer {
  readonly client: KafkaConsumer;
  private ends: PartitionEnd[] = [];
  /** The native consumer, when the binding is the patched one (a prebuilt binary has no consumePacked). */
  private readonly packed: PackedConsumer | null;

  constructor(config: Pick<Config, 'kafka'>, clientSuffix: string, properties: ClientProperties) {
    this.client = new KafkaConsumer(
      {
        ...(clientProperties(config, clientSuffix) as Record<string, string | number | boolean>),
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'isolation.level': 'read_committed',
        'enable.partition.eof': true,
        'fetch.wait.max.ms': 100,
        // librdkafka stops fetching a partition whose queue holds queued.min.messages (default 100k)
        // and looks again after fetch.queue.backoff.ms (default 1 s): a consumer that drains its queue
        // faster than that waits on the fetcher (bare consume of 413k records: 155k/s → 220k/s).
        // The queue is bounded by queued.max.messages.kbytes instead: 16 MB, not the default 64 MB. What
        // was queued for a held partition (flow.ts) is dropped and fetched again, so a deep queue is work
        // thrown away: greeks through the broker on the real-size day (about 120 holds), alternating runs,
        // 37.4–37.6 s → 32.1–32.7 s, peak RSS 850 → 673–688 MB, the binding's gathering thread 4.7 → 3.6–3.7
        // s of CPU (8 MB: 33.2–34.8 s; 32 MB: 33.9 s). Features: within the noise (52.9–58.8 s, against 52.2–54.3).
        'queued.min.messages': 1_000_000,
        'queued.max.messages.kbytes': 16_384,
        'fetch.queue.backoff.ms': 10,
        ...(properties as Record<string, string | number | boolean>),
      },
      { 'auto.offset.reset': 'earliest' },
    );
    routeLogs(this.client, clientSuffix);
    const native = (this.client as unknown as { _client?: Partial<PackedConsumer> })._client;
    this.packed = typeof native?.consumePacked === 'function' ? (native as PackedConsumer) : null;
    this.client.on('partition.eof', (e: { topic: string; partition: number; offset: number }) =>
      this.ends.push({ topic: e.topic, partition: e.partition, offset: BigInt(e.offset) }),
    );
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.connect({}, (err) => {
        if (err) return reject(err);
        // Wait for the first message only; then return what is already fetched.
        this.client.setDefaultConsumeTimeout(CONSUME_TIMEOUT_MS);
        (this.client as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
        resolve();
      }),
    );
  }

  /** Up to `max` records: waits up to 100 ms for the first, then returns what is already fetched. */
  consume(max: number): Promise<ConsumedBatch> {
    const packed = this.packed;
    if (packed !== null) {
      return new Promise((resolve, reject) =>
        packed.consumePacked(CONSUME_TIMEOUT_MS, max, true, (err, batch, ends) => {
          if (err) return reject(err);
          for (const e of ends) this.ends.push({ topic: e.topic, partition: e.partition, offset: BigInt(e.offset) });
          const reached = this.ends;
          this.ends = [];
          resolve({ records: unpack(batch), count: batch[0], ends: reached });
        }),
      );
    }
    return new Promise((resolve, reject) =>
      this.client.consume(max, (err: LibrdKafkaError, messages: Message[]) => {
        const ends = this.ends;
        this.ends = [];
        if (err) return reject(err);
        resolve({ records: messages.map(toRecord), count: messages.length, ends });
      }),
    );
  }

  assign(positions: readonly TopicPartitionOffset[]): void {
    this.client.assign(positions.map((p) => ({ topic: p.topic, partition: p.partition, offset: Number(p.offset) })));
  }

  /** Stops fetching these partitions; librdkafka drops what it queued for them and resumes after the last record it returned. */
  pause(partitions: readonly { topic: string; partition: number }[]): void {
    if (partitions.length > 0) this.client.pause(partitions.map((p) => ({ topic: p.topic, partition: p.partition })));
  }

  /** Fetches paused partitions again (a partition that is not paused is left as it is). */
  resume(partitions: readonly { topic: string; partition: number }[]): void {
    if (partitions.length > 0) this.client.resume(partitions.map((p) => ({ topic: p.topic, partition: p.partition })));
  }

  unassign(): void {
    this.client.unassign();
  }

  /**
   * read_committed: the coordinator answers only once no transaction holds offsets of these partitions
   * (KIP-447), so a transaction left open on the group's offsets blocks this until an operator aborts
   * it; the error says so rather than just "timed out".
   */
  async committed(partitions: readonly { topic: string; partition: number }[]): Promise<CommittedOffset[]> {
    try {
      return await whileCoordinatorMoves(() => this.fetchCommitted(partitions));
    } catch (err) {
      if ((err as LibrdKafkaError).code !== CODES.ERRORS.ERR__TIMED_OUT) throw err;
      const names = partitions.map((p) => `${p.topic}[${p.partition}]`).join(', ');
      throw new Error(
        `committed offsets of ${names} not readable for 60 s: the group coordinator is unreachable, or a transaction is left open on the group's offsets (list it with \`kafka-transactions.sh find-hanging\`, abort it with \`kafka-transactions.sh abort\`)`,
        { cause: err },
      );
    }
  }

  private fetchCommitted(partitions: readonly { topic: string; partition: number }[]): Promise<CommittedOffset[]> {
    return new Promise((resolve, reject) =>
      this.client.committed([...partitions], 30_000, (err, list) => {
        if (err) return reject(err);
        resolve(
          list.map((p) => ({
            topic: p.topic,
            partition: p.partition,
            offset: p.offset === undefined || p.offset < 0 ? null : BigInt(p.offset),
            metadata: (p as { metadata?: string | null }).metadata ?? null,
          })),
        );
      }),
    );
  }

  /** Low and high offsets from the broker (high: the last stable offset under read_committed). */
  queryOffsets(topic: string, partition: number): Promise<{ low: bigint; high: bigint }> {
    return new Promise((resolve, reject) =>
      this.client.queryWatermarkOffsets(topic, partition, 30_000, (err, o) => (err ? reject(err) : resolve({ low: BigInt(o.lowOffset), high: BigInt(o.highOffset) }))),
    );
  }

  /** Synchronous commit with metadata (a member's carries its generation; see commitToEmptyGroup otherwise). */
  async commit(offsets: readonly OffsetToCommit[]): Promise<void> {
    const list = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset), ...(o.metadata ? { metadata: o.metadata } : {}) }));
    await whileCoordinatorMoves(() => this.client.commitSync(list));
  }

  /** True once librdkafka considers the assignment lost (session expired, generation fenced). */
  assignmentLost(): boolean {
    return (this.client as unknown as { assignmentLost(): boolean }).assignmentLost();
  }

  disconnect(): Promise<void> {
    return new Promise((resolve) => this.client.disconnect(() => resolve()));
  }
}

/**
 * Reads partitions from given offsets to the end they had when reading started (read_committed:
 * the last stable offset), handing over each record. No group: nothing is committed.
 */
export async function readToEnd(
  config: Pick<Config, 'kafka'>,
  clientSuffix: string,
  starts: readonly TopicPartitionOffset[],
  onRecord: (record: ConsumedRecord) => void | Promise<void>,
  options: { ends?: Map<string, bigint> } = {},
): Promise<void> {
  const consumer = new LowLevelConsumer(config, clientSuffix, { 'group.id': `optflow-reader-${process.pid}-${Date.now()}` });
  await consumer.connect();
  try {
    const remaining = new Map<string, bigint>();
    for (const s of starts) {
      const known = options.ends?.get(tpKey(s.topic, s.partition));
      const { low, high } = known === undefined ? await consumer.queryOffsets(s.topic, s.partition) : { low: 0n, high: known };
      const from = s.offset < 0n ? low : s.offset;
      if (high > from) remaining.set(tpKey(s.topic, s.partition), high);
    }
    if (remaining.size === 0) return;
    consumer.assign(starts);
    while (remaining.size > 0) {
      const batch = await consumer.consume(5000);
      for (const r of batch.records) {
        const key = tpKey(r.topic, r.partition);
        const end = remaining.get(key);
        if (end === undefined) continue;
        if (r.offset < end) await onRecord(r);
        if (r.offset + 1n >= end) remaining.delete(key);
      }
      for (const e of batch.ends) {
        const key = tpKey(e.topic, e.partition);
        const end = remaining.get(key);
        if (end !== undefined && e.offset >= end) remaining.delete(key);
      }
    }
  } finally {
    await consumer.disconnect();
  }
}

/** Reads every partition of a topic from its start to its end when reading starts. */
export async function readTopicToEnd(config: Pick<Config, 'kafka'>, clientSuffix: string, topic: string, onRecord: (record: ConsumedRecord) => void | Promise<void>): Promise<void> {
  const probe = new LowLevelConsumer(config, `${clientSuffix}-probe`, { 'group.id': `optflow-reader-${process.pid}` });
  await probe.connect();
  let partitions: number[];
  try {
    partitions = await topicPartitionIds(probe, topic);
  } finally {
    await probe.disconnect();
  }
  await readToEnd(config, clientSuffix, partitions.map((partition) => ({ topic, partition, offset: -2n })), onRecord);
}

function topicPartitionIds(consumer: LowLevelConsumer, topic: string): Promise<number[]> {
  return new Promise((resolve, reject) =>
    consumer.client.getMetadata({ topic, timeout: 30_000 }, (err, meta) => {
      if (err) return reject(err);
      const t = meta.topics.find((x) => x.name === topic);
      if (!t) return reject(new Error(`topic ${topic} not found`));
      resolve(t.partitions.map((p) => p.id).sort((a, b) => a - b));
    }),
  );
}

/** The coordinator's answers to a commit from outside a group that has members. */
const NOT_A_MEMBER = new Set([CODES.ERRORS.ERR_UNKNOWN_MEMBER_ID, CODES.ERRORS.ERR_ILLEGAL_GENERATION, CODES.ERRORS.ERR_REBALANCE_IN_PROGRESS]);

/**
 * Commits offsets with metadata for a group without joining it: one OffsetCommit request with no
 * member id and generation -1. The group coordinator applies it as one write, and only while the
 * group has no member; otherwise it rejects every partition and nothing is committed. Returns false
 * when rejected for that reason.
 */
export async function commitToEmptyGroup(config: Pick<Config, 'kafka'>, clientSuffix: string, group: string, offsets: readonly OffsetToCommit[]): Promise<boolean> {
  const consumer = new LowLevelConsumer(config, clientSuffix, { 'group.id': group });
  await consumer.connect();
  try {
    await consumer.commit(offsets);
    return true;
  } catch (err) {
    if (NOT_A_MEMBER.has((err as LibrdKafkaError).code)) return false;
    throw err;
  } finally {
    await consumer.disconnect();
  }
}

import { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { PoisonRecordError, TopicSerde } from '../avro/serde';
import { Logger } from '../util/log';

/**
 * A record of a table topic: the latest value of its key, or null when the key was deleted (a
 * compaction tombstone). Tables carry no event time.
 */
export interface TableRecord {
  /** Logical topic name (without the configured prefix). */
  topic: string;
  key: string;
  value: unknown;
}

/**
 * Table topics read whole, like Kafka Streams' GlobalKTable (processors: TableSpec; the rates
 * loader: to compare with what is already there): every
 * partition from the beginning, read_committed (a half-written load is never seen), with a consumer
 * group of its own per member that never commits (each member needs every partition; there is no
 * offset to keep: the table is re-read at each start, it is small and compacted).
 * One instance per reader: a processor member, or one `optflow rates` run.
 *
 * `load` resolves once every partition has been read up to the end offset it had when loading
 * began; records keep flowing to `apply` afterwards.
 */

export interface TableBinding {
  /** Physical topic name. */
  topic: string;
  logical: string;
  serde: TopicSerde<unknown>;
}

export class GlobalTables {
  private readonly latest = new Map<string, Map<string, unknown>>();
  private consumer?: Consumer;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly log: Logger,
  ) {}

  /** Every current record, sorted by topic then key (a new task receives them all, in this order). */
  records(): TableRecord[] {
    const out: TableRecord[] = [];
    for (const topic of [...this.latest.keys()].sort()) {
      const byKey = this.latest.get(topic)!;
      for (const key of [...byKey.keys()].sort()) out.push({ topic, key, value: byKey.get(key) });
    }
    return out;
  }

  /** Stores a record as the latest of its key (null value: deletes the key). */
  put(record: TableRecord): void {
    let byKey = this.latest.get(record.topic);
    if (!byKey) this.latest.set(record.topic, (byKey = new Map()));
    if (record.value === null) byKey.delete(record.key);
    else byKey.set(record.key, record.value);
  }

  /** Reads the tables to their end offsets; `apply` gets each record (then and later). */
  async load(bindings: TableBinding[], apply: (record: TableRecord) => Promise<void>): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const present = bindings.filter((b) => {
      if (!existing.has(b.topic)) this.log.warn('table_topic_missing', { topic: b.topic, hint: 'run optflow topology apply; the table stays empty until the member restarts' });
      return existing.has(b.topic);
    });
    if (present.length === 0) return;
    const pending = await this.endOffsets(present.map((b) => b.topic));
    const consumer = this.kafka.consumer({ groupId: this.groupId, readUncommitted: false, maxWaitTimeInMs: 200, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    this.consumer = consumer;
    const loaded = this.caughtUp(consumer, pending);
    await consumer.connect();
    for (const b of present) await consumer.subscribe({ topic: b.topic, fromBeginning: true });
    const byTopic = new Map(present.map((b) => [b.topic, b]));
    await consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload, byTopic, apply) });
    await loaded;
    this.log.info('tables_loaded', { tables: Object.fromEntries([...this.latest].map(([t, m]) => [t, m.size])) });
  }

  /** End offset of every non-empty partition, keyed topic/partition. */
  private async endOffsets(topics: string[]): Promise<Map<string, bigint>> {
    const ends = new Map<string, bigint>();
    for (const topic of topics) {
      for (const p of await this.admin.fetchTopicOffsets(topic)) {
        if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}/${p.partition}`, BigInt(p.high));
      }
    }
    return ends;
  }

  /** Resolves when every pending partition's consumed position reaches its end offset. */
  private caughtUp(consumer: Consumer, pending: Map<string, bigint>): Promise<void> {
    return new Promise((resolve, reject) => {
      if (pending.size === 0) resolve();
      // END_BATCH_PROCESS also reports batches of control records only (transaction markers).
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const id = `${payload.topic}/${payload.partition}`;
        const end = pending.get(id);
        if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) pending.delete(id);
        if (pending.size === 0) resolve();
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        this.log.error('table_consumer_crashed', { error: payload.error, restart: payload.restart });
        reject(payload.error);
      });
    });
  }

  private async onBatch({ batch }: EachBatchPayload, byTopic: Map<string, TableBinding>, apply: (record: TableRecord) => Promise<void>): Promise<void> {
    const binding = byTopic.get(batch.topic)!;
    for (const message of batch.messages) {
      const key = message.key?.toString('utf8');
      if (key === undefined) continue;
      try {
        const value = message.value === null ? null : await binding.serde.decode(message.value);
        await apply({ topic: binding.logical, key, value });
      } catch (err) {
        if (!(err instanceof PoisonRecordError)) throw err;
        this.log.warn('table_poison_record', { topic: batch.topic, partition: batch.partition, offset: message.offset, reason: err.reason, detail: err.message });
      }
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

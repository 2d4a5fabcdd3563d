import { PoisonRecordError, TopicSerde } from '../avro/serde';
import { Config } from '../config';
import { Logger } from '../util/log';
import { Admin } from './client';
import { ConsumedRecord, LowLevelConsumer, tpKey } from './consumer';

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
 * loader: to compare with what is already there): every partition from the beginning,
 * read_committed (a half-written load is never seen), assigned by hand (no group, nothing committed:
 * each member needs every partition, and the table is re-read at each start, it is small and compacted).
 *
 * `load` resolves once every partition has been read up to the end offset it had when loading
 * began; records keep flowing to `apply` afterwards, until `stop`.
 */

export interface TableBinding {
  /** Physical topic name. */
  topic: string;
  logical: string;
  serde: TopicSerde<unknown>;
}

export class GlobalTables {
  private readonly latest = new Map<string, Map<string, unknown>>();
  private consumer?: LowLevelConsumer;
  private following?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly config: Pick<Config, 'kafka'>,
    private readonly admin: Admin,
    private readonly clientSuffix: string,
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
    const consumer = new LowLevelConsumer(this.config, this.clientSuffix, { 'group.id': `${this.clientSuffix}-unused` });
    this.consumer = consumer;
    await consumer.connect();
    const pending = new Map<string, bigint>();
    const starts = [];
    for (const b of present) {
      for (const p of await this.admin.fetchTopicOffsets(b.topic)) {
        starts.push({ topic: b.topic, partition: p.partition, offset: -2n });
        if (BigInt(p.high) > BigInt(p.low)) pending.set(tpKey(b.topic, p.partition), BigInt(p.high));
      }
    }
    consumer.assign(starts);
    const byTopic = new Map(present.map((b) => [b.topic, b]));
    let loaded!: () => void;
    const done = new Promise<void>((resolve) => (loaded = resolve));
    if (pending.size === 0) loaded();
    this.following = (async () => {
      while (!this.stopping) {
        const batch = await consumer.consume(2000);
        for (const r of batch.records) {
          await this.onRecord(r, byTopic, apply);
          const end = pending.get(tpKey(r.topic, r.partition));
          if (end !== undefined && r.offset + 1n >= end) pending.delete(tpKey(r.topic, r.partition));
        }
        for (const e of batch.ends) {
          const end = pending.get(tpKey(e.topic, e.partition));
          if (end !== undefined && e.offset >= end) pending.delete(tpKey(e.topic, e.partition));
        }
        if (pending.size === 0) loaded();
      }
    })();
    await Promise.race([done, this.following]);
    this.log.info('tables_loaded', { tables: Object.fromEntries([...this.latest].map(([t, m]) => [t, m.size])) });
  }

  private async onRecord(record: ConsumedRecord, byTopic: Map<string, TableBinding>, apply: (record: TableRecord) => Promise<void>): Promise<void> {
    const binding = byTopic.get(record.topic)!;
    const key = record.key?.toString('utf8');
    if (key === undefined) return;
    try {
      const value = record.value === null ? null : await binding.serde.decode(record.value);
      await apply({ topic: binding.logical, key, value });
    } catch (err) {
      if (!(err instanceof PoisonRecordError)) throw err;
      this.log.warn('table_poison_record', { topic: record.topic, partition: record.partition, offset: record.offset, reason: err.reason, detail: err.message });
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.following?.catch(() => undefined);
    await this.consumer?.disconnect();
  }
}

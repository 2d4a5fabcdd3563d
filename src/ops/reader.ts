import { randomBytes } from 'node:crypto';
import { Config } from '../config';
import { ConsumedRecord, LowLevelConsumer } from '../kafka/consumer';

/**
 * Reads committed records of one topic from given offsets, without committing anything: the group id
 * is throw-away and never holds offsets, so the broker drops it when the reader leaves. Without
 * `follow`, each partition stops at the high watermark seen at start (transaction markers included,
 * so a transactional topic's trailing commit marker still ends the partition). Reading is
 * read_committed: a partition with an open transaction is read to its end once that transaction ends.
 */

export interface RawRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestampMs: number;
  key: string | null;
  headers: Record<string, string>;
  value: Buffer | null;
}

export interface ReadSpec {
  topic: string;
  /** Partition -> first offset to read; partitions not listed are not read. */
  starts: Map<number, bigint>;
  /** Partition -> end (exclusive); absent = follow. */
  ends?: Map<number, bigint>;
}

/** `onRecord` returns false to stop. Resolves when every partition reached its end, or on stop(). */
export class TopicReader {
  private stopped = false;

  constructor(private readonly config: Pick<Config, 'kafka'>) {}

  stop(): void {
    this.stopped = true;
  }

  async read(spec: ReadSpec, onRecord: (r: RawRecord) => Promise<boolean> | boolean): Promise<void> {
    const pending = new Set([...spec.starts].filter(([p, start]) => !spec.ends || start < (spec.ends.get(p) ?? 0n)).map(([p]) => p));
    if (pending.size === 0) return;
    const consumer = new LowLevelConsumer(this.config, 'inspect', { 'group.id': `optflow.inspect.${process.pid}.${randomBytes(4).toString('hex')}` });
    await consumer.connect();
    try {
      consumer.assign([...spec.starts].filter(([p]) => pending.has(p)).map(([partition, offset]) => ({ topic: spec.topic, partition, offset })));
      while (!this.stopped && pending.size > 0) {
        const batch = await consumer.consume(1000);
        for (const r of batch.records) {
          if (this.stopped || !pending.has(r.partition)) continue;
          const end = spec.ends?.get(r.partition);
          if (end !== undefined && r.offset >= end) {
            pending.delete(r.partition);
            continue;
          }
          if (!(await onRecord(toRaw(r)))) this.stop();
          if (end !== undefined && r.offset + 1n >= end) pending.delete(r.partition);
        }
        for (const e of batch.ends) {
          const end = spec.ends?.get(e.partition);
          if (end !== undefined && e.offset >= end) pending.delete(e.partition);
        }
      }
    } finally {
      await consumer.disconnect();
    }
  }
}

function toRaw(r: ConsumedRecord): RawRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k] = v.toString('utf8');
  return { topic: r.topic, partition: r.partition, offset: r.offset, timestampMs: r.timestampMs, key: r.key ? r.key.toString('utf8') : null, headers, value: r.value };
}

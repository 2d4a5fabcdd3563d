import { randomBytes } from 'node:crypto';
import { Kafka } from 'kafkajs';

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
  private stopping?: () => void;

  constructor(private readonly kafka: Kafka) {}

  stop(): void {
    this.stopping?.();
  }

  async read(spec: ReadSpec, onRecord: (r: RawRecord) => Promise<boolean> | boolean): Promise<void> {
    const pending = new Set([...spec.starts].filter(([p, start]) => !spec.ends || start < (spec.ends.get(p) ?? 0n)).map(([p]) => p));
    if (pending.size === 0) return;
    const consumer = this.kafka.consumer({ groupId: `optflow.inspect.${process.pid}.${randomBytes(4).toString('hex')}`, readUncommitted: false });
    const done = new Promise<void>((resolve) => (this.stopping = resolve));
    const finish = (p: number) => {
      pending.delete(p);
      if (pending.size === 0) this.stop();
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const end = spec.ends?.get(payload.partition);
      if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) finish(payload.partition);
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: spec.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message, pause }) => {
          if (!pending.has(partition)) return void pause();
          const end = spec.ends?.get(partition);
          const offset = BigInt(message.offset);
          if (end !== undefined && offset >= end) return finish(partition);
          const keep = await onRecord(toRaw(spec.topic, partition, message));
          if (!keep) this.stop();
        },
      });
      for (const [partition, start] of spec.starts) consumer.seek({ topic: spec.topic, partition, offset: start.toString() });
      await done;
    } finally {
      await consumer.disconnect();
    }
  }
}

function toRaw(topic: string, partition: number, message: { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> }): RawRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  return {
    topic,
    partition,
    offset: BigInt(message.offset),
    timestampMs: Number(message.timestamp),
    key: message.key ? message.key.toString('utf8') : null,
    headers,
    value: message.value,
  };
}

/**
 * The watermark-marker protocol (DESIGN 4): a record with a null value and a `watermark` header
 * (decimal ns) on one partition says "every record of this partition after this point has an event
 * time above the watermark". Producers send them (end of a backfilled day, progress within it,
 * live heartbeats); processors forward their own watermark to their outputs the same way.
 */
import type { Admin } from './client';
import type { OutgoingMessage } from './producer';

export const WATERMARK_HEADER = 'watermark';

/** One marker per partition of a topic. */
export function markerMessages(topic: string, partitions: readonly number[], watermark: bigint): OutgoingMessage[] {
  const headers = { [WATERMARK_HEADER]: watermark.toString() };
  return partitions.map((partition) => ({ topic, partition, key: null, value: null, headers }));
}

/** The watermark a record carries, or null for an ordinary record. */
export function markerOf(value: Buffer | null, headers: Record<string, Buffer | string> | undefined): bigint | null {
  const header = headers?.[WATERMARK_HEADER];
  if (value !== null || header === undefined) return null;
  return BigInt(header.toString());
}

/**
 * Partition ids of each topic, for markers. Retries briefly: a topic created a moment ago may not be
 * in every broker's metadata cache yet ("This server does not host this topic-partition").
 */
export async function topicPartitions(admin: Admin, topics: readonly string[], attempts = 20): Promise<Map<string, number[]>> {
  for (let attempt = 1; ; attempt++) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
      return new Map(meta.map((t) => [t.name, t.partitions.map((p) => p.partitionId).sort((a, b) => a - b)]));
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 250 * Math.min(attempt, 4)));
    }
  }
}

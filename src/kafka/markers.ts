/**
 * The watermark-marker protocol (DESIGN 4): a record with a null value and a `watermark` header
 * (decimal ns) on one partition says "every record of this partition after this point has an event
 * time above the watermark". Producers send them (end of a backfilled day, progress within it,
 * live heartbeats); processors forward their own watermark to their outputs the same way.
 */
import type { IHeaders, Message } from 'kafkajs';

export const WATERMARK_HEADER = 'watermark';

/** One marker per partition, for a sendBatch. */
export function markerMessages(partitions: readonly number[], watermark: bigint): Message[] {
  const headers = { [WATERMARK_HEADER]: watermark.toString() };
  return partitions.map((partition) => ({ partition, key: null, value: null, headers }));
}

/** The watermark a record carries, or null for an ordinary record. */
export function markerOf(value: Buffer | null, headers: IHeaders | undefined): bigint | null {
  const header = headers?.[WATERMARK_HEADER];
  if (value !== null || header === undefined) return null;
  return BigInt(header.toString());
}

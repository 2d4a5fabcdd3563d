/**
 * Where a record lands: Hive-style partition directories (DESIGN 6) and file names derived from the
 * Kafka topic, partition and the first offset of the segment, so a rewritten segment replaces the
 * same files.
 */

export interface PartitionedRecord {
  sip_timestamp?: bigint;
  window_start_ns?: bigint;
  underlying?: string;
  ticker?: string;
  window?: string;
}

export interface HivePartition {
  /** Relative directory, e.g. `dt=2025-03-07/underlying=SPY/window=5m`. */
  dir: string;
}

/** The record's event time: window start for feature records, sip_timestamp otherwise. */
export function eventTimeOf(record: PartitionedRecord): bigint {
  const t = record.window_start_ns ?? record.sip_timestamp;
  if (t === undefined) throw new Error('record has neither window_start_ns nor sip_timestamp');
  return t;
}

export function utcDate(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 10);
}

function safe(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function hiveDir(record: PartitionedRecord): string {
  const parts = [`dt=${utcDate(eventTimeOf(record))}`];
  const underlying = record.underlying ?? record.ticker;
  if (underlying !== undefined) parts.push(`underlying=${safe(underlying)}`);
  if (record.window !== undefined) parts.push(`window=${safe(record.window)}`);
  return parts.join('/');
}

/** Record fields that the directory carries (left out of the files, see ParquetWriterOptions.omitFields). */
export function partitionFields(fieldNames: string[]): string[] {
  const out: string[] = [];
  if (fieldNames.includes('underlying')) out.push('underlying');
  if (fieldNames.includes('window')) out.push('window');
  return out;
}

export function segmentFileName(topic: string, partition: number, startOffset: bigint): string {
  return `${topic}+${partition}+${startOffset.toString().padStart(20, '0')}.parquet`;
}

export interface SegmentLimits {
  maxRecords: number;
  maxBytes: number;
  maxSpanNs: bigint;
}

export interface SegmentStats {
  records: number;
  bytes: number;
  minEventTime: bigint;
  maxEventTime: bigint;
  day: string | null;
}

export function emptyStats(): SegmentStats {
  return { records: 0, bytes: 0, minEventTime: 0n, maxEventTime: 0n, day: null };
}

/**
 * Whether the segment must be sealed BEFORE adding a record of this size and event time. A function
 * of the records only (count, bytes, event-time span, UTC day), so replays cut at the same offsets.
 */
export function sealBefore(stats: SegmentStats, bytes: number, eventTime: bigint, limits: SegmentLimits): boolean {
  if (stats.records === 0) return false;
  if (stats.records >= limits.maxRecords || stats.bytes + bytes > limits.maxBytes) return true;
  if (utcDate(eventTime) !== stats.day) return true;
  const lo = eventTime < stats.minEventTime ? eventTime : stats.minEventTime;
  const hi = eventTime > stats.maxEventTime ? eventTime : stats.maxEventTime;
  return hi - lo > limits.maxSpanNs;
}

/**
 * Whether a watermark marker closes the open segment: once the watermark has passed the end of the
 * segment's UTC day, no on-time record of that day can follow, so the day's files are complete.
 * Earlier markers (progress within a day, forwarded processor watermarks) leave it open: cutting on
 * each of them would write one small file per producer transaction.
 */
export function sealAtMarker(stats: SegmentStats, watermark: bigint): boolean {
  if (stats.records === 0 || stats.day === null) return false;
  const dayEndNs = BigInt(Date.parse(`${stats.day}T00:00:00Z`) + 86_400_000) * 1_000_000n;
  return watermark >= dayEndNs;
}

export function addToStats(stats: SegmentStats, bytes: number, eventTime: bigint): void {
  if (stats.records === 0) {
    stats.minEventTime = eventTime;
    stats.maxEventTime = eventTime;
    stats.day = utcDate(eventTime);
  }
  stats.records += 1;
  stats.bytes += bytes;
  if (eventTime < stats.minEventTime) stats.minEventTime = eventTime;
  if (eventTime > stats.maxEventTime) stats.maxEventTime = eventTime;
}

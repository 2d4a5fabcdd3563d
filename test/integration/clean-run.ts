import { EnrichedOptionTrade } from '../../src/domain/records';
import { recordKey } from '../../src/producers/flatfile/local-day';
import { MarketRecord } from '../../src/producers/flatfile/parse/normalise';
import { DrivenOutput, ProcessorDriver } from '../../src/processors/runtime/driver';

/**
 * The clean-run oracle of the end-to-end tests: a day's records through a processor in memory, in
 * event-time order, then a watermark past the end of the day.
 */

export type Timed = { topic: string; record: MarketRecord | EnrichedOptionTrade };

/** Every stream's records, merged in event time. */
export function byTime(streams: [string, readonly (MarketRecord | EnrichedOptionTrade)[]][]): Timed[] {
  const all: Timed[] = streams.flatMap(([topic, records]) => records.map((record) => ({ topic, record })));
  return all.sort((a, b) => (a.record.sip_timestamp < b.record.sip_timestamp ? -1 : a.record.sip_timestamp > b.record.sip_timestamp ? 1 : 0));
}

/** Every output of the driver (late and dead-letter records included), after a watermark at `endOfDay`. */
export function driveDay<T>(driver: ProcessorDriver, arrivals: Timed[], endOfDay: bigint): DrivenOutput<T>[] {
  for (const a of arrivals) driver.pipe(a.topic, a.record, recordKey(a.record as MarketRecord));
  driver.advanceWatermark(endOfDay);
  return driver.drain<T>();
}

export const isDeadLetter = (o: { topic: string }): boolean => o.topic.endsWith('.late') || o.topic.endsWith('.dlq');

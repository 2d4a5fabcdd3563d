/**
 * End-of-day watermark of a backfilled day (DESIGN 4). A Massive day D holds events from the
 * pre-market (04:00 ET) to the end of after-hours (20:00 ET), and day D+1 starts at 04:00 ET the
 * next day. We assert "nothing earlier than midnight America/New_York at the end of D will follow":
 * 4 h past the last possible event of D, so every window of D (any size up to hours, plus allowed
 * lateness) closes, and 4 h before anything of D+1, so tomorrow's first records are never late.
 * If the data holds an event beyond that (it should not), the watermark is that event + 1 ns.
 */
import { endOfNewYorkDayNs } from '../../../domain/new-york';

export function dayWatermarkNs(date: string, maxEventTimeNs: bigint | null): bigint {
  const end = endOfNewYorkDayNs(date);
  return maxEventTimeNs !== null && maxEventTimeNs >= end ? maxEventTimeNs + 1n : end;
}

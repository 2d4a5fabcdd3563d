/**
 * End-of-day watermark of a backfilled day (DESIGN 4). A Massive day D holds events from the
 * pre-market (04:00 ET) to the end of after-hours (20:00 ET), and day D+1 starts at 04:00 ET the
 * next day. We assert "nothing earlier than midnight America/New_York at the end of D will follow":
 * 4 h past the last possible event of D, so every window of D (any size up to hours, plus allowed
 * lateness) closes, and 4 h before anything of D+1, so tomorrow's first records are never late.
 * If the data holds an event beyond that (it should not), the watermark is that event + 1 ns.
 */
import { newYorkOffsetHours } from '../../generator/session';

const NS_PER_MS = 1_000_000n;

/** UTC ns of 00:00 New York time on the day after `date` (DST-correct: the offset in force on `date`). */
export function endOfNewYorkDayNs(date: string): bigint {
  const [year, month, day] = date.split('-').map(Number);
  const ms = Date.UTC(year, month - 1, day + 1, 0 - newYorkOffsetHours(date), 0);
  return BigInt(ms) * NS_PER_MS;
}

export function dayWatermarkNs(date: string, maxEventTimeNs: bigint | null): bigint {
  const end = endOfNewYorkDayNs(date);
  return maxEventTimeNs !== null && maxEventTimeNs >= end ? maxEventTimeNs + 1n : end;
}

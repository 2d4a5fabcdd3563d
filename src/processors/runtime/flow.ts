/**
 * Flow control between a task's inputs. The consumer fetches every partition at about the same rate
 * in bytes, so in a backfill a small topic (option trades) runs hours of event time ahead of a large
 * one (stock quotes), and the processor buffers it all until the watermark catches up: a real day's
 * greeks held all 1M option trades, 600 MB of heap. An input partition whose watermark leads the
 * slowest input partition the task waits for by more than HOLD_LEAD_NS (5 min) is held (paused) until its
 * lead is back under RELEASE_LEAD_NS (1 min), as Kafka Streams pauses partitions whose buffer is full. Live, inputs
 * lead each other by seconds. The lead is measured from the slowest input, not from the task's
 * watermark: a restored task's watermark can trail every input (it advances only once the replay is
 * done), and holding every input would then stop the task for good. The slowest input is never held.
 * Holding changes no output: the held records are processed later, in the same order per partition.
 */

/**
 * A hold costs more than the wait: librdkafka drops what it prefetched for the partition (up to
 * queued.max.messages.kbytes, consumer.ts) and fetches and decompresses it again on release. Greeks through the broker on
 * the real-size day, one session: holding at 60 s and releasing at 30 s, 226 holds and 401k records/s;
 * at 5 min and 1 min, 123 holds and 459k/s; at 10 min and 2 min, 80 and 489k/s. Peak RSS 778 → 858 MB
 * either way. What a hold bounds is event time, so the records buffered scale with the input's rate:
 * 5 min of a real SPY day's option trades are about 13,000.
 */
export const HOLD_LEAD_NS = 300_000_000_000n;
export const RELEASE_LEAD_NS = 60_000_000_000n;

export interface InputPosition {
  topic: string;
  partition: number;
  /** The partition's watermark minus the slowest input partition's of its task; null while one has none. */
  lead: bigint | null;
  held: boolean;
}

export interface FlowDecision {
  hold: { topic: string; partition: number }[];
  release: { topic: string; partition: number }[];
  /** Partitions held after the decision. */
  held: number;
}

export function balanceInputs(inputs: Iterable<InputPosition>): FlowDecision {
  const decision: FlowDecision = { hold: [], release: [], held: 0 };
  for (const { topic, partition, lead, held } of inputs) {
    if (!held && lead !== null && lead > HOLD_LEAD_NS) decision.hold.push({ topic, partition });
    else if (held && (lead === null || lead <= RELEASE_LEAD_NS)) decision.release.push({ topic, partition });
    else if (held) decision.held++;
  }
  decision.held += decision.hold.length;
  return decision;
}

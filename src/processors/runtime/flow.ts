/**
 * Flow control between a task's inputs. The consumer fetches every partition at about the same rate
 * in bytes, so in a backfill a small topic (option trades) runs hours of event time ahead of a large
 * one (stock quotes), and the processor buffers it all until the watermark catches up: a real day's
 * greeks held all 1M option trades, 600 MB of heap. An input partition whose watermark leads the
 * slowest input partition the task waits for by more than HOLD_LEAD_NS is held (paused) until its lead
 * is back under RELEASE_LEAD_NS, as Kafka Streams pauses partitions whose buffer is full. Live, inputs
 * lead each other by seconds. The lead is measured from the slowest input, not from the task's
 * watermark: a restored task's watermark can trail every input (it advances only once the replay is
 * done), and holding every input would then stop the task for good. The slowest input is never held.
 * Holding changes no output: the held records are processed later, in the same order per partition.
 */

export const HOLD_LEAD_NS = 60_000_000_000n;
export const RELEASE_LEAD_NS = 30_000_000_000n;

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

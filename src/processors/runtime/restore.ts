import { NO_WATERMARK, PartitionWatermarkState } from './watermarks';

/**
 * State restore by replay. For every input partition the runtime commits, in the same transaction as
 * the outputs:
 *  - offset   = the first offset whose record may still be in the processor's state (restore point);
 *  - metadata = the position processed so far, the partition's watermark state and the task watermark.
 * After a restart or rebalance the consumer resumes at the restore point; records below the processed
 * position are replayed with their outputs discarded (they were committed before), which rebuilds the
 * state exactly; processing then continues. Chosen over a changelog topic because the features
 * processor keeps every value of its open windows (exact quantiles, dip test): a changelog would write
 * the input a second time, while replay reads a bounded tail of it once, only on restore.
 */

export interface CommitMetadata extends PartitionWatermarkState {
  /** Next offset to process normally; offsets below it are replayed silently. */
  position: bigint;
  /** Task watermark at commit. */
  watermark: bigint;
}

const VERSION = 1;

export function encodeMetadata(m: CommitMetadata): string {
  return JSON.stringify({
    v: VERSION,
    pos: m.position.toString(),
    mx: m.maxEventTime.toString(),
    mk: m.markerFloor.toString(),
    wm: m.watermark.toString(),
  });
}

export function decodeMetadata(text: string | null | undefined): CommitMetadata | undefined {
  if (!text) return undefined;
  try {
    const o = JSON.parse(text) as { v: number; pos: string; mx: string; mk: string; wm: string };
    if (o.v !== VERSION) return undefined;
    return { position: BigInt(o.pos), maxEventTime: BigInt(o.mx), markerFloor: BigInt(o.mk), watermark: BigInt(o.wm) };
  } catch {
    return undefined;
  }
}

/**
 * Tracks, for one input partition, the first offset whose record has event time ≥ a horizon.
 * Keeps one checkpoint per `granularityNs` of event time (only new running maxima are kept, and
 * checkpoints closer than the granularity merge, keeping the lower offset), so memory stays small;
 * the result is conservative: never later than the true restore point.
 */
export class RestorePointTracker {
  private readonly offsets: bigint[] = [];
  private readonly times: bigint[] = [];
  private head = 0;
  private runningMax = NO_WATERMARK;
  private next: bigint;

  constructor(
    startOffset: bigint,
    private readonly granularityNs: bigint = 1_000_000_000n,
  ) {
    this.next = startOffset;
  }

  record(offset: bigint, eventTime: bigint): void {
    this.next = offset + 1n;
    if (eventTime <= this.runningMax) return;
    this.runningMax = eventTime;
    const last = this.times.length - 1;
    if (last >= this.head && eventTime - this.times[last] < this.granularityNs) {
      this.times[last] = eventTime;
      return;
    }
    this.offsets.push(offset);
    this.times.push(eventTime);
  }

  /** A record without event time (marker, poison) only moves the position. */
  skip(offset: bigint): void {
    this.next = offset + 1n;
  }

  get position(): bigint {
    return this.next;
  }

  restorePoint(horizon: bigint): bigint {
    while (this.head < this.times.length && this.times[this.head] < horizon) this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.offsets.splice(0, this.head);
      this.times.splice(0, this.head);
      this.head = 0;
    }
    return this.head < this.offsets.length ? this.offsets[this.head] : this.next;
  }
}

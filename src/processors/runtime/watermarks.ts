/**
 * Event-time watermarks of one task (DESIGN 4). Per input partition: max event time seen minus
 * max_out_of_orderness, raised by producers' watermark markers. The task's watermark is the min over
 * its input partitions, ignoring partitions idle longer than idle_timeout (no record for that long
 * and no lag when last fetched). It never goes backwards.
 *
 * Idleness is a guess for inputs that say nothing about their progress. An input partition that
 * carries watermark markers states it, so it is never idle: a silent one means its producer is busy
 * or down, and a guess made while its last batch waits unprocessed would let the watermark pass
 * records already written (the flatfile producer marks every partition of a day before its first
 * record, and with every transaction). Likewise another processor's output (`idleExempt`): the
 * upstream task forwards its watermark there, from its first commit on.
 */

export const NO_WATERMARK = -(2n ** 63n);

export interface PartitionWatermarkState {
  /** Max event time seen (ns), or NO_WATERMARK. */
  maxEventTime: bigint;
  /** Highest watermark marker received (ns), or NO_WATERMARK. */
  markerFloor: bigint;
}

interface PartitionState extends PartitionWatermarkState {
  /** max(maxEventTime − max out-of-orderness, markerFloor), kept as they change: `advance` reads it for every record. */
  watermark: bigint;
  lastSeenMs: number;
  caughtUp: boolean;
  idleExempt: boolean;
}

export class WatermarkTracker {
  private readonly partitions = new Map<string, PartitionState>();
  private current = NO_WATERMARK;

  constructor(
    inputs: string[],
    private readonly maxOutOfOrdernessNs: bigint,
    private readonly idleTimeoutMs: number,
    nowMs: number,
    idleExempt: ReadonlySet<string> = new Set(),
  ) {
    for (const input of inputs) {
      this.partitions.set(input, { maxEventTime: NO_WATERMARK, markerFloor: NO_WATERMARK, watermark: NO_WATERMARK, lastSeenMs: nowMs, caughtUp: false, idleExempt: idleExempt.has(input) });
    }
  }

  private state(input: string): PartitionState {
    const s = this.partitions.get(input);
    if (!s) throw new Error(`unknown input partition ${input}`);
    return s;
  }

  restore(input: string, saved: PartitionWatermarkState): void {
    const s = this.state(input);
    s.maxEventTime = saved.maxEventTime;
    s.markerFloor = saved.markerFloor;
    s.watermark = this.watermarkOf(s);
  }

  snapshot(input: string): PartitionWatermarkState {
    const { maxEventTime, markerFloor } = this.state(input);
    return { maxEventTime, markerFloor };
  }

  observe(input: string, eventTime: bigint, nowMs: number): void {
    const s = this.state(input);
    if (eventTime > s.maxEventTime) {
      s.maxEventTime = eventTime;
      s.watermark = this.watermarkOf(s);
    }
    s.lastSeenMs = nowMs;
  }

  marker(input: string, watermark: bigint, nowMs: number): void {
    const s = this.state(input);
    if (watermark > s.markerFloor) {
      s.markerFloor = watermark;
      s.watermark = this.watermarkOf(s);
    }
    s.lastSeenMs = nowMs;
  }

  /** Lag as of the last fetch (or, before the first, at the task's start): a partition that is behind is never idle. */
  fetched(input: string, caughtUp: boolean): void {
    this.state(input).caughtUp = caughtUp;
  }

  partitionWatermark(input: string): bigint {
    return this.state(input).watermark;
  }

  private watermarkOf(s: PartitionState): bigint {
    const fromEvents = s.maxEventTime === NO_WATERMARK ? NO_WATERMARK : s.maxEventTime - this.maxOutOfOrdernessNs;
    return fromEvents > s.markerFloor ? fromEvents : s.markerFloor;
  }

  private isIdle(s: PartitionState, nowMs: number): boolean {
    if (s.idleExempt || s.markerFloor !== NO_WATERMARK) return false;
    return nowMs - s.lastSeenMs >= this.idleTimeoutMs && s.caughtUp;
  }

  /**
   * The lowest watermark among the partitions the task waits for (not idle), before the task's
   * watermark clamps it; NO_WATERMARK while one of them has none. Every other partition's lead over it
   * is how far that input runs ahead (flow.ts); the slowest partition's lead is 0, so it is never held.
   */
  slowest(nowMs: number): bigint {
    return this.lowestActive(nowMs) ?? NO_WATERMARK;
  }

  /** The lowest watermark among partitions that are not idle; undefined when all are idle. */
  private lowestActive(nowMs: number): bigint | undefined {
    let min: bigint | undefined;
    for (const s of this.partitions.values()) {
      if (this.isIdle(s, nowMs)) continue;
      if (min === undefined || s.watermark < min) min = s.watermark;
    }
    return min;
  }

  /** Recomputes and returns the watermark; monotone. */
  advance(nowMs: number): bigint {
    let min = this.lowestActive(nowMs);
    if (min === undefined) {
      // Everything idle: the watermark may move up to the most advanced partition.
      for (const input of this.partitions.keys()) {
        const w = this.partitionWatermark(input);
        if (min === undefined || w > min) min = w;
      }
    }
    if (min !== undefined && min > this.current) this.current = min;
    return this.current;
  }

  get watermark(): bigint {
    return this.current;
  }

  /** Sets the task watermark directly (restore). */
  restoreWatermark(watermark: bigint): void {
    if (watermark > this.current) this.current = watermark;
  }
}

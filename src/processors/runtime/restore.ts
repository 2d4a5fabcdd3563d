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

/**
 * Which version of the outputs a task writes (`optflow reprocess`, src/ops/reprocess.ts). The
 * reprocess rewinds the group and commits, with the rewound offsets, metadata that holds only this:
 * the next generation and the first event time to emit. Every output record carries the generation
 * (a consumer keeps the highest per key; the lake keeps the highest per partition), and outputs whose
 * event time is before `fromNs` are not emitted: the rewind may start earlier than `fromNs` (it finds
 * offsets by record timestamp, which is the produce time, never earlier than the event time), and
 * those records only rebuild state, so the days before the reprocess keep their version untouched.
 * The task carries the version forward in every commit, so a restart keeps it.
 */
export interface OutputVersion {
  generation: number;
  /** Outputs (and late records) with an event time before this are not emitted; 0n: no bound. */
  fromNs: bigint;
}

export const INITIAL_VERSION: OutputVersion = { generation: 0, fromNs: 0n };

export interface CommitMetadata extends PartitionWatermarkState {
  /** Next offset to process normally; offsets below it are replayed silently. */
  position: bigint;
  /** Task watermark at commit. */
  watermark: bigint;
  version: OutputVersion;
}

const VERSION = 1;

interface Encoded {
  v: number;
  pos?: string;
  mx?: string;
  mk?: string;
  wm?: string;
  /** Output version (absent in metadata written before reprocess existed: generation 0). */
  gen?: number;
  from?: string;
}

function versionFields(v: OutputVersion): Pick<Encoded, 'gen' | 'from'> {
  return v.generation === 0 && v.fromNs === 0n ? {} : { gen: v.generation, from: v.fromNs.toString() };
}

export function encodeMetadata(m: CommitMetadata): string {
  return JSON.stringify({
    v: VERSION,
    pos: m.position.toString(),
    mx: m.maxEventTime.toString(),
    mk: m.markerFloor.toString(),
    wm: m.watermark.toString(),
    ...versionFields(m.version),
  });
}

/** The metadata of a rewind: a version and no restore state (the next owner starts from the offset). */
export function encodeRewindMetadata(version: OutputVersion): string {
  return JSON.stringify({ v: VERSION, gen: version.generation, from: version.fromNs.toString() });
}

function parse(text: string | null | undefined): Encoded | undefined {
  if (!text) return undefined;
  try {
    const o = JSON.parse(text) as Encoded;
    return o.v === VERSION ? o : undefined;
  } catch {
    return undefined;
  }
}

function versionOf(o: Encoded): OutputVersion {
  return { generation: o.gen ?? 0, fromNs: o.from !== undefined ? BigInt(o.from) : 0n };
}

/** The restore state, or undefined when there is none (nothing committed, a reset, or a rewind). */
export function decodeMetadata(text: string | null | undefined): CommitMetadata | undefined {
  const o = parse(text);
  if (!o || o.pos === undefined || o.mx === undefined || o.mk === undefined || o.wm === undefined) return undefined;
  return { position: BigInt(o.pos), maxEventTime: BigInt(o.mx), markerFloor: BigInt(o.mk), watermark: BigInt(o.wm), version: versionOf(o) };
}

/** The output version of committed metadata, restore state or rewind (INITIAL_VERSION when none). */
export function decodeVersion(text: string | null | undefined): OutputVersion {
  const o = parse(text);
  return o ? versionOf(o) : INITIAL_VERSION;
}

/** The latest of several versions (the highest generation). */
export function latestVersion(versions: Iterable<OutputVersion>): OutputVersion {
  let out = INITIAL_VERSION;
  for (const v of versions) if (v.generation > out.generation) out = v;
  return out;
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

/**
 * The held records of a FrameSorter as typed columns: their sort keys and where each frame is. Plain
 * data, so a spilled run's columns cross to the spill thread as they are, and are sorted there.
 */
import { stableOrderByU64 } from './radix';

export interface KeyColumns {
  timeHi: Uint32Array;
  timeLo: Uint32Array;
  seqHi: Uint32Array;
  seqLo: Uint32Array;
  hasSeq: Uint8Array;
  /** The group's id; `rank` orders ids as their names (compareKeys' `<`). */
  group: Uint32Array;
  /** Input order: the last tie-breaker. */
  order: Float64Array;
  chunk: Uint32Array;
  offset: Uint32Array;
  length: Uint32Array;
}

const NAMES = ['timeHi', 'timeLo', 'seqHi', 'seqLo', 'hasSeq', 'group', 'order', 'chunk', 'offset', 'length'] as const;

export function keyColumns(capacity: number): KeyColumns {
  return {
    timeHi: new Uint32Array(capacity), timeLo: new Uint32Array(capacity), seqHi: new Uint32Array(capacity), seqLo: new Uint32Array(capacity),
    hasSeq: new Uint8Array(capacity), group: new Uint32Array(capacity), order: new Float64Array(capacity),
    chunk: new Uint32Array(capacity), offset: new Uint32Array(capacity), length: new Uint32Array(capacity),
  };
}

export function capacityOf(columns: KeyColumns): number {
  return columns.timeHi.length;
}

/** The columns with room for `capacity` records, the first `used` copied. */
export function grownTo(columns: KeyColumns, capacity: number, used: number): KeyColumns {
  const next = keyColumns(capacity);
  for (const name of NAMES) (next[name] as { set(a: ArrayLike<number>): void }).set(columns[name].subarray(0, used));
  return next;
}

/** Every column's memory (what a transfer of them lists). */
export function columnBuffers(columns: KeyColumns): ArrayBuffer[] {
  return NAMES.map((name) => columns[name].buffer as ArrayBuffer);
}

/** The first `held` records' indices in key order, then arrival: by time, then each run of equal times by the rest of the key. */
export function sortedIndices(columns: KeyColumns, held: number, rank: Int32Array): Uint32Array {
  const { timeHi, timeLo, hasSeq, seqHi, seqLo, group, order } = columns;
  const byTime = stableOrderByU64(timeHi, timeLo, held);
  const rest = (a: number, b: number): number => {
    const ga = rank[group[a]];
    const gb = rank[group[b]];
    if (ga !== gb) return ga < gb ? -1 : 1;
    if (hasSeq[a] !== hasSeq[b]) return hasSeq[a] < hasSeq[b] ? -1 : 1; // null first
    if (hasSeq[a] === 1) {
      if (seqHi[a] !== seqHi[b]) return seqHi[a] < seqHi[b] ? -1 : 1;
      if (seqLo[a] !== seqLo[b]) return seqLo[a] < seqLo[b] ? -1 : 1;
    }
    return order[a] - order[b];
  };
  for (let start = 0; start < byTime.length; ) {
    const first = byTime[start];
    let end = start + 1;
    while (end < byTime.length && timeLo[byTime[end]] === timeLo[first] && timeHi[byTime[end]] === timeHi[first]) end++;
    if (end - start > 1) byTime.subarray(start, end).sort(rest);
    start = end;
  }
  return byTime;
}

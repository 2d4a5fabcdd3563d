/** Messages between an EncodingPool and its workers. */
import type { DatasetId } from '../datasets';
import type { RootMap } from '../parse/opra-lite';
import type { RejectReason } from '../parse/fields';
import type { Rejection } from '../parse/flat-file-parser';
import type { Universe } from '../parse/universe';
import type { ReadAheadEdges } from '../ingest/quote-reduction';

export interface WireSpec {
  dataset: DatasetId;
  origin: string;
  universe: Universe;
  rootMap: RootMap;
  schemaId: number;
  /** The quote reduction's trade times and look-back (null: none). */
  reduction: { tradeTimes: ReadonlyMap<string, BigInt64Array>; lookbackNs: bigint } | null;
  readAhead?: boolean;
}

/** ReadAheadEdges as they arrive (a Buffer comes as a Uint8Array). */
export type WireEdges = Omit<ReadAheadEdges, 'lastFrame'> & { lastFrame: Uint8Array };

export type ToWorker =
  /** A new file: its spec and header line (newline included). */
  | { type: 'file'; spec: WireSpec; header: Uint8Array }
  /** Whole lines of the file, the first being line `firstLine`. */
  | { type: 'block'; firstLine: number; bytes: Uint8Array };

/** What a block added to the file's parse counts. */
export interface BlockCounts {
  lines: number;
  accepted: number;
  filtered: number;
  rejected: Partial<Record<RejectReason, number>>;
}

export type FromWorker =
  | { type: 'ready' }
  /** `block` is the memory of the block encoded, handed back for the next ones. */
  | { type: 'batch'; frames: Uint8Array; count: number; rejections: Rejection[]; maxEventTimeNs: bigint | null; quotesSkipped: number; readAhead: WireEdges | null; counts: BlockCounts; block: ArrayBuffer }
  | { type: 'error'; message: string; stack: string };

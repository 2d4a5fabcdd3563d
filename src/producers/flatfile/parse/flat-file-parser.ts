/**
 * File-level parsing: decompressed chunks in, batches of normalised records and rejections out.
 * Per line: universe filter on the raw bytes, then split + normalise, or a counted rejection.
 */
import { resolveHeader, type ColumnIndex } from './columns';
import type { Dataset } from '../datasets';
import { LineSplitter, type LineSink } from './lines';
import { rowBuilderFor, type MarketRecord, type RowBuilder } from './normalise';
import type { RootMap } from './opra-lite';
import { REJECT_REASONS, RowRejection, splitFields, type RejectReason } from './fields';
import { DEFAULT_UNIVERSE, lineFilterFor, type LineFilter, type Universe } from './universe';

/** A writer that takes kept rows of the usual shape straight from their bytes (byte-rows.ts). */
export interface RowShortcut {
  /** true: the row is written; false: the parser parses it (and rejects it, if it must). */
  row(buf: Buffer, start: number, end: number, lineNumber: number): boolean;
}

export interface FlatFileParseOptions {
  dataset: Dataset;
  /** File key, recorded as each record's origin. */
  origin: string;
  universe?: Universe;
  rootMap?: RootMap;
  /** Each record as it is parsed, in file order, instead of in the returned batches. */
  onRecord?: (record: MarketRecord) => void;
  /** Made once the header is read; its rows come before the parser's (null: none for this header). */
  shortcut?: (columns: ColumnIndex) => RowShortcut | null;
}

export interface Rejection {
  reason: RejectReason;
  detail: string;
  lineNumber: number;
  /** The raw line (latin1), for the DLQ. */
  raw: string;
}

export interface ParsedBatch {
  records: MarketRecord[];
  rejections: Rejection[];
}

export interface ParseStats {
  /** Lines seen including the header. */
  lines: number;
  bytes: number;
  accepted: number;
  /** Rows skipped by the universe filter. */
  filtered: number;
  rejected: Record<RejectReason, number>;
}

function emptyRejectCounts(): Record<RejectReason, number> {
  const counts = {} as Record<RejectReason, number>;
  for (const reason of REJECT_REASONS) counts[reason] = 0;
  return counts;
}

export class FlatFileParser {
  readonly stats: ParseStats = { lines: 0, bytes: 0, accepted: 0, filtered: 0, rejected: emptyRejectCounts() };
  private readonly splitter = new LineSplitter();
  private readonly fields: string[] = [];
  private readonly universe: Universe;
  private readonly rootMap: RootMap;
  private columns: ColumnIndex | null = null;
  private build: RowBuilder | null = null;
  private keep: LineFilter | null = null;
  private shortcut: RowShortcut | null = null;
  private batch: ParsedBatch = { records: [], rejections: [] };
  private readonly sink: LineSink = (buf, start, end, lineNumber) => this.onLine(buf, start, end, lineNumber);

  constructor(private readonly options: FlatFileParseOptions) {
    this.universe = options.universe ?? DEFAULT_UNIVERSE;
    this.rootMap = options.rootMap ?? {};
  }

  /** Column layout found in the header (null before the first line). */
  get header(): ColumnIndex | null {
    return this.columns;
  }

  /** Feeds one decompressed chunk; returns what it completed. Throws HeaderError on a bad header. */
  push(chunk: Buffer): ParsedBatch {
    this.stats.bytes += chunk.length;
    this.splitter.push(chunk, this.sink);
    return this.takeBatch();
  }

  /** The next line pushed is line `lineNumber + 1` of the file (after its header was pushed). */
  continueAt(lineNumber: number): void {
    this.splitter.continueAt(lineNumber);
  }

  /** Flushes a final line without a newline. */
  finish(): ParsedBatch {
    this.splitter.end(this.sink);
    return this.takeBatch();
  }

  private takeBatch(): ParsedBatch {
    const out = this.batch;
    this.batch = { records: [], rejections: [] };
    return out;
  }

  private onLine(buf: Buffer, start: number, end: number, lineNumber: number): void {
    this.stats.lines = lineNumber;
    if (this.build === null) {
      this.readHeader(buf.toString('latin1', start, end));
      return;
    }
    if (!this.keep!(buf, start, end)) {
      this.stats.filtered++;
      return;
    }
    if (this.shortcut !== null && this.shortcut.row(buf, start, end, lineNumber)) {
      this.stats.accepted++;
      return;
    }
    this.parseRow(buf.toString('latin1', start, end), lineNumber);
  }

  private readHeader(line: string): void {
    const { dataset } = this.options;
    this.columns = resolveHeader(dataset.id, splitFields(line, []));
    this.build = rowBuilderFor(dataset.id, this.columns, this.rootMap);
    this.keep = lineFilterFor(this.universe, dataset.isOption, this.columns.indexOf('ticker'), this.rootMap);
    this.shortcut = this.options.shortcut?.(this.columns) ?? null;
  }

  private parseRow(line: string, lineNumber: number): void {
    try {
      const fields = splitFields(line, this.fields);
      if (fields.length !== this.columns!.fieldCount) {
        const detail = line.length === 0 ? 'blank line' : `${fields.length} fields, header has ${this.columns!.fieldCount}`;
        throw new RowRejection('wrong_column_count', detail);
      }
      const record = this.build!(fields, this.options.origin, lineNumber);
      if (this.options.onRecord) this.options.onRecord(record);
      else this.batch.records.push(record);
      this.stats.accepted++;
    } catch (err) {
      if (!(err instanceof RowRejection)) throw err;
      this.stats.rejected[err.reason]++;
      this.batch.rejections.push({ reason: err.reason, detail: err.detail, lineNumber, raw: line });
    }
  }
}

/** Async form: one batch per input chunk (empty batches skipped). Stats live on `parser`. */
export async function* parseChunks(parser: FlatFileParser, chunks: AsyncIterable<Buffer>): AsyncGenerator<ParsedBatch> {
  for await (const chunk of chunks) {
    const batch = parser.push(chunk);
    if (batch.records.length > 0 || batch.rejections.length > 0) yield batch;
  }
  const last = parser.finish();
  if (last.records.length > 0 || last.rejections.length > 0) yield last;
}

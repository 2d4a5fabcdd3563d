/**
 * A file's decompressed bytes → its encoded records (encoded.ts) and dead letters, in file order:
 * per line the universe filter, then the row written straight from its bytes (byte-rows.ts) or split,
 * normalised (normalise.ts) and encoded, with the option-quote pre-filter (quote-reduction.ts).
 * `encodeInline` does it on the calling thread; `EncodingPool` (encoding-pool.ts) spreads the lines
 * over worker threads and hands back the same batches in the same order.
 */
import type { Dataset } from '../datasets';
import { FrameWriter, halvesOf } from './encoded';
import { LatestTime } from './byte-rows';
import { EquityTradeRows } from './equity-trade-rows';
import { OptionTradeRows } from './option-trade-rows';
import { EquityQuoteRows, OptionQuoteRows, type QuoteAdmission } from './quote-rows';
import type { MarketRecord } from '../parse/normalise';
import type { RootMap } from '../parse/opra-lite';
import { BatchReadAhead, type QuoteReduction, type ReadAheadEdges } from '../ingest/quote-reduction';
import { FlatFileParser, type ParseStats, type Rejection, type RowShortcut } from '../parse/flat-file-parser';
import type { Universe } from '../parse/universe';
import type { ColumnIndex } from '../parse/columns';

export interface EncodingSpec {
  dataset: Dataset;
  /** File key, recorded as each record's origin. */
  origin: string;
  universe: Universe;
  rootMap: RootMap;
  /** The registered schema id of the dataset's topic (the values' wire header). */
  schemaId: number;
  /** Option quotes: drop at read those no trade of the day can see (null: keep every quote). */
  reduction: QuoteReduction | null;
  /** With a reduction: the exact rule one quote ahead too (quote-reduction.ts ReadAhead), batch by batch. */
  readAhead?: boolean;
}

export interface EncodedBatch {
  /** The records as packed frames (encoded.ts `packEncoded`). */
  frames: Buffer;
  /** Frames in `frames`. */
  count: number;
  rejections: Rejection[];
  /** Latest event time among the batch's valid rows, dropped quotes included (null: none). */
  maxEventTimeNs: bigint | null;
  quotesSkipped: number;
  /** Under ReadAhead: the batch's first and last quotes, the last one's frame held out of `frames` (ReadAheadJoin decides it). */
  readAhead: ReadAheadEdges | null;
}

/** A file being encoded: its batches in file order, with the parse counts and header so far. */
export interface FileEncoding {
  readonly stats: ParseStats;
  /** Column layout found in the header (null before the first line, or for an empty file). */
  readonly header: ColumnIndex | null;
  batches(chunks: AsyncIterable<Buffer>): AsyncGenerator<EncodedBatch>;
}

/** What the calling thread and each worker run: a file's lines → encoded batches. */
export class RowEncoder {
  readonly parser: FlatFileParser;
  private readonly frames: FrameWriter;
  private readonly reduction: QuoteReduction | null;
  private readonly readAhead: BatchReadAhead | null;
  private readonly latest = new LatestTime();
  private quotesSkipped = 0;

  constructor(spec: EncodingSpec) {
    this.frames = new FrameWriter(spec.dataset, spec.schemaId);
    this.reduction = spec.reduction;
    this.readAhead = spec.reduction !== null && spec.readAhead === true ? new BatchReadAhead(spec.reduction) : null;
    this.parser = new FlatFileParser({
      dataset: spec.dataset, origin: spec.origin, universe: spec.universe, rootMap: spec.rootMap, onRecord: (r) => this.add(r),
      shortcut: (columns) => this.byteRows(spec, columns),
    });
  }

  /** The dataset's writer of rows straight from their bytes (byte-rows.ts), for this header. */
  private byteRows(spec: EncodingSpec, columns: ColumnIndex): RowShortcut | null {
    switch (spec.dataset.id) {
      case 'us_options_opra/trades_v1': return OptionTradeRows.forHeader(columns, spec.origin, spec.rootMap, this.frames, this.latest);
      case 'us_options_opra/quotes_v1': return OptionQuoteRows.forHeader(columns, spec.origin, spec.rootMap, this.frames, this.latest, this.reduction === null ? null : this.admit);
      case 'us_stocks_sip/quotes_v1': return EquityQuoteRows.forHeader(columns, spec.origin, this.frames, this.latest);
      case 'us_stocks_sip/trades_v1': return EquityTradeRows.forHeader(columns, spec.origin, this.frames, this.latest);
    }
  }

  /** Quote reduction at read, counting what it drops: the filter, then ReadAhead (which may hold a quote, or take back the previous one). */
  private readonly admit: QuoteAdmission = (ticker, hi, lo, held) => {
    if (this.reduction === null) return 'write';
    if (!this.reduction.candidateAt(ticker, hi, lo)) {
      this.quotesSkipped++;
      return 'drop';
    }
    if (this.readAhead === null) return 'write';
    if (this.readAhead.next(ticker, hi, lo, this.frames, held)) this.quotesSkipped++;
    return held === null ? 'write' : 'held';
  };

  push(chunk: Buffer): EncodedBatch {
    return this.take(this.parser.push(chunk).rejections);
  }

  finish(): EncodedBatch {
    return this.take(this.parser.finish().rejections);
  }

  /** Whole lines (the last may lack its newline) as one batch. */
  block(bytes: Buffer): EncodedBatch {
    const parsed = this.parser.push(bytes);
    return this.take(parsed.rejections.concat(this.parser.finish().rejections));
  }

  private add(record: MarketRecord): void {
    const [lo, hi] = halvesOf(record.sip_timestamp);
    this.latest.observe(hi, lo);
    if (this.admit(record.ticker, hi, lo, null) !== 'drop') this.frames.add(record);
  }

  private take(rejections: Rejection[]): EncodedBatch {
    const quotesSkipped = this.quotesSkipped;
    this.quotesSkipped = 0;
    const { frames, count, edges } = this.readAhead === null ? { count: this.frames.count, frames: this.frames.take(), edges: null } : this.readAhead.take(this.frames);
    return { frames, count, rejections, maxEventTimeNs: this.latest.take(), quotesSkipped, readAhead: edges };
  }
}

/** Encoding on the calling thread. */
export function encodeInline(spec: EncodingSpec): FileEncoding {
  const encoder = new RowEncoder(spec);
  return {
    get stats() {
      return encoder.parser.stats;
    },
    get header() {
      return encoder.parser.header;
    },
    async *batches(chunks) {
      for await (const chunk of chunks) yield encoder.push(chunk);
      yield encoder.finish();
    },
  };
}

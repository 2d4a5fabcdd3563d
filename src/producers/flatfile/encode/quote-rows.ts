/**
 * Stock and option quote rows straight from their bytes (byte-rows.ts): together the bulk of a real
 * day (10–20 million stock quotes, OPRA's option quotes many times that, most dropped by quote
 * reduction after being read).
 */
import { writeZigzag64 } from '../../../avro/types';
import { ByteRows, OptionalTime, columnPositions, type LatestTime } from './byte-rows';
import { optionContracts, stockTickers, type RowKey, type RowKeys } from './row-keys';
import type { FrameWriter } from './encoded';
import { writeVarint, type RowFields } from './row-fields';
import type { ColumnIndex, ColumnName } from '../parse/columns';
import type { RootMap } from '../parse/opra-lite';
import type { Hash64 } from '../ingest/dedupe';
import type { HeldFrame } from '../ingest/quote-reduction';

const BAR = 124;
const QUOTE_KEY = 81; // 'Q', a quote's dedupe key's first character

/**
 * One side of a quote. A price of exactly "0" is Massive's absent side: price, size and exchange are
 * all null and the other two columns are not read (normalise.ts quoteSide).
 */
class QuoteSide {
  private present = false;
  private price = 0;
  private size = 0;
  /** -1: none. */
  private exchange = -1;

  constructor(private readonly priceAt: number, private readonly sizeAt: number, private readonly exchangeAt: number) {}

  read(f: RowFields, buf: Buffer): boolean {
    this.present = !f.isZero(buf, this.priceAt);
    if (!this.present) return true;
    if (!f.price(buf, this.priceAt)) return false;
    this.price = f.number;
    if (!f.canonicalInteger(buf, this.sizeAt, false)) return false;
    this.size = f.number;
    this.exchange = f.isEmpty(this.exchangeAt) ? -1 : f.code(buf, this.exchangeAt);
    return f.isEmpty(this.exchangeAt) || this.exchange >= 0;
  }

  /** Its part of the dedupe key's length: `|price|size`, both empty when absent. */
  keyWidth(f: RowFields): number {
    return this.present ? 2 + f.width(this.priceAt) + f.width(this.sizeAt) : 2;
  }

  hashKey(f: RowFields, buf: Buffer, hash: Hash64): void {
    if (this.present) {
      f.hashField(hash, buf, this.priceAt);
      f.hashField(hash, buf, this.sizeAt);
    } else {
      hash.unit(BAR);
      hash.unit(BAR);
    }
  }

  /** price, size, exchange: three unions. */
  write(out: Buffer, pos: number): number {
    if (!this.present) {
      out[pos] = 0;
      out[pos + 1] = 0;
      out[pos + 2] = 0;
      return pos + 3;
    }
    out[pos] = 2;
    out.writeDoubleLE(this.price, pos + 1);
    out[pos + 9] = 2;
    pos = writeVarint(out, pos + 10, this.size);
    if (this.exchange < 0) {
      out[pos] = 0;
      return pos + 1;
    }
    out[pos] = 2;
    return writeVarint(out, pos + 1, this.exchange);
  }
}

type QuoteColumn = 'ticker' | 'sip' | 'sequence' | 'bidPrice' | 'bidSize' | 'bidExchange' | 'askPrice' | 'askSize' | 'askExchange';

/** The columns both kinds of quote read, and `extra`; null when one every row needs is missing. */
function quoteColumns<Extra extends string>(columns: ColumnIndex, extra: Record<Extra, ColumnName>): Record<QuoteColumn | Extra, number> | null {
  return columnPositions(columns, { ticker: 'ticker', sip: 'sip_timestamp', bidPrice: 'bid_price', askPrice: 'ask_price' }, {
    sequence: 'sequence_number', bidSize: 'bid_size', bidExchange: 'bid_exchange', askSize: 'ask_size', askExchange: 'ask_exchange', ...extra,
  });
}

/** What both kinds share: key, time, sequence and the two sides, and the dedupe key of all of them. */
abstract class QuoteRows<Extra extends string> extends ByteRows {
  protected readonly bid: QuoteSide;
  protected readonly ask: QuoteSide;

  protected constructor(protected readonly columns: Record<QuoteColumn | Extra, number>, private readonly keys: RowKeys, fieldCount: number, origin: string, frames: FrameWriter, latest: LatestTime) {
    super(fieldCount, origin, frames, latest);
    this.bid = new QuoteSide(columns.bidPrice, columns.bidSize, columns.bidExchange);
    this.ask = new QuoteSide(columns.askPrice, columns.askSize, columns.askExchange);
  }

  /** The key, time, sequence and sides; the subclass reads what else it needs. */
  protected readQuote(buf: Buffer): boolean {
    const c = this.columns;
    const f = this.fields;
    this.key = this.keys.of(buf, f.starts[c.ticker], f.ends[c.ticker]);
    return this.key !== null && this.readTime(buf, c.sip) && this.readSequence(buf, c.sequence) && this.bid.read(f, buf) && this.ask.read(f, buf);
  }

  /** `Q|ticker|sip|sequence|bid_price|bid_size|ask_price|ask_size` (dedupeKey). */
  protected hashKey(buf: Buffer, key: RowKey): void {
    const c = this.columns;
    const f = this.fields;
    const hash = this.hash.begin(2 + key.bytes.length + 2 + f.width(c.sip) + f.width(c.sequence) + this.bid.keyWidth(f) + this.ask.keyWidth(f));
    hash.unit(QUOTE_KEY);
    hash.unit(BAR);
    hash.bytes(key.bytes, 0, key.bytes.length);
    f.hashField(hash, buf, c.sip);
    f.hashField(hash, buf, c.sequence);
    this.bid.hashKey(f, buf, hash);
    this.ask.hashKey(f, buf, hash);
  }
}

type StockQuoteColumn = 'participant' | 'trf' | 'conditions' | 'indicators' | 'tape';

export class EquityQuoteRows extends QuoteRows<StockQuoteColumn> {
  private readonly participant = new OptionalTime(this.columns.participant);
  private readonly trf = new OptionalTime(this.columns.trf);

  static forHeader(columns: ColumnIndex, origin: string, frames: FrameWriter, latest: LatestTime): EquityQuoteRows | null {
    const at = quoteColumns(columns, {
      participant: 'participant_timestamp', trf: 'trf_timestamp', conditions: 'conditions', indicators: 'indicators', tape: 'tape',
    });
    return at === null ? null : new EquityQuoteRows(at, stockTickers(), columns.fieldCount, origin, frames, latest);
  }

  protected read(buf: Buffer): boolean {
    return this.readQuote(buf) && this.participant.read(this.fields, buf) && this.trf.read(this.fields, buf);
  }

  /** sip, participant and TRF times, sequence, the sides, conditions, indicators, tape. */
  protected writeFields(out: Buffer, pos: number, buf: Buffer): number {
    const c = this.columns;
    const f = this.fields;
    pos = writeZigzag64(out, pos, this.timeHi, this.timeLo);
    pos = this.trf.write(out, this.participant.write(out, pos));
    pos = this.writeSequence(out, pos);
    pos = this.ask.write(out, this.bid.write(out, pos));
    pos = f.writeCodeList(buf, c.conditions, out, pos);
    if (pos < 0) return -1;
    pos = f.writeCodeList(buf, c.indicators, out, pos);
    if (pos < 0) return -1;
    return f.writeOptionalCode(buf, c.tape, out, pos);
  }
}

/**
 * What becomes of a quote at read (quote-reduction.ts): dropped (no trade of the day can see it),
 * written now, or held, to be written by `held.write()` only if ReadAhead keeps it (BatchReadAhead).
 */
export type QuoteFate = 'drop' | 'write' | 'held';
/** Of a quote at (hi, lo), its time's uint32 halves. */
export type QuoteAdmission = (ticker: string, hi: number, lo: number, held: HeldFrame | null) => QuoteFate;

/** The line of a quote ReadAhead has not decided yet: read and written again if it is kept (most are not). */
class HeldLine implements HeldFrame {
  private buf: Buffer | null = null;
  private start = 0;
  private end = 0;
  private lineNumber = 0;

  constructor(private readonly writeLine: (buf: Buffer, start: number, end: number, lineNumber: number) => void) {}

  hold(buf: Buffer, start: number, end: number, lineNumber: number): void {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.lineNumber = lineNumber;
  }

  write(): void {
    const buf = this.buf!;
    this.buf = null;
    this.writeLine(buf, this.start, this.end, this.lineNumber);
  }

  discard(): void {
    this.buf = null;
  }
}

export class OptionQuoteRows extends QuoteRows<never> {
  private readonly held = new HeldLine((buf, start, end, lineNumber) => this.writeHeld(buf, start, end, lineNumber));

  private constructor(columns: Record<QuoteColumn, number>, keys: RowKeys, fieldCount: number, origin: string, frames: FrameWriter, latest: LatestTime, private readonly admission: QuoteAdmission | null) {
    super(columns, keys, fieldCount, origin, frames, latest);
  }

  static forHeader(columns: ColumnIndex, origin: string, rootMap: RootMap, frames: FrameWriter, latest: LatestTime, admission: QuoteAdmission | null): OptionQuoteRows | null {
    const at = quoteColumns(columns, {});
    return at === null ? null : new OptionQuoteRows(at, optionContracts(rootMap), columns.fieldCount, origin, frames, latest, admission);
  }

  protected read(buf: Buffer): boolean {
    return this.readQuote(buf);
  }

  protected override admit(buf: Buffer, start: number, end: number, lineNumber: number): boolean {
    if (this.admission === null) return true;
    const fate = this.admission(this.key!.text, this.timeHi, this.timeLo, this.held);
    if (fate === 'held') this.held.hold(buf, start, end, lineNumber);
    return fate === 'write';
  }

  /** sip time, sequence, the sides. */
  protected writeFields(out: Buffer, pos: number): number {
    pos = writeZigzag64(out, pos, this.timeHi, this.timeLo);
    pos = this.writeSequence(out, pos);
    return this.ask.write(out, this.bid.write(out, pos));
  }
}

/**
 * Option-trade rows of Massive's usual shape written straight from the line's bytes into their spill
 * frame (encoded.ts), with no field strings, bigints or record object: the parser's way spent most of
 * a worker's time making those for a frame that holds none of them. A row qualifies when every field
 * is plain and canonical: timestamps of 19 digits, a price whose text is how JavaScript prints its
 * double (it goes into the dedupe key as that text), sizes and sequence numbers without leading zeros
 * and below 2^53, codes of at most 9 digits. Any other row is left to the parser (`row` returns
 * false), which also makes every rejection; so is a contract whose symbol does not parse or is not
 * ASCII. The frames are byte for byte the parser's (test/unit/flatfile/option-trade-rows.test.ts).
 */
import type { Type } from 'avsc';
import { avroType, loadSchema, writeZigzag64 } from '../../../avro/types';
import { FRAME, type FrameWriter } from './encoded';
import { Hash64 } from '../ingest/dedupe';
import type { ColumnIndex, ColumnName } from '../parse/columns';
import { parseOpraSymbol, type RootMap } from '../parse/opra-lite';
import type { RowShortcut } from '../parse/flat-file-parser';

const COMMA = 44;
const QUOTE = 34;
const DOT = 46;
const ZERO = 48;
const BAR = 124;
const TRADE = 84; // 'T', a trade's dedupe key's first character
const TWO_32 = 0x1_0000_0000;

/** The latest event time seen, as the two 32-bit halves of the ns count (hi = -1: none yet). */
export class LatestTime {
  hi = -1;
  lo = 0;

  observe(hi: number, lo: number): void {
    if (hi > this.hi || (hi === this.hi && lo > this.lo)) {
      this.hi = hi;
      this.lo = lo;
    }
  }

  /** The latest time, and forgets it. */
  take(): bigint | null {
    const latest = this.hi < 0 ? null : (BigInt(this.hi) << 32n) | BigInt(this.lo);
    this.hi = -1;
    this.lo = 0;
    return latest;
  }
}

/** What is written once per contract: its frame key bytes and the Avro of its contract fields. */
interface Contract {
  ticker: Buffer;
  group: Buffer;
  /** ticker, underlying, root, expiration_date, right, strike: the value's first six fields. */
  avro: Buffer;
}

/** The Avro of OptionTrade's first six fields, the contract's: a record's encoding is its fields' in order. */
function contractType(): Type {
  const { json } = loadSchema('OptionTrade');
  const schema = json as unknown as { fields: unknown[] };
  return avroType({ ...schema, name: 'OptionTradeContract', fields: schema.fields.slice(0, 6) } as Parameters<typeof avroType>[0]);
}

/** A non-negative integer below 2^53 as Avro's zig-zag varint at `pos`; returns the position after it. */
function writeVarint(out: Buffer, pos: number, value: number): number {
  let z = value * 2;
  while (z >= 0x80) {
    out[pos++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  out[pos++] = z;
  return pos;
}

export class OptionTradeRows implements RowShortcut {
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly contractType = contractType();
  private contract: Contract | null = null;
  private readonly origin: Buffer;
  private readonly header: Buffer;
  private readonly hash = new Hash64();
  /** Set by the field readers: the last timestamp's two halves, the last number. */
  private hi = 0;
  private lo = 0;
  private number = 0;
  /** The row being written, as `read` found it (the participant time is left in hi/lo). */
  private timeHi = 0;
  private timeLo = 0;
  private hasParticipant = false;
  /** -1: none. */
  private sequence = -1;
  private priceValue = 0;
  private size = 0;

  private constructor(
    private readonly columns: Record<'ticker' | 'conditions' | 'correction' | 'exchange' | 'participant' | 'price' | 'sip' | 'size' | 'sequence', number>,
    private readonly fieldCount: number,
    origin: string,
    private readonly rootMap: RootMap,
    private readonly frames: FrameWriter,
    private readonly latest: LatestTime,
  ) {
    // One slot past the row's fields that split() never writes: an absent optional column reads it, empty.
    this.starts = new Int32Array(fieldCount + 1);
    this.ends = new Int32Array(fieldCount + 1);
    const text = Buffer.from(origin, 'utf8');
    const avroString = Buffer.alloc(10 + text.length);
    const at = writeVarint(avroString, 0, text.length);
    this.origin = avroString.subarray(0, at + text.copy(avroString, at));
    this.header = frames.header;
  }

  /**
   * The shortcut for a file with this header; null when a column every row needs is missing. An absent
   * optional column (participant_timestamp in 7-column files, sequence_number, the codes) reads as
   * empty, as the parser's getter does.
   */
  static forHeader(columns: ColumnIndex, origin: string, rootMap: RootMap, frames: FrameWriter, latest: LatestTime): OptionTradeRows | null {
    const absent = columns.fieldCount;
    const find = (name: ColumnName): number => columns.indexOf(name);
    const optional = (name: ColumnName): number => (find(name) < 0 ? absent : find(name));
    const at = {
      ticker: find('ticker'), price: find('price'), sip: find('sip_timestamp'), size: find('size'),
      conditions: optional('conditions'), correction: optional('correction'), exchange: optional('exchange'),
      participant: optional('participant_timestamp'), sequence: optional('sequence_number'),
    };
    if ([at.ticker, at.price, at.sip, at.size].some((i) => i < 0)) return null;
    return new OptionTradeRows(at, columns.fieldCount, origin, rootMap, frames, latest);
  }

  row(buf: Buffer, start: number, end: number, lineNumber: number): boolean {
    if (!this.split(buf, start, end) || !this.read(buf)) return false;
    const contract = this.contract!;
    const frameAt = this.frames.position;
    const out = this.frames.reserve(64 + contract.group.length + contract.ticker.length + this.header.length + contract.avro.length + this.origin.length + 4 * (end - start));
    const valueAt = this.writeHead(out, frameAt + 4, buf, contract);
    const written = this.writeValue(out, valueAt, buf, contract, lineNumber);
    if (written < 0) return false; // nothing committed: the parser takes the row
    out.writeUInt32LE(written - frameAt - 4, frameAt);
    this.frames.commit(written);
    this.latest.observe(this.timeHi, this.timeLo);
    return true;
  }

  /** The contract, times, sequence, price and size of the split row; false when one is not plain. */
  private read(buf: Buffer): boolean {
    const c = this.columns;
    if (this.contractOf(buf, this.starts[c.ticker], this.ends[c.ticker]) === null) return false;
    if (!this.timestamp(buf, this.starts[c.sip], this.ends[c.sip])) return false;
    this.timeHi = this.hi;
    this.timeLo = this.lo;
    const participantAt = this.starts[c.participant];
    const participantEnd = this.ends[c.participant];
    // empty or "0": Massive's "none"
    this.hasParticipant = !(participantEnd === participantAt || (participantEnd === participantAt + 1 && buf[participantAt] === ZERO));
    if (this.hasParticipant && !this.timestamp(buf, participantAt, participantEnd)) return false;
    if (this.starts[c.sequence] === this.ends[c.sequence]) this.sequence = -1;
    else if (this.canonicalInteger(buf, this.starts[c.sequence], this.ends[c.sequence], true)) this.sequence = this.number;
    else return false;
    if (!this.price(buf, this.starts[c.price], this.ends[c.price])) return false;
    this.priceValue = this.number;
    if (!this.canonicalInteger(buf, this.starts[c.size], this.ends[c.size], false)) return false;
    this.size = this.number;
    return true;
  }

  /** The frame's key part (encoded.ts writeFrameHead's bytes); returns where the value starts. */
  private writeHead(out: Buffer, head: number, buf: Buffer, contract: Contract): number {
    const c = this.columns;
    out.writeUInt32LE(this.timeLo, head + FRAME.TIME);
    out.writeUInt32LE(this.timeHi, head + FRAME.TIME + 4);
    const sequence = this.sequence;
    out[head + FRAME.HAS_SEQ] = sequence < 0 ? 0 : 1;
    out.writeUInt32LE(sequence < 0 ? 0 : sequence % TWO_32, head + FRAME.SEQ);
    out.writeUInt32LE(sequence < 0 ? 0 : Math.floor(sequence / TWO_32), head + FRAME.SEQ + 4);
    // dedupe.ts's hash64 of `T|ticker|sip|sequence|price|size` (dedupeKey), over the line's own ASCII
    // bytes, each its UTF-16 code unit: the fields are the text String() gives of their values.
    const hash = this.hash.begin(2 + contract.ticker.length + this.width(c.sip) + this.width(c.sequence) + this.width(c.price) + this.width(c.size) + 4);
    hash.unit(TRADE);
    hash.unit(BAR);
    hash.bytes(contract.ticker, 0, contract.ticker.length);
    this.hashField(buf, c.sip);
    this.hashField(buf, c.sequence);
    this.hashField(buf, c.price);
    this.hashField(buf, c.size);
    out.writeUInt32LE(hash.hi, head + FRAME.HASH_HI);
    out.writeUInt32LE(hash.lo, head + FRAME.HASH_LO);
    let pos = head + FRAME.GROUP_LENGTH;
    out.writeUInt16LE(contract.group.length, pos);
    pos += 2 + contract.group.copy(out, pos + 2);
    out.writeUInt16LE(contract.ticker.length, pos);
    return pos + 2 + contract.ticker.copy(out, pos + 2);
  }

  /** The Kafka value: wire header, then OptionTrade's fields in schema order; -1 when a code field is not plain. */
  private writeValue(out: Buffer, pos: number, buf: Buffer, contract: Contract, lineNumber: number): number {
    pos += this.header.copy(out, pos);
    pos += contract.avro.copy(out, pos);
    pos = writeZigzag64(out, pos, this.timeHi, this.timeLo);
    if (this.hasParticipant) {
      out[pos++] = 2; // union branch 1: long
      pos = writeZigzag64(out, pos, this.hi, this.lo);
    } else {
      out[pos++] = 0;
    }
    if (this.sequence < 0) out[pos++] = 0;
    else {
      out[pos++] = 2;
      pos = writeVarint(out, pos, this.sequence);
    }
    out.writeDoubleLE(this.priceValue, pos);
    pos = writeVarint(out, pos + 8, this.size);
    return this.tail(buf, out, pos, lineNumber);
  }

  /** A column's width in bytes (0 for a column the file lacks). */
  private width(column: number): number {
    return this.ends[column] - this.starts[column];
  }

  private hashField(buf: Buffer, column: number): void {
    this.hash.unit(BAR);
    this.hash.bytes(buf, this.starts[column], this.ends[column]);
  }

  /** exchange, conditions, correction, source, origin, origin_offset; -1 when a field is not plain. */
  private tail(buf: Buffer, out: Buffer, pos: number, lineNumber: number): number {
    const c = this.columns;
    pos = this.optionalCode(buf, this.starts[c.exchange], this.ends[c.exchange], out, pos);
    if (pos < 0) return -1;
    pos = this.codeList(buf, this.starts[c.conditions], this.ends[c.conditions], out, pos);
    if (pos < 0) return -1;
    pos = this.optionalCode(buf, this.starts[c.correction], this.ends[c.correction], out, pos);
    if (pos < 0) return -1;
    out[pos++] = 0; // source: flatfile, the enum's first symbol
    pos += this.origin.copy(out, pos);
    return writeVarint(out, pos, lineNumber);
  }

  /** Field bounds into starts/ends; false unless the line has exactly the header's field count. */
  private split(buf: Buffer, start: number, end: number): boolean {
    let pos = start;
    const last = this.fieldCount - 1;
    for (let i = 0; ; i++) {
      let stop: number;
      if (pos < end && buf[pos] === QUOTE) {
        let close = pos + 1;
        while (close < end && buf[close] !== QUOTE) close++;
        if (close >= end) return false;
        this.starts[i] = pos + 1;
        this.ends[i] = close;
        stop = close + 1;
        if (stop < end && buf[stop] !== COMMA) return false; // `""` inside, or text after the quote
      } else {
        stop = pos;
        while (stop < end && buf[stop] !== COMMA) stop++;
        this.starts[i] = pos;
        this.ends[i] = stop;
      }
      if (i === last) return stop === end;
      if (stop >= end) return false;
      pos = stop + 1;
    }
  }

  /** The contract of this ticker, from the last row's when the same; null: leave the row to the parser. */
  private contractOf(buf: Buffer, start: number, end: number): Contract | null {
    const known = this.contract;
    if (known !== null && known.ticker.length === end - start) {
      let i = 0;
      while (i < known.ticker.length && known.ticker[i] === buf[start + i]) i++;
      if (i === known.ticker.length) return known;
    }
    for (let i = start; i < end; i++) if (buf[i] >= 0x80) return null;
    const ticker = buf.toString('latin1', start, end);
    const fields = ticker.length === 0 ? null : parseOpraSymbol(ticker, this.rootMap);
    if (fields === null) return null;
    const group = Buffer.from(fields.underlying, 'utf8');
    const avro = this.contractType.toBuffer({ ticker, ...fields });
    this.contract = { ticker: Buffer.from(ticker, 'latin1'), group, avro };
    return this.contract;
  }

  /**
   * 19 digits, the first 1–3 (inside the accepted range, 2000-2100), into hi/lo: the first ten digits
   * times 10^9 plus the last nine, in pieces that stay exact in doubles.
   */
  private timestamp(buf: Buffer, start: number, end: number): boolean {
    if (end - start !== 19 || buf[start] < 49 || buf[start] > 51) return false;
    let high = 0;
    for (let i = start; i < start + 10; i++) {
      const d = buf[i] - ZERO;
      if (d < 0 || d > 9) return false;
      high = high * 10 + d;
    }
    let low = 0;
    for (let i = start + 10; i < end; i++) {
      const d = buf[i] - ZERO;
      if (d < 0 || d > 9) return false;
      low = low * 10 + d;
    }
    // high·10^9 + low with high = a·2^16 + b: (a·10^9)·2^16 + b·10^9 + low, each part below 2^53.
    const a = Math.floor(high / 0x10000);
    const b = high % 0x10000;
    const upper = a * 1e9;
    const upperHigh = Math.floor(upper / 0x10000);
    const rest = (upper % 0x10000) * 0x10000 + b * 1e9 + low;
    this.lo = rest % TWO_32;
    this.hi = upperHigh + Math.floor(rest / TWO_32);
    return true;
  }

  /** Digits without a leading zero ("0" itself only when `zeroAllowed`), below 2^53, into `number`. */
  private canonicalInteger(buf: Buffer, start: number, end: number, zeroAllowed: boolean): boolean {
    const length = end - start;
    if (length === 0 || length > 15) return false;
    if (buf[start] === ZERO) {
      if (length !== 1 || !zeroAllowed) return false;
      this.number = 0;
      return true;
    }
    let value = 0;
    for (let i = start; i < end; i++) {
      const d = buf[i] - ZERO;
      if (d < 0 || d > 9) return false;
      value = value * 10 + d;
    }
    this.number = value;
    return true;
  }

  /**
   * A positive price written as JavaScript prints its double: no leading zero but "0.", no trailing
   * zero after the point, at most 15 digits (so N / 10^k is Number(text) exactly, and prints back as the
   * text), and not below 10^-6 (printed with an exponent).
   */
  private price(buf: Buffer, start: number, end: number): boolean {
    let digits = 0;
    let scaled = 0;
    let pos = start;
    while (pos < end && buf[pos] !== DOT) {
      const d = buf[pos] - ZERO;
      if (d < 0 || d > 9) return false;
      scaled = scaled * 10 + d;
      digits++;
      pos++;
    }
    if (digits === 0 || (digits > 1 && buf[start] === ZERO)) return false;
    let fraction = 0;
    if (pos < end) {
      for (pos++; pos < end; pos++) {
        const d = buf[pos] - ZERO;
        if (d < 0 || d > 9) return false;
        scaled = scaled * 10 + d;
        digits++;
        fraction++;
      }
      if (fraction === 0 || buf[end - 1] === ZERO) return false;
    }
    if (digits > 15 || scaled === 0) return false;
    if (scaled < 10 ** (fraction - 6)) return false; // below 1e-6
    this.number = fraction === 0 ? scaled : scaled / 10 ** fraction;
    return true;
  }

  /** An optional Avro int of at most 9 digits: union index, then the value; -1 when not plain. */
  private optionalCode(buf: Buffer, start: number, end: number, out: Buffer, pos: number): number {
    if (start === end) {
      out[pos] = 0;
      return pos + 1;
    }
    const value = this.code(buf, start, end);
    if (value < 0) return -1;
    out[pos] = 2;
    return writeVarint(out, pos + 1, value);
  }

  /** `12` or `12,37`: Avro's array of int (one block, then 0); -1 when not plain. */
  private codeList(buf: Buffer, start: number, end: number, out: Buffer, pos: number): number {
    if (start === end) {
      out[pos] = 0;
      return pos + 1;
    }
    let count = 1;
    for (let i = start; i < end; i++) if (buf[i] === COMMA) count++;
    pos = writeVarint(out, pos, count);
    let from = start;
    for (let k = 0; k < count; k++) {
      let stop = from;
      while (stop < end && buf[stop] !== COMMA) stop++;
      const value = this.code(buf, from, stop);
      if (value < 0) return -1;
      pos = writeVarint(out, pos, value);
      from = stop + 1;
    }
    out[pos] = 0;
    return pos + 1;
  }

  /** 1–9 digits (an Avro int), or -1. */
  private code(buf: Buffer, start: number, end: number): number {
    if (end === start || end - start > 9) return -1;
    let value = 0;
    for (let i = start; i < end; i++) {
      const d = buf[i] - ZERO;
      if (d < 0 || d > 9) return -1;
      value = value * 10 + d;
    }
    return value;
  }
}

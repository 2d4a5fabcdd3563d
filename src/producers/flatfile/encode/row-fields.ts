/**
 * A CSV line's fields as byte ranges, and strict readers that accept only a field's plain, canonical
 * text: what the byte-level row writers (byte-rows.ts) can write without asking the parser. A reader
 * that returns false (or -1) leaves the row to the parser, which parses it or rejects it.
 */
import type { Hash64 } from '../ingest/dedupe';

const COMMA = 44;
const QUOTE = 34;
const DOT = 46;
const ZERO = 48;
const BAR = 124;
const TWO_32 = 0x1_0000_0000;

/** A non-negative integer below 2^53 as Avro's zig-zag varint at `pos`; returns the position after it. */
export function writeVarint(out: Buffer, pos: number, value: number): number {
  let z = value * 2;
  while (z >= 0x80) {
    out[pos++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  out[pos++] = z;
  return pos;
}

export class RowFields {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** A column the file lacks reads this slot, which split() never writes: always empty. */
  readonly absent: number;
  /** Set by the readers: the last timestamp's two 32-bit halves, the last number. */
  hi = 0;
  lo = 0;
  number = 0;

  constructor(private readonly fieldCount: number) {
    this.absent = fieldCount;
    this.starts = new Int32Array(fieldCount + 1);
    this.ends = new Int32Array(fieldCount + 1);
  }

  /** Field bounds into starts/ends; false unless the line has exactly the header's field count. */
  split(buf: Buffer, start: number, end: number): boolean {
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

  /** A column's width in bytes (0 for a column the file lacks). */
  width(column: number): number {
    return this.ends[column] - this.starts[column];
  }

  isEmpty(column: number): boolean {
    return this.ends[column] === this.starts[column];
  }

  isAscii(buf: Buffer, column: number): boolean {
    for (let i = this.starts[column]; i < this.ends[column]; i++) if (buf[i] >= 0x80) return false;
    return true;
  }

  /** Exactly "0". */
  isZero(buf: Buffer, column: number): boolean {
    return this.ends[column] === this.starts[column] + 1 && buf[this.starts[column]] === ZERO;
  }

  /** Empty or "0": Massive's "none" for an optional timestamp. */
  isNoTime(buf: Buffer, column: number): boolean {
    return this.isEmpty(column) || this.isZero(buf, column);
  }

  /** `|` and the field's bytes, each its UTF-16 code unit (the field is ASCII once a reader took it). */
  hashField(hash: Hash64, buf: Buffer, column: number): void {
    hash.unit(BAR);
    hash.bytes(buf, this.starts[column], this.ends[column]);
  }

  /**
   * 19 digits, the first 1–3 (inside the accepted range, 2000-2100), into hi/lo. The first ten digits
   * `high` (below 2^32) and the last nine `low` make high·10^9 + low: lo is that mod 2^32, from the
   * low words of the products (Math.imul); hi is exact in two parts, with high = a·2^16 + b and a·10^9
   * = u·2^16 + uLow: hi = u + (uLow·2^16 + b·10^9 + low − lo) / 2^32, each term below 2^53 and each
   * division exact. No floor or modulo of a double (a call each): half the time of the version with them.
   */
  timestamp(buf: Buffer, column: number): boolean {
    const start = this.starts[column];
    const end = this.ends[column];
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
    const a = high >>> 16;
    const b = high & 0xffff;
    const uLow = Math.imul(a, 1e9) & 0xffff;
    const lo = (Math.imul(high, 1e9) + low) >>> 0;
    this.lo = lo;
    this.hi = (a * 1e9 - uLow) / 0x10000 + (uLow * 0x10000 + b * 1e9 + low - lo) / TWO_32;
    return true;
  }

  /** Digits without a leading zero ("0" itself only when `zeroAllowed`), below 2^53, into `number`. */
  canonicalInteger(buf: Buffer, column: number, zeroAllowed: boolean): boolean {
    const start = this.starts[column];
    const end = this.ends[column];
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
   * A positive price written as JavaScript prints its double, into `number`: no leading zero but "0.",
   * no trailing zero after the point, at most 15 digits (so N / 10^k is Number(text) exactly, and
   * prints back as the text; the dedupe key holds that text), and not below 10^-6 (printed with an
   * exponent).
   */
  price(buf: Buffer, column: number): boolean {
    const start = this.starts[column];
    const end = this.ends[column];
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

  /** 1–9 digits (an Avro int), or -1. */
  code(buf: Buffer, column: number): number {
    return digitsValue(buf, this.starts[column], this.ends[column]);
  }

  /** An optional Avro int of at most 9 digits: union index, then the value; -1 when not plain. */
  writeOptionalCode(buf: Buffer, column: number, out: Buffer, pos: number): number {
    if (this.isEmpty(column)) {
      out[pos] = 0;
      return pos + 1;
    }
    const value = this.code(buf, column);
    if (value < 0) return -1;
    out[pos] = 2;
    return writeVarint(out, pos + 1, value);
  }

  /** `12` or `12,37`: Avro's array of int (one block, then 0); -1 when not plain. */
  writeCodeList(buf: Buffer, column: number, out: Buffer, pos: number): number {
    const start = this.starts[column];
    const end = this.ends[column];
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
      const value = digitsValue(buf, from, stop);
      if (value < 0) return -1;
      pos = writeVarint(out, pos, value);
      from = stop + 1;
    }
    out[pos] = 0;
    return pos + 1;
  }
}

/** 1–9 digits, or -1. */
function digitsValue(buf: Buffer, start: number, end: number): number {
  if (end === start || end - start > 9) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - ZERO;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

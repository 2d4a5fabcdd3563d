/**
 * Hand-rolled CSV field splitting and strict scalar parsing for Massive rows. csv-parse is kept
 * only as a test oracle: it is several times slower than this on multi-GB days.
 */

export type RejectReason =
  | 'non_numeric'
  | 'missing_field'
  | 'non_positive_price'
  | 'non_positive_size'
  | 'timestamp_out_of_range'
  | 'bad_symbol'
  | 'wrong_column_count'
  | 'unterminated_quote'
  | 'number_out_of_range';

export const REJECT_REASONS: readonly RejectReason[] = [
  'non_numeric', 'missing_field', 'non_positive_price', 'non_positive_size',
  'timestamp_out_of_range', 'bad_symbol', 'wrong_column_count', 'unterminated_quote', 'number_out_of_range',
];

/** Thrown by the field readers; caught once per row by the normaliser. */
export class RowRejection extends Error {
  constructor(readonly reason: RejectReason, readonly detail: string) {
    super(`${reason}: ${detail}`);
  }
}

/** Accepted event-time range: [2000-01-01, 2100-01-01) UTC in ns. Catches ms/µs/s stamps. */
export const MIN_TIMESTAMP_NS = 946_684_800_000_000_000n;
export const MAX_TIMESTAMP_NS = 4_102_444_800_000_000_000n;

const QUOTE = 34;
const COMMA = 44;

/**
 * Splits one CSV line into `out` (cleared first). Quoted fields may hold commas; `""` inside
 * quotes is a literal quote. Throws RowRejection('unterminated_quote') on a broken quote.
 */
export function splitFields(line: string, out: string[]): string[] {
  out.length = 0;
  const len = line.length;
  let pos = 0;
  for (;;) {
    if (pos < len && line.charCodeAt(pos) === QUOTE) {
      pos = readQuoted(line, pos, out);
    } else {
      const comma = line.indexOf(',', pos);
      const stop = comma < 0 ? len : comma;
      out.push(line.slice(pos, stop));
      pos = stop;
    }
    if (pos >= len) return out;
    pos += 1; // past the comma
    if (pos === len) {
      out.push('');
      return out;
    }
  }
}

/** Reads a quoted field starting at `open`; returns the index just after it (a comma or end). */
function readQuoted(line: string, open: number, out: string[]): number {
  let value = '';
  let from = open + 1;
  for (;;) {
    const close = line.indexOf('"', from);
    if (close < 0) throw new RowRejection('unterminated_quote', `quote opened at column ${open + 1} is never closed`);
    value += line.slice(from, close);
    if (line.charCodeAt(close + 1) === QUOTE) {
      value += '"';
      from = close + 2;
      continue;
    }
    const after = close + 1;
    if (after < line.length && line.charCodeAt(after) !== COMMA) {
      throw new RowRejection('unterminated_quote', `text after closing quote at column ${after + 1}`);
    }
    out.push(value);
    return after;
  }
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Plain decimal: optional '-', digits, optional '.digits'. No exponents, spaces or hex. */
function isDecimal(s: string): boolean {
  let i = s.charCodeAt(0) === 45 ? 1 : 0;
  let digits = 0;
  let dot = false;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46 && !dot) dot = true;
    else return false;
  }
  return digits > 0;
}

function requirePresent(value: string, column: string): void {
  if (value.length === 0) throw new RowRejection('missing_field', `${column} is empty`);
}

/** A decimal beyond a double (e.g. 400 digits) would become Infinity: rejected, never produced. */
export function parseDecimalField(value: string, column: string): number {
  requirePresent(value, column);
  if (!isDecimal(value)) throw new RowRejection('non_numeric', `${column}="${value}"`);
  const n = Number(value);
  if (!Number.isFinite(n)) throw new RowRejection('number_out_of_range', `${column}=${value.slice(0, 40)}… (${value.length} chars) exceeds a double`);
  return n;
}

/** Largest values of the Avro types the fields are written as: a larger one fails encoding. */
const INT32_MAX = 2_147_483_647;
const INT64_MAX = 9_223_372_036_854_775_807n;

/** Non-negative integer that fits Avro `int` (codes, exchanges, corrections, tape). */
export function parseSmallIntField(value: string, column: string): number {
  requirePresent(value, column);
  if (!isDigits(value)) throw new RowRejection('non_numeric', `${column}="${value}"`);
  const n = value.length > 10 ? Infinity : Number(value);
  if (n > INT32_MAX) throw new RowRejection('number_out_of_range', `${column}=${value.slice(0, 40)} exceeds int32`);
  return n;
}

/** Non-negative integer that fits Avro `long` (sizes, sequence numbers, ns timestamps). */
export function parseBigIntField(value: string, column: string): bigint {
  requirePresent(value, column);
  if (!isDigits(value)) throw new RowRejection('non_numeric', `${column}="${value}"`);
  const n = value.length > 19 ? INT64_MAX + 1n : BigInt(value);
  if (n > INT64_MAX) throw new RowRejection('number_out_of_range', `${column}=${value.slice(0, 40)} exceeds int64`);
  return n;
}

/** ns timestamp, exact (BigInt of the digits, never through a double), range-checked. */
export function parseTimestampField(value: string, column: string): bigint {
  requirePresent(value, column);
  if (!isDigits(value)) throw new RowRejection('non_numeric', `${column}="${value}"`);
  const ns = value.length > 19 ? MAX_TIMESTAMP_NS : BigInt(value);
  if (ns < MIN_TIMESTAMP_NS || ns >= MAX_TIMESTAMP_NS) {
    throw new RowRejection('timestamp_out_of_range', `${column}=${value.slice(0, 40)} outside [2000-01-01, 2100-01-01) ns`);
  }
  return ns;
}

/** Optional timestamp: empty or 0 (Massive's "none") → null, anything else range-checked. */
export function parseOptionalTimestamp(value: string, column: string): bigint | null {
  if (value.length === 0 || value === '0') return null;
  return parseTimestampField(value, column);
}

export function parseOptionalSmallInt(value: string, column: string): number | null {
  return value.length === 0 ? null : parseSmallIntField(value, column);
}

export function parseOptionalBigInt(value: string, column: string): bigint | null {
  return value.length === 0 ? null : parseBigIntField(value, column);
}

/** `12`, `12,37` (already unquoted) or empty → code list. */
export function parseCodeList(value: string, column: string): number[] {
  if (value.length === 0) return [];
  if (value.indexOf(',') < 0) return [parseSmallIntField(value.trim(), column)];
  return value.split(',').map((part) => parseSmallIntField(part.trim(), column));
}

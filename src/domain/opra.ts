/**
 * OPRA option symbols (DESIGN 2): `O:SPY251219C00650000` = root SPY, expiry 2025-12-19, call,
 * strike 650.000 (8 digits / 1000). The root is whatever sits between `O:` and the fixed
 * 15-character suffix (YYMMDD, C|P, 8-digit strike), 1–6 upper-case letters or digits, so that
 * SPXW and adjusted roots like SPY1 parse. Roots map to an underlying through a config map,
 * identity by default (e.g. { SPXW: 'SPX' }).
 *
 * Runs on every row: hand-rolled character checks, no regular expressions or Date objects.
 */
import type { OpraFields, OptionRight } from './records';

export type RootMap = Readonly<Record<string, string>>;

const PREFIX = 'O:';
const SUFFIX_LENGTH = 15;
const MAX_ROOT_LENGTH = 6;
const DIGIT_0 = 48;
const UPPER_A = 65;
const UPPER_Z = 90;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export class OpraSymbolError extends Error {
  constructor(
    readonly ticker: string,
    readonly reason: string,
  ) {
    super(`'${ticker}' is not an OPRA option symbol (O:<root><YYMMDD><C|P><8-digit strike>): ${reason}`);
    this.name = 'OpraSymbolError';
  }
}

/** Parses an OPRA symbol or throws OpraSymbolError saying what is wrong. */
export function parseOpra(ticker: string, rootMap: RootMap = {}): OpraFields {
  const fields = readOpra(ticker, rootMap);
  if (typeof fields === 'string') throw new OpraSymbolError(ticker, fields);
  return fields;
}

/** Parses an OPRA symbol, or null when malformed (for hot paths that route bad rows to a DLQ). */
export function tryParseOpra(ticker: string, rootMap: RootMap = {}): OpraFields | null {
  const fields = readOpra(ticker, rootMap);
  return typeof fields === 'string' ? null : fields;
}

/** Underlying of a root: the mapped name, else the root itself. */
export function underlyingOfRoot(root: string, rootMap: RootMap): string {
  return Object.prototype.hasOwnProperty.call(rootMap, root) ? rootMap[root] : root;
}

/** The OPRA symbol of a contract (inverse of parseOpra). */
export function formatOpra(root: string, expirationDate: string, right: OptionRight, strike: number): string {
  const yymmdd = expirationDate.slice(2, 4) + expirationDate.slice(5, 7) + expirationDate.slice(8, 10);
  return `${PREFIX}${root}${yymmdd}${right}${String(Math.round(strike * 1000)).padStart(8, '0')}`;
}

/** The parsed fields, or the reason the symbol is malformed. */
function readOpra(ticker: string, rootMap: RootMap): OpraFields | string {
  if (typeof ticker !== 'string' || !ticker.startsWith(PREFIX)) return "missing 'O:' prefix";
  const rootLength = ticker.length - PREFIX.length - SUFFIX_LENGTH;
  if (rootLength < 1) return 'too short';
  if (rootLength > MAX_ROOT_LENGTH) return `root longer than ${MAX_ROOT_LENGTH} characters`;
  const rootEnd = PREFIX.length + rootLength;
  if (!isRoot(ticker, PREFIX.length, rootEnd)) return 'root must be upper-case letters or digits';
  const yy = digits(ticker, rootEnd, 2);
  const mm = digits(ticker, rootEnd + 2, 2);
  const dd = digits(ticker, rootEnd + 4, 2);
  if (yy < 0 || mm < 0 || dd < 0) return 'expiry is not 6 digits YYMMDD';
  if (mm < 1 || mm > 12 || dd < 1 || dd > daysInMonth(2000 + yy, mm)) return 'expiry is not a calendar date';
  const rightCode = ticker.charAt(rootEnd + 6);
  if (rightCode !== 'C' && rightCode !== 'P') return "right must be 'C' or 'P'";
  const strikeUnits = digits(ticker, rootEnd + 7, 8);
  if (strikeUnits < 0) return 'strike is not 8 digits';
  if (strikeUnits === 0) return 'strike is zero';
  const root = ticker.slice(PREFIX.length, rootEnd);
  return {
    underlying: underlyingOfRoot(root, rootMap),
    root,
    expiration_date: `20${ticker.slice(rootEnd, rootEnd + 2)}-${ticker.slice(rootEnd + 2, rootEnd + 4)}-${ticker.slice(rootEnd + 4, rootEnd + 6)}`,
    right: rightCode,
    strike: strikeUnits / 1000,
  };
}

function isRoot(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    const isDigit = c >= DIGIT_0 && c <= DIGIT_0 + 9;
    if (!isDigit && (c < UPPER_A || c > UPPER_Z)) return false;
  }
  return true;
}

/** Non-negative integer from `count` decimal digits at `from`, or −1 if any is not a digit. */
function digits(s: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return leap ? 29 : DAYS_IN_MONTH[month - 1];
}

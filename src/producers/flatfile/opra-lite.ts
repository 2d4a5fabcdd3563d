/**
 * Minimal OPRA symbol reading for the flat-file parser, kept here until src/domain/opra.ts is
 * shared. `O:SPY251219C00650000` = root SPY, expiry 2025-12-19, call, strike 650.000.
 */
import type { OpraFields, OptionRight } from '../../domain/records';

/** YYMMDD + C/P + 8-digit strike. */
export const OPRA_SUFFIX_LENGTH = 15;
const PREFIX = 'O:';

export type RootMap = Readonly<Record<string, string>>;

/** Root as published, or null when the symbol is too short to hold one. Does not validate. */
export function opraRootOf(ticker: string): string | null {
  const rootLength = ticker.length - PREFIX.length - OPRA_SUFFIX_LENGTH;
  if (!ticker.startsWith(PREFIX) || rootLength < 1) return null;
  return ticker.slice(PREFIX.length, PREFIX.length + rootLength);
}

export function underlyingOfRoot(root: string, rootMap: RootMap): string {
  return Object.prototype.hasOwnProperty.call(rootMap, root) ? rootMap[root] : root;
}

/** Full parse and validation; null when the symbol is not a well-formed OPRA symbol. */
export function parseOpraSymbol(ticker: string, rootMap: RootMap): OpraFields | null {
  const root = opraRootOf(ticker);
  if (root === null || !/^[A-Z][A-Z0-9]{0,5}$/.test(root)) return null;
  const suffix = ticker.slice(ticker.length - OPRA_SUFFIX_LENGTH);
  const match = /^(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/.exec(suffix);
  if (match === null) return null;
  const [, yy, mm, dd, right, strikeDigits] = match;
  const expiration = `20${yy}-${mm}-${dd}`;
  if (!isCalendarDate(expiration)) return null;
  const strike = Number(strikeDigits) / 1000;
  if (strike <= 0) return null;
  return {
    underlying: underlyingOfRoot(root, rootMap),
    root,
    expiration_date: expiration,
    right: right as OptionRight,
    strike,
  };
}

function isCalendarDate(isoDate: string): boolean {
  const t = Date.parse(`${isoDate}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === isoDate;
}

/**
 * Cheap universe filter run on the raw line bytes BEFORE any field parsing: it looks only at the
 * ticker field (options: the OPRA root, mapped to its underlying). Rows whose ticker cannot be
 * read are kept, so the full parse rejects them with a reason instead of hiding them.
 */
import { OPRA_SUFFIX_LENGTH, underlyingOfRoot, type RootMap } from './opra-lite';

/** `'*'` = every underlying; otherwise the underlyings to keep (e.g. `['SPY']`). */
export type Universe = '*' | readonly string[];

export const DEFAULT_UNIVERSE: Universe = ['SPY'];

/** true = parse the row, false = skip it (not in the universe). */
export type LineFilter = (buf: Buffer, start: number, end: number) => boolean;

const COMMA = 44;
const QUOTE = 34;
const KEEP_ALL: LineFilter = () => true;

export function isAllUniverse(universe: Universe): universe is '*' {
  return universe === '*';
}

/** Roots whose underlying is in the universe (identity unless the root map says otherwise). */
export function rootsForUniverse(underlyings: readonly string[], rootMap: RootMap): string[] {
  const wanted = new Set(underlyings);
  const roots = new Set<string>();
  for (const u of underlyings) if (wanted.has(underlyingOfRoot(u, rootMap))) roots.add(u);
  for (const [root, underlying] of Object.entries(rootMap)) if (wanted.has(underlying)) roots.add(root);
  return [...roots].sort();
}

export function lineFilterFor(
  universe: Universe,
  isOption: boolean,
  tickerIndex: number,
  rootMap: RootMap = {},
): LineFilter {
  if (isAllUniverse(universe)) return KEEP_ALL;
  const names = isOption ? rootsForUniverse(universe, rootMap) : [...universe];
  const matches = nameMatcher(names);
  return (buf, start, end) => {
    const field = tickerSpan(buf, start, end, tickerIndex);
    if (field === null) return true;
    let [from, to] = field;
    if (isOption) {
      if (to - from <= 2 + OPRA_SUFFIX_LENGTH || buf[from] !== 79 /* O */ || buf[from + 1] !== 58 /* : */) return true;
      from += 2;
      to -= OPRA_SUFFIX_LENGTH;
    }
    return matches(buf, from, to);
  };
}

/** [start, end) of the ticker field, or null when a quote precedes it (let the parser decide). */
function tickerSpan(buf: Buffer, start: number, end: number, tickerIndex: number): [number, number] | null {
  let from = start;
  for (let skipped = 0; skipped < tickerIndex; skipped++) {
    const comma = indexOfByte(buf, COMMA, from, end);
    if (comma < 0) return null;
    from = comma + 1;
  }
  const comma = indexOfByte(buf, COMMA, from, end);
  const to = comma < 0 ? end : comma;
  for (let i = from; i < to; i++) if (buf[i] === QUOTE) return null;
  return [from, to];
}

function indexOfByte(buf: Buffer, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

type NameMatcher = (buf: Buffer, from: number, to: number) => boolean;

/** Byte comparison against a few names; a Set of strings beyond that. */
function nameMatcher(names: readonly string[]): NameMatcher {
  if (names.length > 8) {
    const set = new Set(names);
    return (buf, from, to) => set.has(buf.toString('latin1', from, to));
  }
  const encoded = names.map((n) => Buffer.from(n, 'latin1'));
  return (buf, from, to) => {
    const len = to - from;
    for (const name of encoded) {
      if (name.length !== len) continue;
      let i = 0;
      while (i < len && buf[from + i] === name[i]) i++;
      if (i === len) return true;
    }
    return false;
  };
}

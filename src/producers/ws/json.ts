/**
 * JSON.parse turns integers above 2^53 into doubles, losing the last digits of ns timestamps and
 * large sequence numbers. quoteLargeIntegers rewrites every integer literal of 16+ digits that sits
 * outside a string into a string literal first, so the parser hands them over exactly.
 */

const LARGE = 16;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function quoteLargeIntegers(text: string): string {
  let out = '';
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (c !== 45 /* - */ && !isDigit(c)) continue;
    const start = i;
    let j = c === 45 ? i + 1 : i;
    while (j < text.length && isDigit(text.charCodeAt(j))) j++;
    const next = text.charCodeAt(j);
    const isInteger = !(next === 46 /* . */ || next === 101 /* e */ || next === 69 /* E */);
    const digits = j - (c === 45 ? start + 1 : start);
    if (isInteger && digits >= LARGE) {
      out += `${text.slice(copied, start)}"${text.slice(start, j)}"`;
      copied = j;
    }
    // skip the rest of a number (fraction, exponent) so its digits are not re-read
    while (j < text.length && /[0-9.eE+-]/.test(text[j])) j++;
    i = j - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** JSON.parse with large integers kept exact as decimal strings. */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(quoteLargeIntegers(text));
}

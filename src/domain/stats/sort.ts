/**
 * Ascending sort of float64 values, the same order as `Float64Array.prototype.sort()` (−0 before
 * +0, NaN last), as an LSD radix sort on the IEEE 754 bit patterns for arrays large enough to pay
 * for the histograms. Equal doubles have equal bits, so the result is bit-identical to the native
 * sort; the native one is a comparison sort (n log n), this one four linear passes at most.
 * Arrays holding a NaN (whose sign bit would misplace it) take the native sort.
 */

/** Below this length the native comparison sort wins (measured on Node 24: 26 ns/value native vs 106 at 2,048 values, 72 vs 29 at 20,000, 83 vs 22 at 80,000). */
const RADIX_MIN_LENGTH = 8192;
const DIGIT_BITS = 16;
const BUCKETS = 1 << DIGIT_BITS;

let scratch = new Uint32Array(0);
const counts = new Uint32Array(4 * BUCKETS);
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([-0]).buffer)[7] === 0x80;

/** Sorts `values` in place and returns it. */
export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_MIN_LENGTH || !LITTLE_ENDIAN || hasNaN(values)) return values.sort();
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  if (scratch.length < 2 * n) scratch = new Uint32Array(2 * n);
  const other = scratch.subarray(0, 2 * n);
  toOrderedBits(words);
  counts.fill(0);
  histogram(words, n);
  let from: Uint32Array = words;
  let to: Uint32Array = other;
  for (let digit = 0; digit < 4; digit++) {
    if (!scatter(from, to, n, digit)) continue;
    [from, to] = [to, from];
  }
  if (from !== words) words.set(from);
  fromOrderedBits(words);
  return values;
}

function hasNaN(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== values[i]) return true;
  return false;
}

/**
 * Maps each double's bits (little-endian word pairs: low, high) to an unsigned integer in the
 * same order: a positive number gets its sign bit set, a negative one all its bits flipped.
 */
function toOrderedBits(words: Uint32Array): void {
  for (let i = 0; i < words.length; i += 2) {
    const negative = words[i + 1] >>> 31 === 1;
    words[i] = negative ? ~words[i] >>> 0 : words[i];
    words[i + 1] = negative ? ~words[i + 1] >>> 0 : (words[i + 1] | 0x80000000) >>> 0;
  }
}

function fromOrderedBits(words: Uint32Array): void {
  for (let i = 0; i < words.length; i += 2) {
    const wasNegative = words[i + 1] >>> 31 === 0;
    words[i] = wasNegative ? ~words[i] >>> 0 : words[i];
    words[i + 1] = wasNegative ? ~words[i + 1] >>> 0 : (words[i + 1] & 0x7fffffff) >>> 0;
  }
}

/** Counts of every 16-bit digit, least significant first, in one pass. */
function histogram(words: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i];
    const hi = words[2 * i + 1];
    counts[lo & 0xffff]++;
    counts[BUCKETS + (lo >>> 16)]++;
    counts[2 * BUCKETS + (hi & 0xffff)]++;
    counts[3 * BUCKETS + (hi >>> 16)]++;
  }
}

/** One stable counting pass on `digit`; false (nothing moved) when every value has the same digit. */
function scatter(from: Uint32Array, to: Uint32Array, n: number, digit: number): boolean {
  const base = digit * BUCKETS;
  const word = digit >>> 1;
  const shift = (digit & 1) * DIGIT_BITS;
  const first = (from[word] >>> shift) & 0xffff;
  if (counts[base + first] === n) return false;
  let offset = 0;
  for (let b = 0; b < BUCKETS; b++) {
    const c = counts[base + b];
    counts[base + b] = offset;
    offset += c;
  }
  for (let i = 0; i < n; i++) {
    const lo = from[2 * i];
    const hi = from[2 * i + 1];
    const at = 2 * counts[base + ((((word === 0 ? lo : hi) >>> shift) & 0xffff))]++;
    to[at] = lo;
    to[at + 1] = hi;
  }
  return true;
}

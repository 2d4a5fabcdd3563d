/**
 * Stable LSD radix sort of indices by an unsigned 64-bit key held as two u32 columns. A comparator
 * sort of 2M indices by the frames' time columns took a sixth of the producer's read phase.
 */
const DIGIT_BITS = 16;
const DIGIT_MASK = (1 << DIGIT_BITS) - 1;

/** Indices 0..n-1 ordered by (hi, lo) as unsigned 64-bit, equal keys in index order. */
export function stableOrderByU64(hi: Uint32Array, lo: Uint32Array, n: number): Uint32Array {
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let spare = new Uint32Array(n);
  const starts = new Uint32Array(1 << DIGIT_BITS);
  const passes: [Uint32Array, number][] = [[lo, 0], [lo, DIGIT_BITS], [hi, 0], [hi, DIGIT_BITS]];
  for (const [column, shift] of passes) {
    if (!countDigits(column, shift, n, starts)) continue;
    for (let i = 0; i < n; i++) {
      const index = order[i];
      spare[starts[(column[index] >>> shift) & DIGIT_MASK]++] = index;
    }
    [order, spare] = [spare, order];
  }
  return order;
}

/** Fills `starts` with each digit's first slot; false when every key has the same digit (the pass would move nothing). */
function countDigits(column: Uint32Array, shift: number, n: number, starts: Uint32Array): boolean {
  starts.fill(0);
  for (let i = 0; i < n; i++) starts[(column[i] >>> shift) & DIGIT_MASK]++;
  if (n === 0 || starts[(column[0] >>> shift) & DIGIT_MASK] === n) return false;
  let sum = 0;
  for (let d = 0; d < starts.length; d++) {
    const count = starts[d];
    starts[d] = sum;
    sum += count;
  }
  return true;
}

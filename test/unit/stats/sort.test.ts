import { sortFloat64 } from '../../../src/domain/stats/sort';
import { Xoshiro128ss } from '../../../src/domain/stats/prng';

/** The native sort is the oracle: the radix sort must give the same bits, value by value. */
function expectSameAsNative(values: Float64Array): void {
  const expected = values.slice().sort();
  const got = sortFloat64(values.slice());
  expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(expected.buffer))).toBe(true);
}

describe('sortFloat64', () => {
  const rng = Xoshiro128ss.fromParts('sort-test');

  it('sorts in place and returns the same array', () => {
    const values = Float64Array.from({ length: 20_000 }, (_, i) => (i * 7919) % 20_000);
    const sorted = sortFloat64(values);
    expect(sorted).toBe(values);
    for (let i = 0; i < values.length; i++) expect(values[i]).toBe(i);
  });

  it('matches the native sort on prices, mixed signs, wide magnitudes and ties, at lengths around the radix threshold', () => {
    for (const n of [0, 1, 2, 100, 8191, 8192, 8193, 50_000, 200_000]) {
      const prices = Float64Array.from({ length: n }, () => Math.round(rng.nextDouble() * 50_000) / 100);
      expectSameAsNative(prices);
      const signed = Float64Array.from({ length: n }, () => (rng.nextDouble() - 0.5) * Math.pow(10, Math.floor(rng.nextDouble() * 600) - 300));
      expectSameAsNative(signed);
      const ties = Float64Array.from({ length: n }, () => Math.floor(rng.nextDouble() * 5) - 2);
      expectSameAsNative(ties);
    }
  });

  it('orders −0 before +0, infinities at the ends, subnormals by value, and leaves NaN last', () => {
    const specials = [0, -0, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 2.2250738585072014e-308, -5e-324, 1, -1];
    const values = Float64Array.from({ length: 30_000 }, (_, i) => specials[i % specials.length]);
    expectSameAsNative(values);
    const sorted = sortFloat64(values.slice());
    expect(sorted[0]).toBe(-Infinity);
    expect(sorted[sorted.length - 1]).toBe(Infinity);
    const firstZero = sorted.findIndex((v) => v === 0);
    expect(Object.is(sorted[firstZero], -0)).toBe(true);
    expect(Object.is(sorted[firstZero + 2500 - 1], -0)).toBe(true);
    expect(Object.is(sorted[firstZero + 2500], 0)).toBe(true);
    const withNaN = Float64Array.from({ length: 10_000 }, (_, i) => (i % 97 === 0 ? NaN : (i * 31) % 1000) * (i % 2 ? -1 : 1));
    expectSameAsNative(withNaN);
    expect(Number.isNaN(sortFloat64(withNaN.slice())[9_999])).toBe(true);
  });

  it('sorts a view into a larger buffer without touching the rest', () => {
    const whole = Float64Array.from({ length: 30_000 }, (_, i) => 30_000 - i);
    const view = whole.subarray(5_000, 25_000);
    sortFloat64(view);
    expect(whole[0]).toBe(30_000);
    expect(whole[29_999]).toBe(1);
    expect(view[0]).toBe(5_001);
    expect(view[19_999]).toBe(25_000);
  });
});

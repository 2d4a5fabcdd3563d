import { Xoshiro128ss } from '../../../src/domain/stats/prng';

describe('xoshiro128**', () => {
  it('matches the reference output for state {1, 2, 3, 4}', () => {
    const rng = new Xoshiro128ss([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => rng.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });
  it('seeds from SHA-256 of the NUL-joined parts (values from an independent Python implementation)', () => {
    const rng = Xoshiro128ss.fromParts('SPY', '5m', '1700000000000000000', 'calls_dadvv');
    expect(rng.nextDouble()).toBe(0.7743792271704525);
    expect(rng.nextDouble()).toBe(0.7703071452482361);
  });
  it('rejects an all-zero state', () => {
    expect(() => new Xoshiro128ss([0, 0, 0, 0])).toThrow(RangeError);
  });
});

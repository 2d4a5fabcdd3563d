import { TumblingWindows, windowStart } from '../../../src/processors/runtime/windows';

describe('tumbling windows', () => {
  const count = { initialize: () => 0, agg: (s: number) => s + 1, result: (s: number) => s };

  it('aligns to the epoch, including negative times', () => {
    expect(windowStart(125n, 60n)).toBe(120n);
    expect(windowStart(120n, 60n)).toBe(120n);
    expect(windowStart(-1n, 60n)).toBe(-60n);
  });

  it('closes at end + allowed lateness, in (end, key) order, and rejects late items', () => {
    const w = new TumblingWindows(60n, 5n, count);
    expect(w.add('b', 10n, null, 0n)).toBe(true);
    expect(w.add('a', 59n, null, 0n)).toBe(true);
    expect(w.add('a', 61n, null, 0n)).toBe(true);
    expect(w.close(64n)).toEqual([]);
    expect(w.close(65n)).toEqual([
      { key: 'a', start: 0n, end: 60n, result: 1 },
      { key: 'b', start: 0n, end: 60n, result: 1 },
    ]);
    expect(w.add('a', 30n, null, 65n)).toBe(false);
    expect(w.add('a', 119n, null, 65n)).toBe(true);
    expect(w.close(1000n)).toEqual([{ key: 'a', start: 60n, end: 120n, result: 2 }]);
    expect(w.openWindows).toBe(0);
  });
});

import { TumblingWindows, windowStart } from '../../../src/processors/runtime/tumbling-windows';

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

  it('keeps no window for a late item, even one for the window the previous item went to', () => {
    const w = new TumblingWindows(60n, 5n, count);
    expect(w.add('a', 10n, null, 0n)).toBe(true);
    // The watermark has passed the window's close, but close() has not run yet.
    expect(w.add('a', 11n, null, 65n)).toBe(false);
    expect(w.close(65n)).toEqual([{ key: 'a', start: 0n, end: 60n, result: 1 }]);
    expect(w.add('a', 12n, null, 65n)).toBe(false);
    expect(w.openWindows).toBe(0);
    expect(w.close(10_000n)).toEqual([]);
  });

  it('agrees with a naive model on random keys, out-of-order times and watermarks', () => {
    let seed = 7;
    const next = (m: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % m);
    const w = new TumblingWindows(60n, 20n, count);
    const model = new Map<string, { key: string; start: bigint; end: bigint; result: number }>();
    let watermark = 0n;
    const closedByModel: { key: string; start: bigint; end: bigint; result: number }[] = [];
    const closedByWindows: typeof closedByModel = [];
    for (let i = 0; i < 5000; i++) {
      const key = ['SPY', 'QQQ', 'IWM'][next(3)];
      const t = watermark + BigInt(next(120)) - 30n;
      const start = windowStart(t, 60n);
      const late = start + 60n + 20n <= watermark;
      expect(w.add(key, t, null, watermark)).toBe(!late);
      if (!late) {
        const id = `${start}|${key}`;
        const open = model.get(id) ?? { key, start, end: start + 60n, result: 0 };
        open.result++;
        model.set(id, open);
      }
      if (next(10) === 0) {
        watermark += BigInt(next(40));
        const due = [...model.values()].filter((o) => o.end + 20n <= watermark);
        due.sort((a, b) => (a.end < b.end ? -1 : a.end > b.end ? 1 : a.key < b.key ? -1 : 1));
        for (const o of due) model.delete(`${o.start}|${o.key}`);
        closedByModel.push(...due);
        closedByWindows.push(...w.close(watermark));
      }
    }
    expect(closedByWindows.length).toBeGreaterThan(100);
    expect(closedByWindows).toEqual(closedByModel);
    expect(w.openWindows).toBe(model.size);
  });
});

import { assignCoPartitioned } from '../../../src/processors/runtime/assigner';
import { TumblingWindows, windowStart } from '../../../src/processors/runtime/windows';

describe('co-partitioned assignment', () => {
  it('gives partition p of every topic to the same member and covers every partition once', () => {
    const plan = assignCoPartitioned(['m2', 'm1', 'm3'], new Map([['a', 6], ['b', 6], ['c', 4]]));
    const owner = new Map<string, string>();
    for (const [member, topics] of plan) {
      for (const [topic, partitions] of topics) {
        for (const p of partitions) {
          expect(owner.has(`${topic}/${p}`)).toBe(false);
          owner.set(`${topic}/${p}`, member);
        }
      }
    }
    expect(owner.size).toBe(16);
    for (let p = 0; p < 6; p += 1) {
      expect(owner.get(`b/${p}`)).toBe(owner.get(`a/${p}`));
      if (p < 4) expect(owner.get(`c/${p}`)).toBe(owner.get(`a/${p}`));
    }
    expect(plan.get('m1')!.get('a')).toEqual([0, 3]);
  });
});

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

import { backoffMs } from '../../../src/producers/ws/backoff';
import { BoundedBuffer } from '../../../src/producers/ws/buffer';
import { SequenceTracker } from '../../../src/producers/ws/sequence';
import { PartitionHeartbeats } from '../../../src/producers/ws/watermark';

describe('backoffMs', () => {
  const s = { initialMs: 500, maxMs: 30_000 };
  it('doubles per attempt, is capped, and jitters within [ceiling/2, ceiling]', () => {
    expect(backoffMs(0, s, () => 0)).toBe(250);
    expect(backoffMs(0, s, () => 1)).toBe(500);
    expect(backoffMs(3, s, () => 1)).toBe(4000);
    expect(backoffMs(3, s, () => 0.5)).toBe(3000);
    expect(backoffMs(10, s, () => 1)).toBe(30_000);
    expect(backoffMs(1000, s, () => 0)).toBe(15_000);
  });
  it('is a pure function of attempt and rng', () => {
    expect(backoffMs(4, s, () => 0.25)).toBe(backoffMs(4, s, () => 0.25));
  });
});

describe('BoundedBuffer', () => {
  it('is FIFO, drops and counts on overflow, wraps around', () => {
    const b = new BoundedBuffer<number>(3);
    expect([b.push(1), b.push(2), b.push(3), b.push(4)]).toEqual([true, true, true, false]);
    expect(b.dropped).toBe(1);
    expect(b.take(2)).toEqual([1, 2]);
    b.push(5);
    b.push(6);
    expect(b.push(7)).toBe(false);
    expect(b.take(10)).toEqual([3, 5, 6]);
    expect(b.size).toBe(0);
    expect(b.dropped).toBe(2);
  });
  it('wait resolves on push or timeout', async () => {
    const b = new BoundedBuffer<number>(2);
    const waited = b.wait(10_000);
    b.push(1);
    await waited;
    const t0 = Date.now();
    b.take(1);
    await b.wait(20);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
  });
});

describe('SequenceTracker', () => {
  it('counts gaps and regressions per stream', () => {
    const t = new SequenceTracker();
    expect(t.observe('T.SPY', 10n)).toEqual({ kind: 'first' });
    expect(t.observe('T.SPY', 11n)).toEqual({ kind: 'next' });
    expect(t.observe('Q.SPY', 500n)).toEqual({ kind: 'first' });
    expect(t.observe('T.SPY', 15n)).toEqual({ kind: 'gap', missing: 3n });
    expect(t.observe('T.SPY', 15n)).toEqual({ kind: 'regression' });
    expect(t.observe('Q.SPY', 501n)).toEqual({ kind: 'next' });
    expect(t.observe('T.SPY', null)).toEqual({ kind: 'next' });
    expect([t.gaps, t.missing, t.regressions, t.streams]).toEqual([1, 3n, 1, 2]);
  });
});

describe('PartitionHeartbeats', () => {
  it('is each partition\'s max event time minus the lag, due only when it advanced', () => {
    const w = new PartitionHeartbeats(2000);
    expect(w.due().size).toBe(0);
    w.observe(1, 10_000_000_000n);
    w.observe(1, 9_000_000_000n);
    expect(w.due()).toEqual(new Map([[1, 8_000_000_000n]]));
    w.sent(1, 8_000_000_000n);
    expect(w.due().size).toBe(0);
    w.observe(1, 10_000_000_001n);
    expect(w.due()).toEqual(new Map([[1, 8_000_000_001n]]));
  });

  it('never moves a quiet partition with a busy one', () => {
    const w = new PartitionHeartbeats(1000);
    w.observe(2, 5_000_000_000n); // quiet underlying, once
    for (let t = 5_000_000_000n; t <= 60_000_000_000n; t += 1_000_000_000n) w.observe(4, t); // busy one
    expect(w.due()).toEqual(new Map([[2, 4_000_000_000n], [4, 59_000_000_000n]]));
    w.sent(2, 4_000_000_000n);
    w.sent(4, 59_000_000_000n);
    w.observe(4, 70_000_000_000n);
    expect([...w.due().keys()]).toEqual([4]);
  });
});

import { decodeMetadata, decodeVersion, encodeMetadata, encodeRewindMetadata, latestVersion, RestorePointTracker } from '../../../src/processors/runtime/restore';

describe('RestorePointTracker', () => {
  it('returns the first offset whose event time is within the horizon', () => {
    const r = new RestorePointTracker(0n, 1n);
    const times = [10n, 20n, 15n, 30n, 40n, 35n, 50n];
    times.forEach((t, i) => r.record(BigInt(i), t));
    // brute force reference: min offset among records with time >= horizon
    for (const horizon of [0n, 10n, 16n, 20n, 31n, 36n, 41n, 50n, 51n]) {
      const candidates = times.map((t, i) => ({ t, i })).filter((x) => x.t >= horizon);
      const expected = candidates.length ? BigInt(Math.min(...candidates.map((c) => c.i))) : 7n;
      if (horizon >= 16n || horizon <= 10n) expect(r.restorePoint(horizon)).toBeLessThanOrEqual(expected);
      expect(r.restorePoint(horizon)).toBe(expected);
    }
  });

  it('is conservative when checkpoints merge (never later than the true restore point)', () => {
    const r = new RestorePointTracker(100n, 10n);
    for (let i = 0; i < 100; i += 1) r.record(100n + BigInt(i), BigInt(i * 3));
    for (let h = 0; h < 310; h += 7) {
      const trueIdx = Math.ceil(h / 3);
      const truePoint = trueIdx < 100 ? 100n + BigInt(trueIdx) : 200n;
      expect(r.restorePoint(BigInt(h))).toBeLessThanOrEqual(truePoint);
    }
  });

  it('position follows records and skips', () => {
    const r = new RestorePointTracker(5n);
    expect(r.position).toBe(5n);
    r.record(5n, 1n);
    r.skip(6n);
    expect(r.position).toBe(7n);
    expect(r.restorePoint(2n)).toBe(7n);
  });

  it('metadata round-trips exactly, including 64-bit values', () => {
    const m = { position: 12345n, maxEventTime: 1679990400018381329n, markerFloor: -(2n ** 63n), watermark: 1679990400000000001n, version: { generation: 3, fromNs: 1741305600000000000n } };
    expect(decodeMetadata(encodeMetadata(m))).toEqual(m);
    expect(decodeVersion(encodeMetadata(m))).toEqual(m.version);
    expect(decodeMetadata('')).toBeUndefined();
    expect(decodeMetadata('garbage')).toBeUndefined();
  });

  it('metadata written before reprocess existed reads as generation 0; generation 0 writes no version fields', () => {
    const old = '{"v":1,"pos":"7","mx":"5","mk":"4","wm":"3"}';
    expect(decodeMetadata(old)).toEqual({ position: 7n, maxEventTime: 5n, markerFloor: 4n, watermark: 3n, version: { generation: 0, fromNs: 0n } });
    expect(encodeMetadata(decodeMetadata(old)!)).toBe(old);
    expect(decodeVersion(null)).toEqual({ generation: 0, fromNs: 0n });
  });

  it('a rewind carries a version and no restore state', () => {
    const text = encodeRewindMetadata({ generation: 2, fromNs: 1741305600000000000n });
    expect(decodeMetadata(text)).toBeUndefined();
    expect(decodeVersion(text)).toEqual({ generation: 2, fromNs: 1741305600000000000n });
    expect(latestVersion([{ generation: 1, fromNs: 5n }, decodeVersion(text), { generation: 0, fromNs: 0n }])).toEqual(decodeVersion(text));
  });
});

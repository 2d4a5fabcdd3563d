import { NO_WATERMARK, WatermarkTracker } from '../../../src/processors/runtime/watermarks';

const S = 1_000_000_000n;

describe('WatermarkTracker', () => {
  it('is the min over partitions of max event time minus out-of-orderness', () => {
    const w = new WatermarkTracker(['a', 'b'], 2n * S, 10_000, 0);
    w.observe('a', 100n * S, 1);
    expect(w.advance(1)).toBe(NO_WATERMARK); // b has nothing yet and is not idle
    w.observe('b', 50n * S, 2);
    expect(w.advance(2)).toBe(48n * S);
    w.observe('b', 40n * S, 3); // out of order: max stays 50
    expect(w.advance(3)).toBe(48n * S);
    w.observe('b', 200n * S, 4);
    expect(w.advance(4)).toBe(98n * S);
  });

  it('never goes backwards', () => {
    const w = new WatermarkTracker(['a'], 0n, 10_000, 0);
    w.observe('a', 10n * S, 1);
    expect(w.advance(1)).toBe(10n * S);
    w.observe('a', 5n * S, 2);
    expect(w.advance(2)).toBe(10n * S);
  });

  it('markers raise a partition watermark', () => {
    const w = new WatermarkTracker(['a', 'b'], 2n * S, 10_000, 0);
    w.observe('a', 100n * S, 1);
    w.marker('b', 500n * S, 1);
    expect(w.advance(1)).toBe(98n * S);
    w.marker('a', 400n * S, 2);
    expect(w.advance(2)).toBe(400n * S);
  });

  it('ignores a partition idle past idle_timeout, but not one that is behind', () => {
    const w = new WatermarkTracker(['a', 'b'], 0n, 1000, 0);
    w.observe('a', 100n * S, 0);
    w.observe('b', 10n * S, 0);
    w.fetched('b', false);
    w.observe('a', 200n * S, 5000);
    expect(w.advance(5000)).toBe(10n * S); // b lags: not idle
    w.fetched('b', true);
    expect(w.advance(5000)).toBe(200n * S); // b caught up and silent for 5 s: idle
  });

  it('never counts a partition that carries markers as idle: its producer states its progress', () => {
    const w = new WatermarkTracker(['a', 'b'], 0n, 1000, 0);
    w.marker('a', 100n * S, 0);
    w.marker('b', 100n * S, 0);
    w.fetched('b', true);
    w.observe('a', 200n * S, 5000);
    w.marker('a', 199n * S, 5000);
    expect(w.advance(5000)).toBe(100n * S); // b silent and caught up as of its last fetch: held, not guessed idle
    w.marker('b', 199n * S, 5001);
    expect(w.advance(5001)).toBe(199n * S);
  });

  it('never counts another processor\'s output as idle: it holds the watermark until its markers move', () => {
    const w = new WatermarkTracker(['source', 'upstream'], 0n, 1000, 0, new Set(['upstream']));
    w.observe('source', 100n * S, 0);
    w.marker('upstream', 50n * S, 0);
    w.fetched('upstream', true);
    w.observe('source', 300n * S, 60_000);
    expect(w.advance(60_000)).toBe(50n * S); // silent for a minute, caught up: still not idle
    w.marker('upstream', 250n * S, 60_001);
    expect(w.advance(60_001)).toBe(250n * S);
  });
});

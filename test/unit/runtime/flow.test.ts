import { balanceInputs, HOLD_LEAD_NS, RELEASE_LEAD_NS } from '../../../src/processors/runtime/flow';
import { NO_WATERMARK, WatermarkTracker } from '../../../src/processors/runtime/watermarks';

const S = 1_000_000_000n;

describe('flow control between inputs', () => {
  const at = (lead: bigint | null, held: boolean, topic = 't') => ({ topic, partition: 0, lead, held });

  it('holds a partition leading by more than 5 minutes, and keeps it held until the lead is back under a minute', () => {
    expect(HOLD_LEAD_NS).toBe(300n * S);
    expect(RELEASE_LEAD_NS).toBe(60n * S);
    expect(balanceInputs([at(300n * S, false)])).toEqual({ hold: [], release: [], held: 0 });
    expect(balanceInputs([at(300n * S + 1n, false)])).toEqual({ hold: [{ topic: 't', partition: 0 }], release: [], held: 1 });
    expect(balanceInputs([at(61n * S, true)])).toEqual({ hold: [], release: [], held: 1 });
    expect(balanceInputs([at(60n * S, true)])).toEqual({ hold: [], release: [{ topic: 't', partition: 0 }], held: 0 });
    expect(balanceInputs([at(0n, false)])).toEqual({ hold: [], release: [], held: 0 });
  });

  it('holds nothing while the task has no watermark, and releases what it held', () => {
    expect(balanceInputs([at(null, false), at(null, true, 'u')])).toEqual({ hold: [], release: [{ topic: 'u', partition: 0 }], held: 0 });
  });

  it('measures leads from the slowest input the task waits for, so the slowest is never held, even when the task watermark trails every input', () => {
    const w = new WatermarkTracker(['quotes', 'trades', 'markers'], 2n * S, 60_000, 0);
    w.restoreWatermark(500n * S);
    w.observe('quotes', 1000n * S, 0);
    w.observe('trades', 5000n * S, 0);
    w.marker('markers', 9000n * S, 0);
    // The task watermark has not been advanced past its restored value: every input leads it by > 60 s.
    expect(w.watermark).toBe(500n * S);
    const slowest = w.slowest(0);
    expect(slowest).toBe(998n * S);
    const decision = balanceInputs(['quotes', 'trades', 'markers'].map((topic) => ({ topic, partition: 0, lead: w.partitionWatermark(topic) - slowest, held: false })));
    expect(decision.hold).toEqual([{ topic: 'trades', partition: 0 }, { topic: 'markers', partition: 0 }]);
  });

  it('leaves idle inputs out of the slowest, and has none while an input it waits for has no watermark', () => {
    const w = new WatermarkTracker(['quotes', 'trades'], 2n * S, 1_000, 0);
    w.observe('trades', 5000n * S, 0);
    expect(w.slowest(0)).toBe(NO_WATERMARK);
    w.fetched('quotes', true);
    expect(w.slowest(2_000)).toBe(4998n * S);
  });
});

import { affectedProcessors, dayStartMs, describePlan, liveMembers } from '../../../src/ops/reprocess';
import { testTopology } from './support';

const names = (chosen: string[]) => affectedProcessors(testTopology(), chosen).map((p) => p.name);

describe('reprocess plan', () => {
  it('adds the processors upstream and downstream of the chosen ones, in topological order', () => {
    expect(names(['greeks'])).toEqual(['greeks', 'features']);
    // features reads greeks' output: greeks is reprocessed too, so features reads one generation
    expect(names(['features'])).toEqual(['greeks', 'features']);
    expect(names(['trade-counts'])).toEqual(['trade-counts']);
    expect(names(['features', 'greeks', 'trade-counts'])).toEqual(['greeks', 'features', 'trade-counts']);
    expect(() => names(['nope'])).toThrow(/unknown processor\(s\) nope/);
  });

  it('days are UTC days; a bad date is refused', () => {
    expect(dayStartMs('2025-03-07')).toBe(Date.UTC(2025, 2, 7));
    expect(() => dayStartMs('2025-3-7')).toThrow(/not a date/);
    expect(() => dayStartMs('2025-02-30x')).toThrow(/not a date/);
  });

  it('names live members per group', () => {
    expect(liveMembers([{ groupId: 'g', state: 'Empty', members: [] }])).toEqual([]);
    expect(liveMembers([{ groupId: 'optflow.features', state: 'Stable', members: [{ memberId: 'm', clientId: 'c', host: '/1.2.3.4', assignment: {} }] }])).toEqual([
      'optflow.features: 1 live member(s) (c@/1.2.3.4)',
    ]);
  });

  it('prints a plan: generations, offsets before and after, what the sinks do', () => {
    const text = describePlan(
      {
        fromDay: '2025-03-07',
        fromNs: BigInt(Date.UTC(2025, 2, 7)) * 1_000_000n,
        groups: [
          { kind: 'processor', name: 'features', group: 'optflow.features', from: { generation: 0, fromNs: 0n }, to: { generation: 1, fromNs: 1n }, offsets: [{ topic: 'equity.trades', partition: 1, offset: 5n, metadata: null, was: 90n, why: 'first record timestamp >= x' }] },
          { kind: 'sink', name: 'features', group: 'optflow.sink.features', offsets: [], note: 'stays' },
        ],
      },
      false,
    );
    expect(text.split('\n')).toEqual([
      'plan: reprocess 2025-03-07 (from 2025-03-07T00:00:00.000Z, UTC days as in the lake\'s dt)',
      '  processor features (optflow.features): generation 0 -> 1, rewind:',
      '    equity.trades (first record timestamp >= x): p1 90->5',
      '  sink optflow.sink.features: stays',
      'dry run: nothing was changed',
    ]);
  });
});

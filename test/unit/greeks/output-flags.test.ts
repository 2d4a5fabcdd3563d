import { FLAGS } from '../../../src/domain/pricing/flags';
import { EnrichedOptionTrade } from '../../../src/domain/records';
import { enrichedFlags, greeks } from '../../../src/processors/greeks';

describe('greeks output flags (optflow_output_flags_total)', () => {
  it('names every set flag bit and the aggressor side, one SIDE_ label per trade', () => {
    const trade = { flags: FLAGS.NO_IV | FLAGS.NBBO_STALE, aggressor_side: 'UNKNOWN' } as unknown as EnrichedOptionTrade;
    expect(enrichedFlags(trade).sort()).toEqual(['NBBO_STALE', 'NO_IV', 'SIDE_UNKNOWN']);
    expect(enrichedFlags({ flags: 0, aggressor_side: 'BUY' } as unknown as EnrichedOptionTrade)).toEqual(['SIDE_BUY']);
    expect(enrichedFlags({ flags: 0, aggressor_side: null } as unknown as EnrichedOptionTrade)).toEqual(['SIDE_NONE']);
  });

  it('is declared on the enriched output, so the runtime counts it', () => {
    expect(greeks.outputs.find((o) => o.topic === 'option.trades.enriched')?.flags).toBe(enrichedFlags);
  });
});

/**
 * Regressions found by the flat-file fuzz (issue 16): numbers beyond what the record's Avro type
 * holds were accepted and then failed encoding in the producer (or became Infinity). They are now
 * rejected as number_out_of_range (timestamps: timestamp_out_of_range) with the line, like any bad row.
 */
import { typeOf } from '../../../src/avro/types';
import { parseAll } from './helpers';

const OPTION_TRADES = 'ticker,conditions,correction,exchange,participant_timestamp,price,sip_timestamp,size';
const GOOD = 'O:SPY230327P00390000,209,,325,1678716040304000000,11.07,1678716040304000000,15';

function parseOptionTrades(rows: string[]): ReturnType<typeof parseAll> {
  return parseAll('us_options_opra/trades_v1', Buffer.from([OPTION_TRADES, GOOD, ...rows, GOOD].join('\n')), '*');
}

describe('flat-file numbers beyond the Avro types', () => {
  it.each([
    ['a 400-digit price (Infinity as a double)', `O:SPY230327P00390000,209,,325,1678716040304000000,${'9'.repeat(400)},1678716040304000000,15`, 'number_out_of_range', /price=9{40}… \(400 chars\) exceeds a double/],
    ['an exchange above int32', 'O:SPY230327P00390000,209,,2147483648,1678716040304000000,11.07,1678716040304000000,15', 'number_out_of_range', /exchange=2147483648 exceeds int32/],
    ['a condition code above int32', 'O:SPY230327P00390000,"209,99999999999",,325,1678716040304000000,11.07,1678716040304000000,15', 'number_out_of_range', /conditions=99999999999 exceeds int32/],
    ['a size above int64', 'O:SPY230327P00390000,209,,325,1678716040304000000,11.07,1678716040304000000,9223372036854775808', 'number_out_of_range', /size=9223372036854775808 exceeds int64/],
    ['a 30-digit size', `O:SPY230327P00390000,209,,325,1678716040304000000,11.07,1678716040304000000,${'1'.repeat(30)}`, 'number_out_of_range', /exceeds int64/],
    ['a 25-digit timestamp', `O:SPY230327P00390000,209,,325,1678716040304000000,11.07,${'1'.repeat(25)},15`, 'timestamp_out_of_range', /sip_timestamp=1{25} outside/],
  ])('%s is a rejection with its line, and the rows around it are produced', (_what, row, reason, detail) => {
    const { records, rejections } = parseOptionTrades([row]);
    expect(rejections).toEqual([expect.objectContaining({ reason, lineNumber: 3, raw: row })]);
    expect(rejections[0].detail).toMatch(detail);
    expect(records.map((r) => r.origin_offset)).toEqual([2n, 4n]);
    for (const r of records) expect(() => typeOf('OptionTrade').toBuffer(r)).not.toThrow();
  });

  it('the largest values each type holds are still accepted and encode', () => {
    const row = 'O:SPY230327P00390000,2147483647,,2147483647,1678716040304000000,1.7976931348623157e308,1678716040304000000,9223372036854775807';
    const { rejections } = parseOptionTrades([row]);
    expect(rejections.map((r) => r.reason)).toEqual(['non_numeric']); // exponents are not Massive's format
    const plain = row.replace('1.7976931348623157e308', `${'9'.repeat(300)}.5`);
    const { records } = parseOptionTrades([plain]);
    expect(records).toHaveLength(3);
    expect(records[1]).toMatchObject({ exchange: 2147483647, conditions: [2147483647], size: 9223372036854775807n });
    expect(() => typeOf('OptionTrade').toBuffer(records[1])).not.toThrow();
  });
});

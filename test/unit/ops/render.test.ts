import { tableRow } from '../../../src/cli/inspect';
import { bytesValue, DecodedRecord, RecordDecoder, toJsonLine } from '../../../src/ops/decode';

const base = { topic: 't', partition: 2, offset: 7n, timestamp: '2026-12-03T12:00:00.000Z', key: 'SPY' };

describe('inspect output', () => {
  it('writes ns longs as exact JSON integers and raw lines as text', () => {
    const line = toJsonLine({ ...base, value: { sip_timestamp: 1741357803369650065n, raw: Buffer.from('O:SPY,1.5') } });
    expect(line).toContain('"sip_timestamp":1741357803369650065');
    expect(line).toContain('"raw":"O:SPY,1.5"');
    expect(line).toContain('"offset":7');
    expect(bytesValue(Buffer.from([0, 1, 2, 250]))).toEqual({ base64: 'AAEC+g==' });
  });

  it('shows JSON values (the producers checkpoints) parsed, other bytes with the reason they are not Avro', async () => {
    const decoder = new RecordDecoder(undefined as never);
    const raw = { topic: 't', partition: 0, offset: 1n, timestampMs: 0, key: 'k', headers: {} };
    expect(await decoder.decode({ ...raw, value: Buffer.from('{"status":"done","position":20014}') })).toMatchObject({ schema: 'json', value: { status: 'done', position: 20014 } });
    expect(await decoder.decode({ ...raw, value: Buffer.from('plain') })).toMatchObject({ value: 'plain', error: 'not Confluent wire format' });
    expect(await decoder.decode({ ...raw, value: null, headers: { watermark: '1741410000000000000' } })).toMatchObject({ value: null, watermark: 1741410000000000000n });
  });

  it('shows a dead letter as reason, file and line', () => {
    const letter: DecodedRecord = {
      ...base,
      schema: 'optflow.ops.DeadLetter',
      value: { reason: 'non_numeric', detail: 'price=abc', origin: 'us_options_opra/trades_v1/2025/03/2025-03-07.csv.gz', position: 4121n, raw: Buffer.from('O:SPY,abc\n') },
    };
    expect(tableRow(letter)).toEqual({
      p: '2',
      offset: '7',
      time: base.timestamp,
      key: 'SPY',
      reason: 'non_numeric',
      origin: 'us_options_opra/trades_v1/2025/03/2025-03-07.csv.gz',
      position: '4121',
      detail: 'price=abc',
      raw: 'O:SPY,abc ',
    });
    expect(tableRow({ ...base, value: null, watermark: 1741410000000000000n })).toMatchObject({ watermark: '1741410000000000000' });
  });
});

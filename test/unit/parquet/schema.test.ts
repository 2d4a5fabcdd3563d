import { AvroRecordSchema, microsColumnName, nanosToMicros, parquetColumns } from '../../../src/sinks/parquet/schema';
import { loadSchema } from './rows';

describe('parquetColumns', () => {
  it('maps EquityTrade field by field, adding a micros companion after each ns timestamp', () => {
    const columns = parquetColumns(loadSchema('EquityTrade'));

    expect(columns.map((c) => [c.name, c.field, c.kind, c.list, c.nullable])).toEqual([
      ['ticker', 'ticker', 'string', false, false],
      ['sip_timestamp', 'sip_timestamp', 'int64', false, false],
      ['sip_timestamp_us', 'sip_timestamp', 'timestamp_us', false, false],
      ['participant_timestamp', 'participant_timestamp', 'int64', false, true],
      ['participant_timestamp_us', 'participant_timestamp', 'timestamp_us', false, true],
      ['trf_timestamp', 'trf_timestamp', 'int64', false, true],
      ['trf_timestamp_us', 'trf_timestamp', 'timestamp_us', false, true],
      ['sequence_number', 'sequence_number', 'int64', false, true],
      ['id', 'id', 'string', false, true],
      ['exchange', 'exchange', 'int32', false, true],
      ['tape', 'tape', 'int32', false, true],
      ['trf_id', 'trf_id', 'int32', false, true],
      ['price', 'price', 'double', false, false],
      ['size', 'size', 'double', false, false],
      ['conditions', 'conditions', 'int32', true, false],
      ['correction', 'correction', 'int32', false, true],
      ['source', 'source', 'string', false, false],
      ['origin', 'origin', 'string', false, false],
      ['origin_offset', 'origin_offset', 'int64', false, false],
    ]);
  });

  it('maps enums inside nullable unions to optional strings and bytes to bytes', () => {
    const enriched = parquetColumns(loadSchema('EnrichedOptionTrade'));
    const dead = parquetColumns(loadSchema('DeadLetter'));

    expect(enriched.find((c) => c.name === 'aggressor_side')).toMatchObject({ kind: 'string', nullable: true });
    expect(enriched.find((c) => c.name === 'right')).toMatchObject({ kind: 'string', nullable: false });
    expect(dead.find((c) => c.name === 'raw')).toMatchObject({ kind: 'bytes', nullable: false });
  });

  it('names companions <field>_us for *_timestamp and window_<x>_us for window_<x>_ns, none for durations', () => {
    expect(microsColumnName('sip_timestamp')).toBe('sip_timestamp_us');
    expect(microsColumnName('window_start_ns')).toBe('window_start_us');
    expect(microsColumnName('window_end_ns')).toBe('window_end_us');
    expect(microsColumnName('quote_age_ns')).toBeNull();
    expect(microsColumnName('recorded_at_ms')).toBeNull();
  });

  it('refuses unions of two non-null types, maps, and companion name clashes', () => {
    const record = (fields: AvroRecordSchema['fields']): AvroRecordSchema => ({ type: 'record', name: 'T', fields });

    expect(() => parquetColumns(record([{ name: 'x', type: ['null', 'int', 'string'] }]))).toThrow(/field x: only unions of null and one type/);
    expect(() => parquetColumns(record([{ name: 'm', type: { type: 'map', values: 'int' } as never }]))).toThrow(/field m: unsupported Avro type map/);
    expect(() =>
      parquetColumns(record([{ name: 'a_timestamp', type: 'long' }, { name: 'a_timestamp_us', type: 'long' }])),
    ).toThrow(/column a_timestamp_us is defined twice/);
  });

  it('gives no companion to an int64 list or a non-long *_timestamp field', () => {
    const columns = parquetColumns({
      type: 'record',
      name: 'T',
      fields: [
        { name: 'fill_timestamp', type: { type: 'array', items: 'long' } },
        { name: 'label_timestamp', type: 'string' },
      ],
    });

    expect(columns.map((c) => c.name)).toEqual(['fill_timestamp', 'label_timestamp']);
  });
});

describe('nanosToMicros', () => {
  it('floors toward minus infinity, also before 1970', () => {
    expect(nanosToMicros(1679990400018381329n)).toBe(1679990400018381n);
    expect(nanosToMicros(1000n)).toBe(1n);
    expect(nanosToMicros(999n)).toBe(0n);
    expect(nanosToMicros(0n)).toBe(0n);
    expect(nanosToMicros(-1n)).toBe(-1n);
    expect(nanosToMicros(-1000n)).toBe(-1n);
    expect(nanosToMicros(-1001n)).toBe(-2n);
  });
});

import { HiveDirs, UtcDays, type PartitionColumn, type PartitionedRecord } from '../../../src/sinks/parquet/layout';

/** The day as made afresh, with no memory: the reference. */
const dayOf = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 10);

const DAY = 86_400_000_000_000n;
const MARCH_7 = 1_741_305_600_000_000_000n; // 2025-03-07T00:00:00Z

describe('UtcDays', () => {
  it('is the day made afresh, back and forth across day boundaries and before 1970', () => {
    const times = [MARCH_7, MARCH_7 + DAY - 1n, MARCH_7 + DAY, MARCH_7 - 1n, MARCH_7 + 5n, MARCH_7 + DAY + 1n, MARCH_7 + 1n, 0n, -1n, -DAY, -DAY - 1n, -999_999n, -1_000_000n, 1n, DAY - 1n];
    let x = 7n;
    for (let i = 0; i < 2000; i++) times.push(MARCH_7 + ((x = (x * 6_364_136_223_846_793_005n + 1n) % (1n << 62n)) % (3n * DAY)) - DAY);
    const days = new UtcDays();
    for (const t of times) expect([t, days.of(t)]).toEqual([t, dayOf(t)]);
  });
});

describe('HiveDirs', () => {
  it('is the directory of each record made afresh, as records change day, underlying and window', () => {
    const partitionBy: PartitionColumn[] = ['dt', 'underlying', 'window'];
    const records: PartitionedRecord[] = [
      { sip_timestamp: MARCH_7 + 1n, underlying: 'SPY', window: '1m' },
      { sip_timestamp: MARCH_7 + 2n, underlying: 'SPY', window: '1m' },
      { sip_timestamp: MARCH_7 + 3n, underlying: 'QQQ', window: '1m' },
      { sip_timestamp: MARCH_7 + 4n, underlying: 'SPY', window: '5m' },
      { sip_timestamp: MARCH_7 + DAY, underlying: 'SPY', window: '5m' },
      { sip_timestamp: MARCH_7 + DAY, ticker: 'BRK/B' },
      { window_start_ns: MARCH_7, underlying: 'SPY', window: '5m' },
      { window_start_ns: MARCH_7, underlying: 'SPY' },
    ];
    const dirs = new HiveDirs(partitionBy);
    const afresh = (r: PartitionedRecord): string =>
      [`dt=${dayOf(r.window_start_ns ?? r.sip_timestamp!)}`, ...[r.underlying ?? r.ticker].filter((u) => u !== undefined).map((u) => `underlying=${u!.replace('/', '_')}`), ...(r.window === undefined ? [] : [`window=${r.window}`])].join('/');
    const dayOfRecord = (r: PartitionedRecord): string => dayOf(r.window_start_ns ?? r.sip_timestamp!);
    expect(records.map((r) => dirs.of(r, dayOfRecord(r)))).toEqual(records.map(afresh));
    expect(dirs.of(records[5], '2025-03-08')).toBe('dt=2025-03-08/underlying=BRK_B');
    expect(new HiveDirs(['underlying']).of({ sip_timestamp: 1n }, '1970-01-01')).toBe('');
  });
});

/** The chaos harness compares records by identity: what must and must not tell two runs apart. */
import { identity } from '../../../bench/chaos';

const line = (prefix: string, offset: number, ts: string, value: string) =>
  `{"topic":"${prefix}option.trades.dlq","partition":3,"offset":${offset},"timestamp":"${ts}","key":"SPY","schema":"optflow.ops.DeadLetter","value":${value}}`;

describe('chaos record identity', () => {
  const letter = (origin: string, recorded: number, position = 7) =>
    `{"reason":"non_numeric","detail":"price","origin":"${origin}","position":${position},"partition":null,"event_time":null,"raw":"x","recorded_at_ms":${recorded}}`;

  it('ignores the run prefix, the offset, the Kafka timestamp and when a dead letter was written', () => {
    const a = identity(line('chaos.a.clean.', 10, '2026-12-03T16:00:00.000Z', letter('chaos.a.clean.option.trades', 1)), 'chaos.a.clean.');
    const b = identity(line('chaos.a.faulted.', 12, '2026-12-03T16:09:00.000Z', letter('chaos.a.faulted.option.trades', 99)), 'chaos.a.faulted.');
    expect(a).toBe(b);
  });

  it('tells apart records that differ in value, key position or partition', () => {
    const base = identity(line('p.', 1, 't', letter('p.x', 1)), 'p.');
    expect(identity(line('p.', 1, 't', letter('p.x', 1, 8)), 'p.')).not.toBe(base);
    expect(identity(line('p.', 1, 't', letter('p.x', 1)).replace('"partition":3', '"partition":4'), 'p.')).not.toBe(base);
    expect(identity(line('p.', 1, 't', letter('p.x', 1)).replace('"key":"SPY"', '"key":"QQQ"'), 'p.')).not.toBe(base);
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config';
import { EnrichedOptionTrade, EquityTrade } from '../../../src/domain/records';
import { generateDay } from '../../../src/generator';
import { readLocalDay, recordKey } from '../../../src/producers/flatfile/local-day';
import { MarketRecord } from '../../../src/producers/flatfile/parse/normalise';
import { features } from '../../../src/processors/features';
import { greeks } from '../../../src/processors/greeks';
import { ProcessorDriver } from '../../../src/processors/runtime/driver';

/** The greeks and features processors on the generated sample day, in memory (no broker). */

const DATE = '2025-03-07';
const config = loadConfig({ env: { NODE_ENV: 'test' }, overrides: { universe: { underlyings: ['SPY', 'QQQ'] } } });
const END = BigInt(Date.UTC(2025, 2, 8, 5)) * 1_000_000n;

type Timed = { topic: string; record: MarketRecord | EnrichedOptionTrade; at: number };

function mergeByTime(streams: [string, readonly (MarketRecord | EnrichedOptionTrade)[]][], jitterNs: number, seed: number): Timed[] {
  let s = seed;
  const rand = () => ((s = (s * 16807) % 2147483647) - 1) / 2147483646;
  const all: Timed[] = [];
  for (const [topic, records] of streams) for (const record of records) all.push({ topic, record, at: Number(record.sip_timestamp % 10n ** 15n) + rand() * jitterNs });
  return all.sort((a, b) => a.at - b.at);
}

function run(driverOf: () => ProcessorDriver, arrivals: Timed[]) {
  const driver = driverOf();
  for (const a of arrivals) driver.pipe(a.topic, a.record, recordKey(a.record as MarketRecord));
  driver.advanceWatermark(END);
  return driver.drain();
}

describe('processors in memory on the sample day', () => {
  let day: Map<string, MarketRecord[]>;
  let enriched: EnrichedOptionTrade[];
  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-driver-'));
    await generateDay({ date: DATE, outDir: dir, seed: 1, scale: 'small' });
    day = readLocalDay(dir, DATE, ['SPY', 'QQQ']);
    fs.rmSync(dir, { recursive: true, force: true });
    const inputs = ['option.trades', 'equity.quotes', 'equity.trades', 'option.quotes'].map((t) => [t, day.get(t)!] as [string, MarketRecord[]]);
    enriched = run(() => new ProcessorDriver(greeks, config), mergeByTime(inputs, 0, 1)).map((o) => o.value as EnrichedOptionTrade);
  });

  it('greeks enriches every option trade once, most with an IV', () => {
    expect(enriched).toHaveLength(day.get('option.trades')!.length);
    expect(enriched.filter((e) => e.iv !== null).length / enriched.length).toBeGreaterThan(0.8);
  });

  it('features: input shuffled within the out-of-orderness bound gives byte-identical records to sorted input', () => {
    const streams: [string, readonly (MarketRecord | EnrichedOptionTrade)[]][] = [
      ['option.trades.enriched', enriched],
      ['equity.trades', day.get('equity.trades')!],
    ];
    const sorted = run(() => new ProcessorDriver(features, config), mergeByTime(streams, 0, 1));
    const shuffled = run(() => new ProcessorDriver(features, config), mergeByTime(streams, 1.5e9, 42));
    expect(sorted.every((o) => o.topic === 'features')).toBe(true);
    expect(sorted).toHaveLength(2 * (390 + 78 + 26 + 13));
    expect(shuffled.map((o) => o.bytes.toString('base64'))).toEqual(sorted.map((o) => o.bytes.toString('base64')));
  });

  it('features: records later than the allowed lateness go to features.late, not into closed windows', () => {
    const trades = day.get('equity.trades')! as EquityTrade[];
    const late = trades.slice(0, 5).map((t) => ({ ...t, id: `late-${t.id}` }));
    const arrivals = [...mergeByTime([['equity.trades', trades], ['option.trades.enriched', enriched]], 0, 1), ...late.map((record) => ({ topic: 'equity.trades', record, at: 0 }))];
    const out = run(() => new ProcessorDriver(features, config), arrivals);
    const lateOut = out.filter((o) => o.topic === 'features.late');
    expect(lateOut).toHaveLength(5);
    expect(lateOut.every((o) => (o.value as { reason: string }).reason === 'window_closed')).toBe(true);
  });
});

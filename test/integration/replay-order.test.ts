import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TopicSerde } from '../../src/avro/serde';
import { loadConfig } from '../../src/config';
import { FeatureRecord } from '../../src/domain/features/window-features';
import { EnrichedOptionTrade } from '../../src/domain/records';
import { generateDay } from '../../src/generator';
import { partitionOf } from '../../src/kafka/partitioner';
import { readLocalDay } from '../../src/producers/flatfile/local-day';
import { MarketRecord } from '../../src/producers/flatfile/parse/normalise';
import { features } from '../../src/processors/features';
import { greeks } from '../../src/processors/greeks';
import { ProcessorDriver } from '../../src/processors/runtime/driver';
import { byTime, driveDay, isDeadLetter, Timed } from './clean-run';
import { connectTestKafka, TestKafka, uniqueName } from './helpers';
import { ChildProcesses, readTopic, spawnCli, waitExit } from './kafka-io';

/**
 * History replays like live (issue 10): the flatfile producer's real output, with processors already
 * running while it produces, on a generated day of three underlyings where SPY and QQQ share a
 * partition. Every enriched trade and every window must equal a reference computed in memory from
 * the time-sorted input, with nothing late, whatever the idle timeout.
 */

const DATE = '2025-03-07';
const PARTITIONS = 6;
const UNDERLYINGS = ['SPY', 'QQQ', 'IWM'];
const SESSION_MINUTES = 390;
const WINDOW_COUNT = UNDERLYINGS.length * (390 + 78 + 26 + 13);
const END_OF_DAY = BigInt(Date.UTC(2025, 2, 8, 5)) * 1_000_000n;

function drive<T>(driver: ProcessorDriver, arrivals: Timed[]): T[] {
  const out = driveDay<T>(driver, arrivals, END_OF_DAY);
  expect(out.filter(isDeadLetter)).toEqual([]);
  return out.map((o) => o.value);
}

const tradeId = (t: EnrichedOptionTrade) => `${t.origin}|${t.origin_offset}`;
const windowId = (w: FeatureRecord) => `${w.underlying}|${w.window}|${w.window_start_ns}`;

describe('the producer\'s real order, processors running alongside (real broker)', () => {
  let dir: string;
  let tk: TestKafka;
  let reference: { enriched: Map<string, EnrichedOptionTrade>; windows: Map<string, FeatureRecord> };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-replay-'));
    await generateDay({ date: DATE, outDir: dir, seed: 1, scale: 'small' });
    tk = await connectTestKafka();
    const config = loadConfig({ env: { NODE_ENV: 'test' }, overrides: { universe: { underlyings: UNDERLYINGS } } });
    const day = readLocalDay(dir, DATE, UNDERLYINGS);
    const market = ['option.trades', 'equity.quotes', 'equity.trades', 'option.quotes'].map((t) => [t, day.get(t)!] as [string, MarketRecord[]]);
    const enriched = drive<EnrichedOptionTrade>(new ProcessorDriver(greeks, config), byTime(market));
    const windows = drive<FeatureRecord>(new ProcessorDriver(features, config), byTime([['option.trades.enriched', enriched], ['equity.trades', day.get('equity.trades')!]]));
    reference = { enriched: new Map(enriched.map((t) => [tradeId(t), t])), windows: new Map(windows.map((w) => [windowId(w), w])) };
    expect(reference.windows.size).toBe(WINDOW_COUNT);
    for (const u of UNDERLYINGS) expect(enriched.filter((t) => t.underlying === u).length).toBeGreaterThan(500);
  });

  afterAll(async () => {
    await tk.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('SPY and QQQ share a partition at the test\'s partition count', () => {
    expect(partitionOf('SPY', PARTITIONS)).toBe(partitionOf('QQQ', PARTITIONS));
  });

  async function runDay(idleTimeoutMs: number): Promise<void> {
    const prefix = `${uniqueName('replay')}.`;
    const env = {
      OPTFLOW__TOPICS__PREFIX: prefix,
      OPTFLOW__TOPICS__PARTITIONS: String(PARTITIONS),
      OPTFLOW__UNIVERSE__UNDERLYINGS: JSON.stringify(UNDERLYINGS),
      OPTFLOW__EVENT_TIME__IDLE_TIMEOUT_MS: String(idleTimeoutMs),
      // Small transactions: the processors see the day arrive in many steps, as a real day's would.
      OPTFLOW__MASSIVE__TRANSACTION_RECORDS: '3000',
    };
    const members = new ChildProcesses(env);
    try {
      const apply = spawnCli(['topology', 'apply'], env);
      expect(await waitExit(apply)).toBe(0);
      members.spawn(['process', 'greeks']);
      members.spawn(['process', 'features']);
      await new Promise((r) => setTimeout(r, 3000));
      const producer = spawnCli(['produce', 'flatfile', '--from', DATE, '--local', dir], env);
      expect(await waitExit(producer)).toBe(0);

      const featuresSerde = await TopicSerde.forTopic<FeatureRecord>(tk.registry, `${prefix}features`, 'Features');
      const enrichedSerde = await TopicSerde.forTopic<EnrichedOptionTrade>(tk.registry, `${prefix}option.trades.enriched`, 'EnrichedOptionTrade');
      const windows = await readTopic(tk.kafka, featuresSerde.topic, (b) => featuresSerde.decode(b), WINDOW_COUNT, 240_000);
      const enriched = await readTopic(tk.kafka, enrichedSerde.topic, (b) => enrichedSerde.decode(b), reference.enriched.size, 60_000);
      const late = await Promise.all(['greeks.late', 'features.late'].map(async (t) => (await tk.admin.fetchTopicOffsets(`${prefix}${t}`)).reduce((n, o) => n + Number(o.high), 0)));
      expect(late).toEqual([0, 0]);

      expect(enriched).toHaveLength(reference.enriched.size);
      let checked = 0;
      for (const { value } of enriched) {
        expect(value).toEqual(reference.enriched.get(tradeId(value)));
        checked++;
      }
      expect(windows).toHaveLength(WINDOW_COUNT);
      for (const { key, value } of windows) {
        expect(key).toBe(`${value.underlying}|${value.window}|${value.window_start_ns}`);
        expect(value).toEqual(reference.windows.get(windowId(value)));
      }
      for (const u of UNDERLYINGS) {
        const spyLike = windows.filter((w) => w.value.underlying === u && w.value.window === '30m');
        expect(spyLike).toHaveLength(SESSION_MINUTES / 30);
        expect(spyLike.every((w) => w.value.underlying_trades > 0n)).toBe(true);
      }
      expect(checked).toBe(reference.enriched.size);
    } finally {
      await members.stopAll();
    }
  }

  it('every enriched trade and every window equal the reference, nothing late (default idle timeout)', async () => {
    await runDay(60_000);
  });

  it('the same with an idle timeout far below the time the producer spends on the day', async () => {
    await runDay(300);
  });
});

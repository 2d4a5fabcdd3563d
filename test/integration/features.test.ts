import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { TopicSerde } from '../../src/avro/serde';
import { SchemaName } from '../../src/avro/types';
import { FEATURE_NAMES } from '../../src/domain/features/names';
import { FeatureRecord } from '../../src/domain/features/window-features';
import { EnrichedOptionTrade, EquityTrade } from '../../src/domain/records';
import { generateDay } from '../../src/generator';
import { readLocalDay, recordKey } from '../../src/producers/flatfile/local-day';
import { MarketRecord } from '../../src/producers/flatfile/parse/normalise';
import { applyTopology } from '../../topology/apply';
import { buildTopology } from '../../topology/topology';
import { connectTestKafka, TestKafka, uniqueName } from './helpers';
import { ChildProcesses, produceValues, readTopic, sendMarkers, spawnCli, waitExit } from './kafka-io';

/**
 * producers → greeks → features on the real broker with the generated sample day (SPY, QQQ, IWM).
 * The records are read from the generated files with the project's parser and produced in
 * event-time order per key, the way the flatfile producer does.
 */

const PARTITIONS = 3;
const DATE = '2025-03-07';
const SESSION_MINUTES = 390;
const UNDERLYINGS = ['SPY', 'QQQ', 'IWM'];
const WINDOWS: Record<string, number> = { '1m': 1, '5m': 5, '15m': 15, '30m': 30 };

type Market = MarketRecord;

async function readDay(dir: string): Promise<Map<string, Market[]>> {
  return readLocalDay(dir, DATE, UNDERLYINGS);
}

interface Env {
  prefix: string;
  t: TestKafka;
  members: ChildProcesses;
  serde<T>(topic: string, schema: SchemaName): Promise<TopicSerde<T>>;
}

async function setup(): Promise<Env> {
  const prefix = `${uniqueName('ft')}.`;
  const t = await connectTestKafka({ topics: { prefix, partitions: PARTITIONS } });
  await applyTopology(t.config, t.admin, t.registry, buildTopology(t.config));
  return { prefix, t, members: new ChildProcesses({ OPTFLOW__TOPICS__PREFIX: prefix, OPTFLOW__TOPICS__PARTITIONS: String(PARTITIONS), OPTFLOW__UNIVERSE__UNDERLYINGS: JSON.stringify(UNDERLYINGS) }), serde: (topic, schema) => TopicSerde.forTopic(t.registry, prefix + topic, schema) };
}

function start(env: Env, processor: string): ChildProcess {
  return env.members.spawn(['process', processor]);
}

async function stopAll(env: Env): Promise<void> {
  await env.members.stopAll();
}

const SCHEMAS: Record<string, SchemaName> = { 'equity.trades': 'EquityTrade', 'equity.quotes': 'EquityQuote', 'option.trades': 'OptionTrade', 'option.quotes': 'OptionQuote' };

async function produceDay(env: Env, day: Map<string, Market[]>): Promise<void> {
  let end = 0n;
  for (const [topic, records] of day) {
    const serde = await env.serde<Market>(topic, SCHEMAS[topic]);
    await produceValues(env.t.kafka, serde, records.map((r) => ({ key: recordKey(r), value: r })));
    for (const r of records) if (r.sip_timestamp > end) end = r.sip_timestamp;
  }
  for (const topic of Object.keys(SCHEMAS)) await sendMarkers(env.t.kafka, env.prefix + topic, PARTITIONS, end + 3_600_000_000_000n);
}

/** Independent check of the simple columns: counts, OHLC, dADVV totals from the raw records. */
function directColumns(w: FeatureRecord, stock: EquityTrade[], enriched: EnrichedOptionTrade[]) {
  const inWindow = (t: bigint) => t >= w.window_start_ns && t < w.window_end_ns;
  const st = stock.filter((s) => s.ticker === w.underlying && inWindow(s.sip_timestamp) && (s.correction ?? 0) === 0);
  const opts = enriched.filter((o) => o.underlying === w.underlying && inWindow(o.sip_timestamp) && (o.correction ?? 0) === 0);
  const calls = opts.filter((o) => o.right === 'C');
  const dadvv = calls.filter((o) => o.dadvv !== null).map((o) => o.dadvv as number);
  return {
    trades: BigInt(st.length),
    calls: BigInt(calls.length),
    open: st.length ? st[0].price : null,
    close: st.length ? st[st.length - 1].price : null,
    high: st.length ? Math.max(...st.map((s) => s.price)) : null,
    callsDadvvTotal: dadvv.length ? dadvv.reduce((a, b) => a + b, 0) : 0,
  };
}

describe('features end to end (generated sample day, real broker)', () => {
  let dir: string;
  let day: Map<string, Market[]>;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-day-'));
    await generateDay({ date: DATE, outDir: dir, seed: 1, scale: 'small' });
    day = await readDay(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('emits a full record for every window of the session; reset and re-run is identical', async () => {
    const env = await setup();
    try {
      await produceDay(env, day);
      start(env, 'greeks');
      start(env, 'features');
      const expectedWindows = UNDERLYINGS.length * Object.values(WINDOWS).reduce((n, m) => n + SESSION_MINUTES / m, 0);
      const featuresSerde = await env.serde<FeatureRecord>('features', 'Features');
      const first = await readTopic(env.t.kafka, featuresSerde.topic, (b) => featuresSerde.decode(b), expectedWindows, 120_000);
      expect(first).toHaveLength(expectedWindows);
      const byWindow = new Map(first.map((r) => [`${r.value.underlying}|${r.value.window}|${r.value.window_start_ns}`, r]));
      expect(byWindow.size).toBe(expectedWindows);
      for (const u of UNDERLYINGS) {
        for (const [label, minutes] of Object.entries(WINDOWS)) {
          const windows = first.filter((r) => r.value.underlying === u && r.value.window === label);
          expect(windows).toHaveLength(SESSION_MINUTES / minutes);
          for (const r of windows) expect(r.key).toBe(`${u}|${label}|${r.value.window_start_ns}`);
        }
      }
      for (const { value } of first) for (const name of FEATURE_NAMES) expect(value).toHaveProperty(name);

      const enrichedSerde = await env.serde<EnrichedOptionTrade>('option.trades.enriched', 'EnrichedOptionTrade');
      const optionTrades = day.get('option.trades')!.length;
      const enriched = (await readTopic(env.t.kafka, enrichedSerde.topic, (b) => enrichedSerde.decode(b), optionTrades, 60_000)).map((r) => r.value);
      expect(enriched).toHaveLength(optionTrades);
      const stock = day.get('equity.trades') as unknown as EquityTrade[];
      for (const { value: w } of first.filter((r) => r.value.window === '5m')) {
        const d = directColumns(w, stock, enriched);
        expect(w.underlying_trades).toBe(d.trades);
        expect(w.calls).toBe(d.calls);
        expect(w.underlying_price_open).toBe(d.open);
        expect(w.underlying_price_close).toBe(d.close);
        expect(w.underlying_price_high).toBe(d.high);
        expect(w.calls_dadvv_total).toBeCloseTo(d.callsDadvvTotal, 6);
      }
      const withGreeks = first.filter((r) => (r.value.calls_dadvv_mean ?? 0) > 0);
      expect(withGreeks.length).toBeGreaterThan(first.length / 2);

      await stopAll(env);
      const reset = spawnCli(['reset', '--group', 'features', '--to-earliest'], { OPTFLOW__TOPICS__PREFIX: env.prefix });
      expect(await waitExit(reset)).toBe(0);
      start(env, 'features');
      const all = await readTopic(env.t.kafka, featuresSerde.topic, async (b) => b, 2 * expectedWindows, 120_000);
      const firstOffsets = new Set(first.map((r) => `${r.partition}/${r.offset}`));
      const rerun = all.filter((r) => !firstOffsets.has(`${r.partition}/${r.offset}`)).map((r) => r.value.toString('base64'));
      const original = all.filter((r) => firstOffsets.has(`${r.partition}/${r.offset}`)).map((r) => r.value.toString('base64'));
      expect(original).toHaveLength(expectedWindows);
      expect(rerun.sort()).toEqual(original.sort());
    } finally {
      await stopAll(env);
      await env.t.close();
    }
  });
});

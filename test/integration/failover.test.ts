import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRegistry, TopicSerde } from '../../src/avro/serde';
import { Config, loadConfig } from '../../src/config';
import { FeatureRecord } from '../../src/domain/features/window-features';
import { EnrichedOptionTrade } from '../../src/domain/records';
import { generateDay } from '../../src/generator';
import { Admin, createAdmin } from '../../src/kafka/client';
import { topicConfigValues } from '../../src/kafka/configs';
import { readLocalDay } from '../../src/producers/flatfile/local-day';
import { MarketRecord } from '../../src/producers/flatfile/parse/normalise';
import { features } from '../../src/processors/features';
import { greeks } from '../../src/processors/greeks';
import { ProcessorDriver } from '../../src/processors/runtime/driver';
import { byTime, driveDay, isDeadLetter, Timed } from './clean-run';
import { query, sqlString } from '../unit/parquet/duckdb-read';
import { uniqueName } from './helpers';
import { ChildProcess } from 'node:child_process';
import { readTopic, spawnCli, until, waitExit } from './kafka-io';
import { OwnStack, startOwnStack } from './own-stack';

/**
 * Broker failover (issue 17) on a three-broker KRaft cluster of the test's own (RF 3, min ISR 2):
 * a generated day of three underlyings runs through the flatfile producer, greeks, features and two
 * Parquet sinks; the broker leading most of the market partitions is killed -9 mid-run and restarted
 * later. The topics and the lake must equal a clean run (the day computed in memory by the same
 * processors on the time-sorted input, as in replay-order.test.ts), and at the end no partition is
 * under-replicated.
 */

const DATE = '2025-03-07';
const PARTITIONS = 6;
const UNDERLYINGS = ['SPY', 'QQQ', 'IWM'];
const WINDOW_COUNT = UNDERLYINGS.length * (390 + 78 + 26 + 13);
const END_OF_DAY = BigInt(Date.UTC(2025, 2, 8, 5)) * 1_000_000n;

function drive<T>(driver: ProcessorDriver, arrivals: Timed[]): T[] {
  return driveDay<T>(driver, arrivals, END_OF_DAY)
    .filter((o) => !isDeadLetter(o))
    .map((o) => o.value);
}

const tradeId = (t: { origin: string; origin_offset: bigint }) => `${t.origin}|${t.origin_offset}`;
const windowId = (w: { underlying: string; window: string; window_start_ns: bigint }) => `${w.underlying}|${w.window}|${w.window_start_ns}`;

async function sumHigh(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
}

/** Partitions whose in-sync replicas are fewer than their replicas. */
async function underReplicated(admin: Admin, topics: string[]): Promise<string[]> {
  const meta = await admin.fetchTopicMetadata({ topics });
  return meta.flatMap((t) => t.partitions.filter((p) => p.isr.length < p.replicas.length).map((p) => `${t.name}-${p.partitionId} isr ${p.isr.join(',')} of ${p.replicas.join(',')}`));
}

/**
 * A member under a supervisor, as systemd or Kubernetes would run it: restarted when it exits with
 * an error (a fenced or failed transaction ends a member; the restart resumes from committed state,
 * which is what exactly-once promises).
 */
class Supervised {
  restarts = 0;
  private child!: ChildProcess;
  private stopped = false;
  private succeeded!: () => void;
  readonly done = new Promise<void>((resolve) => (this.succeeded = resolve));

  constructor(
    readonly args: string[],
    private readonly env: Record<string, string>,
  ) {
    this.start();
  }

  private start(): void {
    this.child = spawnCli(this.args, this.env);
    this.child.once('exit', (code) => {
      if (code === 0) this.succeeded();
      else if (!this.stopped) {
        this.restarts += 1;
        setTimeout(() => !this.stopped && this.start(), 1000);
      }
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.running) this.child.kill('SIGTERM');
    await waitExit(this.child);
  }
}

describe('three-broker cluster: a broker killed -9 mid-run and restarted (own stack)', () => {
  let own: OwnStack;
  let dir: string;
  let config: Config;
  let admin: Admin;
  let reference: { enriched: Map<string, EnrichedOptionTrade>; windows: Map<string, FeatureRecord> };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-failover-'));
    const starting = startOwnStack({ brokers: 3, secure: false });
    await generateDay({ date: DATE, outDir: dir, seed: 7, scale: 'small' });
    const local = loadConfig({ env: { NODE_ENV: 'test' }, overrides: { universe: { underlyings: UNDERLYINGS } } });
    const day = readLocalDay(dir, DATE, UNDERLYINGS);
    const market = ['option.trades', 'equity.quotes', 'equity.trades', 'option.quotes'].map((t) => [t, day.get(t)!] as [string, MarketRecord[]]);
    const enriched = drive<EnrichedOptionTrade>(new ProcessorDriver(greeks, local), byTime(market));
    const windows = drive<FeatureRecord>(new ProcessorDriver(features, local), byTime([['option.trades.enriched', enriched], ['equity.trades', day.get('equity.trades')!]]));
    reference = { enriched: new Map(enriched.map((t) => [tradeId(t), t])), windows: new Map(windows.map((w) => [windowId(w), w])) };
    expect(reference.windows.size).toBe(WINDOW_COUNT);
    own = await starting;
    config = loadConfig({ env: { NODE_ENV: 'test', ...own.env } });
    admin = createAdmin(config, 'failover-test');
    await admin.connect();
  }, 600_000);

  afterAll(async () => {
    await admin?.disconnect();
    await own?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('topics and lake equal the clean run; RF 3 / min ISR 2 everywhere; nothing under-replicated at the end', async () => {
    const prefix = `${uniqueName('failover')}.`;
    const lake = path.join(dir, 'lake');
    const env = {
      ...own.env,
      OPTFLOW__TOPICS__PREFIX: prefix,
      OPTFLOW__TOPICS__PARTITIONS: String(PARTITIONS),
      OPTFLOW__TOPICS__REPLICATION_FACTOR: '3',
      OPTFLOW__TOPICS__MIN_INSYNC_REPLICAS: '2',
      OPTFLOW__UNIVERSE__UNDERLYINGS: JSON.stringify(UNDERLYINGS),
      OPTFLOW__MASSIVE__TRANSACTION_RECORDS: '2000',
      OPTFLOW__METRICS__BASE_PORT: '0',
      OPTFLOW__SINK__FLUSH_IDLE_SECONDS: '2',
    };
    const members: Supervised[] = [];
    const t = (name: string) => `${prefix}${name}`;
    try {
      expect(await waitExit(spawnCli(['topology', 'apply'], env))).toBe(0);
      const meta = await admin.fetchTopicMetadata({ topics: [t('equity.trades'), t('features'), t('greeks.late')] });
      for (const topic of meta) for (const p of topic.partitions) expect(p.replicas).toHaveLength(3);
      expect(await topicConfigValues(config, t('option.trades'), ['min.insync.replicas'])).toEqual({ 'min.insync.replicas': '2' });

      for (const args of [['process', 'greeks'], ['process', 'features'], ['sink', 'parquet', '--topic', 'option.trades.enriched', '--out', lake], ['sink', 'parquet', '--topic', 'features', '--out', lake]]) {
        members.push(new Supervised(args, env));
      }
      const producer = new Supervised(['produce', 'flatfile', '--from', DATE, '--local', dir], env);
      members.push(producer);

      // Mid-run: the producer has written part of the day (about 200k records), the processors are behind it.
      const market = ['equity.trades', 'equity.quotes', 'option.trades', 'option.quotes'].map(t);
      const produced = async () => (await Promise.all(market.map((x) => sumHigh(admin, x)))).reduce((a, b) => a + b, 0);
      await until('the producer a part into the day', async () => (await produced().catch(() => 0)) > 40_000, 300_000);
      const leaders = (await admin.fetchTopicMetadata({ topics: [t('option.trades'), t('option.quotes'), t('equity.quotes')] })).flatMap((x) => x.partitions.map((p) => p.leader));
      const victim = [1, 2, 3].sort((a, b) => leaders.filter((l) => l === b).length - leaders.filter((l) => l === a).length)[0];
      const pid = await own.stack.nodePid(victim);
      expect(pid).toBeDefined();
      process.kill(pid!, 'SIGKILL');
      const producerDoneEarly = !producer.running;
      await new Promise((r) => setTimeout(r, 10_000));
      await own.stack.restartNode(victim);

      await producer.done;
      const enrichedSerde = await TopicSerde.forTopic<EnrichedOptionTrade>(createRegistry(loadConfig({ env: own.env }).schema_registry, own.env), t('option.trades.enriched'), 'EnrichedOptionTrade');
      const featuresSerde = await TopicSerde.forTopic<FeatureRecord>(createRegistry(loadConfig({ env: own.env }).schema_registry, own.env), t('features'), 'Features');
      const windows = await readTopic(config, t('features'), (b) => featuresSerde.decode(b), WINDOW_COUNT, 300_000);
      const enriched = await readTopic(config, t('option.trades.enriched'), (b) => enrichedSerde.decode(b), reference.enriched.size, 60_000);

      expect(producerDoneEarly).toBe(false); // the broker really died mid-run
      process.stdout.write(`failover: killed node ${victim}; member restarts ${members.map((m) => `${m.args.slice(0, 2).join(' ')}=${m.restarts}`).join(', ')}\n`);
      // Exactly once: no enriched trade twice (named with partition and offsets when it fails).
      const seen = new Map<string, string[]>();
      for (const r of enriched) seen.set(tradeId(r.value), [...(seen.get(tradeId(r.value)) ?? []), `p${r.partition}@${r.offset}`]);
      expect([...seen].filter(([, at]) => at.length > 1)).toEqual([]);
      expect(enriched).toHaveLength(reference.enriched.size);
      for (const { value } of enriched) expect(value).toEqual(reference.enriched.get(tradeId(value)));
      expect(windows).toHaveLength(WINDOW_COUNT);
      for (const { value } of windows) expect(value).toEqual(reference.windows.get(windowId(value)));
      expect(await Promise.all(['greeks.late', 'features.late', 'greeks.dlq', 'features.dlq'].map((x) => sumHigh(admin, t(x))))).toEqual([0, 0, 0, 0]);

      // The lake: exactly the topics' records, once each.
      const glob = (topic: string) => sqlString(`${lake}/${topic}/**/*.parquet`);
      // Drained when the lake holds every record (files appear whole, so a count never sees a partial one).
      const lakeCount = async (topic: string) => Number((await query(`SELECT count(*) FROM read_parquet(${glob(topic)}, hive_partitioning = true)`)).rows[0][0]);
      await until('the sinks wrote everything', async () => (await lakeCount('option.trades.enriched').catch(() => 0)) >= reference.enriched.size && (await lakeCount('features').catch(() => 0)) >= WINDOW_COUNT, 300_000);
      await Promise.all(members.map((m) => m.stop()));
      // How often a member had to be restarted after the broker died.
      process.stdout.write(`failover: member restarts ${members.map((m) => `${m.args.slice(0, 2).join(' ')}=${m.restarts}`).join(', ')}\n`);
      const lakeTrades = await query(`SELECT origin, origin_offset, iv, delta FROM read_parquet(${glob('option.trades.enriched')}, hive_partitioning = true)`);
      expect(lakeTrades.rows).toHaveLength(reference.enriched.size);
      expect(new Set(lakeTrades.rows.map((r) => `${r[0]}|${r[1]}`)).size).toBe(reference.enriched.size);
      for (const [origin, offset, iv, delta] of lakeTrades.rows) {
        const ref = reference.enriched.get(`${origin}|${offset}`);
        expect([ref?.iv ?? null, ref?.delta ?? null]).toEqual([iv, delta]);
      }
      const lakeWindows = await query(`SELECT underlying, "window", count(*) FROM read_parquet(${glob('features')}, hive_partitioning = true) GROUP BY ALL ORDER BY ALL`);
      const expectedWindows = new Map<string, number>();
      for (const w of reference.windows.values()) expectedWindows.set(`${w.underlying}|${w.window}`, (expectedWindows.get(`${w.underlying}|${w.window}`) ?? 0) + 1);
      expect(new Map(lakeWindows.rows.map((r) => [`${r[0]}|${r[1]}`, Number(r[2])]))).toEqual(expectedWindows);

      // Back to full replication once the restarted broker caught up.
      const all = (await admin.listTopics()).filter((x) => x.startsWith(prefix) || x === '__consumer_offsets' || x === '__transaction_state' || x === '_schemas');
      await until('no under-replicated partition', async () => (await underReplicated(admin, all)).length === 0, 120_000).catch(() => undefined);
      expect(await underReplicated(admin, all)).toEqual([]);
    } finally {
      await Promise.all(members.map((m) => m.stop()));
    }
  }, 900_000);
});

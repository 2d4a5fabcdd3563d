import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildProcess, spawn } from 'node:child_process';
import { TopicSerde } from '../../src/avro/serde';
import { SchemaName } from '../../src/avro/types';
import { COUNT_NAMES, FEATURE_NAMES } from '../../src/domain/features/names';
import { FeatureRecord } from '../../src/domain/features/window-features';
import { generateDay } from '../../src/generator';
import { readLocalDay, recordKey } from '../../src/producers/flatfile/local-day';
import { MarketRecord } from '../../src/producers/flatfile/parse/normalise';
import { Cluster, LiveMembersError } from '../../src/ops/cluster';
import { GroupMember } from '../../src/kafka/member';
import { windowKey } from '../../src/processors/features';
import { applyTopology } from '../../topology/apply';
import { duckdbRows, sqlString } from '../../src/util/duckdb';
import { buildTopology } from '../../topology/topology';
import { connectTestKafka, createTopics, TestKafka, uniqueName } from './helpers';
import { ChildProcesses, produceValues, readTopic, sendMarkers, until, waitExit } from './kafka-io';

/**
 * `optflow reprocess` on the real broker (issue 12). The generated sample day runs through greeks,
 * features and the Parquet sinks of features and enriched trades. Then a setting that changes the
 * feature values (greeks.multiplier 100 → 10: dADVV, gADVV and the dollar values) is "fixed", the day
 * is reprocessed and rerun. Checked against a clean run with the new setting on its own topics:
 *  - the latest version of every window in `features` equals the clean run (generation aside);
 *  - DuckDB over the lake gives exactly one row per window, equal to the topic's latest, and no row
 *    of the old generation (features and enriched trades);
 *  - `reprocess` while a member runs refuses and changes no committed offset;
 *  - a second reprocess whose rerun has the features sink and the features processor killed with
 *    SIGKILL at random moments (and restarted) ends with the same lake, one generation later.
 */

const PARTITIONS = 3;
const DATE = '2025-03-07';
const UNDERLYINGS = ['SPY', 'QQQ', 'IWM'];
const WINDOWS = 3 * (390 + 78 + 26 + 13);
const NEW_SETTING = { OPTFLOW__GREEKS__MULTIPLIER: '10' };
const SCHEMAS: Record<string, SchemaName> = { 'equity.trades': 'EquityTrade', 'equity.quotes': 'EquityQuote', 'option.trades': 'OptionTrade', 'option.quotes': 'OptionQuote' };
const ROOT = path.join(__dirname, '..', '..');

interface Env {
  prefix: string;
  t: TestKafka;
  lake: string;
  vars: Record<string, string>;
}

async function setup(name: string, lake: string, extra: Record<string, string> = {}): Promise<Env> {
  const prefix = `${uniqueName(name)}.`;
  const t = await connectTestKafka({ topics: { prefix, partitions: PARTITIONS } });
  await applyTopology(t.config, t.admin, t.registry, buildTopology(t.config));
  const vars = {
    OPTFLOW__TOPICS__PREFIX: prefix,
    OPTFLOW__TOPICS__PARTITIONS: String(PARTITIONS),
    OPTFLOW__UNIVERSE__UNDERLYINGS: JSON.stringify(UNDERLYINGS),
    OPTFLOW__SINK__FLUSH_IDLE_SECONDS: '2',
    OPTFLOW__METRICS__BASE_PORT: '0',
    ...extra,
  };
  return { prefix, t, lake, vars };
}

async function produceDay(env: Env, day: Map<string, MarketRecord[]>): Promise<void> {
  let end = 0n;
  for (const [topic, records] of day) {
    const serde = await TopicSerde.forTopic<MarketRecord>(env.t.registry, env.prefix + topic, SCHEMAS[topic]);
    await produceValues(env.t.kafka, serde, records.map((r) => ({ key: recordKey(r), value: r })));
    for (const r of records) if (r.sip_timestamp > end) end = r.sip_timestamp;
  }
  for (const topic of Object.keys(SCHEMAS)) await sendMarkers(env.t.kafka, env.prefix + topic, PARTITIONS, end + 3_600_000_000_000n);
}

const SINK_TOPICS = ['features', 'option.trades.enriched'];

/** Both processors and (unless `sinks` is false) the two sinks, as child processes by role. */
function startAll(env: Env, extra: Record<string, string> = {}, sinks = true): Map<string, ChildProcess> {
  const members = new Map<string, ChildProcess>();
  const children = new ChildProcesses({ ...env.vars, ...extra });
  members.set('greeks', children.spawn(['process', 'greeks']));
  members.set('features', children.spawn(['process', 'features']));
  if (sinks) for (const topic of SINK_TOPICS) members.set(`sink ${topic}`, children.spawn(['sink', 'parquet', '--topic', topic, '--out', env.lake]));
  running.push(children);
  return members;
}
const running: ChildProcesses[] = [];
async function stopRunning(): Promise<void> {
  for (const c of running.splice(0)) await c.stopAll();
}

/** `optflow <args>` with its exit code and output. */
async function cli(env: Env, args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'optflow.js'), ...args], {
    env: { ...process.env, NODE_ENV: 'test', OPTFLOW_LOG_LEVEL: 'error', ...env.vars, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await waitExit(child);
  return { code, stdout, stderr };
}

type Decoded = FeatureRecord & { generation: number };

/** Every record of `features`, and the latest version per window key (highest generation, then offset). */
async function readFeatures(env: Env, expected: number): Promise<{ all: { key: string | null; value: Decoded }[]; latest: Map<string, Decoded> }> {
  const serde = await TopicSerde.forTopic<Decoded>(env.t.registry, `${env.prefix}features`, 'Features');
  const all = await readTopic(env.t.kafka, serde.topic, (b) => serde.decode(b), expected, 900_000);
  const latest = new Map<string, Decoded>();
  for (const { value } of all) {
    const key = windowKey(value.underlying, value.window, value.window_start_ns);
    const seen = latest.get(key);
    if (!seen || value.generation >= seen.generation) latest.set(key, value);
  }
  return { all, latest };
}

const COMPARED = ['window_end_ns', ...COUNT_NAMES, ...FEATURE_NAMES] as const;

function withoutGeneration(v: Decoded): Record<string, unknown> {
  const { generation, ...rest } = v;
  void generation;
  return rest;
}

async function lakeRows(lake: string, topic: string): Promise<Record<string, unknown>[]> {
  return duckdbRows(`SELECT * FROM read_parquet(${sqlString(`${lake}/${topic}/**/*.parquet`)}, hive_partitioning = true)`);
}

/** Rows per generation in a lake dataset (a read that races a directory swap is retried by the caller). */
async function generations(lake: string, topic: string): Promise<Map<number, number>> {
  try {
    const rows = await duckdbRows(`SELECT generation, count(*) AS n FROM read_parquet(${sqlString(`${lake}/${topic}/**/*.parquet`)}, hive_partitioning = true) GROUP BY 1`);
    return new Map(rows.map((r) => [Number(r.generation), Number(r.n)]));
  } catch {
    return new Map();
  }
}

async function waitForLake(lake: string, generation: number, optionTrades: number): Promise<void> {
  const want: Record<string, number> = { features: WINDOWS, 'option.trades.enriched': optionTrades };
  for (const topic of SINK_TOPICS) {
    await until(`${topic} lake at generation ${generation} only`, async () => {
      const g = await generations(lake, topic);
      return g.size === 1 && g.get(generation) === want[topic];
    }, 900_000);
  }
}

/** The lake's feature rows must be the topic's latest, one per window, all of `generation`. */
async function expectLakeIsLatest(lake: string, latest: Map<string, Decoded>, generation: number): Promise<Map<string, Record<string, unknown>>> {
  const rows = await lakeRows(lake, 'features');
  expect(rows).toHaveLength(WINDOWS);
  const byKey = new Map(rows.map((r) => [windowKey(String(r.underlying), String(r.window), r.window_start_ns as bigint), r]));
  expect(byKey.size).toBe(WINDOWS);
  for (const [key, row] of byKey) {
    expect(row.generation).toBe(generation);
    const topic = latest.get(key)!;
    expect(topic).toBeDefined();
    expect(topic.generation).toBe(generation);
    for (const name of COMPARED) expect([key, name, row[name]]).toEqual([key, name, topic[name as keyof Decoded]]);
  }
  return byKey;
}

async function committedOffsets(env: Env): Promise<string> {
  const cluster = await Cluster.connect(env.t.config, 'test');
  try {
    const groups = ['optflow.greeks', 'optflow.features', 'optflow.sink.features', 'optflow.sink.option.trades.enriched'].map((g) => env.prefix + g);
    const out: string[] = [];
    for (const g of groups) for (const c of await cluster.committed(g)) out.push(`${g} ${c.topic} ${c.partition} ${c.offset} ${c.metadata}`);
    return out.sort().join('\n');
  } finally {
    await cluster.close();
  }
}

describe('reprocess a day (real broker, generated sample day)', () => {
  let dir: string;
  let lakes: string;
  let day: Map<string, MarketRecord[]>;
  const envs: Env[] = [];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-day-'));
    lakes = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-lake-'));
    await generateDay({ date: DATE, outDir: dir, seed: 1, scale: 'small' });
    day = await readLocalDay(dir, DATE, UNDERLYINGS);
  });
  afterAll(async () => {
    await stopRunning();
    for (const e of envs) await e.t.close();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(lakes, { recursive: true, force: true });
  });

  it('replaces the day in the topic (latest per window) and in the lake (one version), also with kill -9 during the rerun; refuses while a member runs', async () => {
    const optionTrades = day.get('option.trades')!.length;

    // The clean run with the new setting, on its own topics: the reference.
    const clean = await setup('rpc', path.join(lakes, 'clean'), NEW_SETTING);
    envs.push(clean);
    await produceDay(clean, day);
    startAll(clean, {}, false);
    const reference = (await readFeatures(clean, WINDOWS)).latest;
    expect(reference.size).toBe(WINDOWS);
    await stopRunning();

    // The run with the old setting.
    const env = await setup('rp', path.join(lakes, 'lake'));
    envs.push(env);
    await produceDay(env, day);
    startAll(env);
    const before = await readFeatures(env, WINDOWS);
    expect(before.all).toHaveLength(WINDOWS);
    for (const { key, value } of before.all) {
      expect(key).toBe(windowKey(value.underlying, value.window, value.window_start_ns));
      expect(value.generation).toBe(0);
    }
    await waitForLake(env.lake, 0, optionTrades);
    // the setting changes values: the old version differs from the reference somewhere
    const differs = [...before.latest].filter(([k, v]) => JSON.stringify(withoutGeneration(v), (_, x) => (typeof x === 'bigint' ? String(x) : x)) !== JSON.stringify(withoutGeneration(reference.get(k)!), (_, x) => (typeof x === 'bigint' ? String(x) : x)));
    expect(differs.length).toBeGreaterThan(WINDOWS / 2);

    // Refused while members run, and nothing changes.
    const offsetsBefore = await committedOffsets(env);
    const refused = await cli(env, ['reprocess', '--from', DATE]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refusing to reprocess: stop every member/);
    expect(refused.stderr).toMatch(/optflow\.features: 1 live member/);
    expect(await committedOffsets(env)).toBe(offsetsBefore);
    await stopRunning();

    // The dry run prints the plan and changes nothing.
    const offsetsStopped = await committedOffsets(env);
    const dry = await cli(env, ['reprocess', '--from', DATE, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/plan: reprocess 2025-03-07/);
    expect(dry.stdout).toMatch(/processor greeks .*generation 0 -> 1/);
    expect(dry.stdout).toMatch(/processor features .*generation 0 -> 1/);
    expect(dry.stdout).toMatch(/dry run: nothing was changed/);
    expect(await committedOffsets(env)).toBe(offsetsStopped);

    // Reprocess (greeks, and features downstream of it) and rerun with the new setting.
    const done = await cli(env, ['reprocess', '--from', DATE, '--processors', 'greeks']);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/reprocessed 2025-03-07/);
    expect(done.stdout).toMatch(/processor features/);
    startAll(env, NEW_SETTING);
    const after = await readFeatures(env, 2 * WINDOWS);
    expect(after.all).toHaveLength(2 * WINDOWS);
    expect(after.latest.size).toBe(WINDOWS);
    for (const [key, value] of after.latest) {
      expect(value.generation).toBe(1);
      expect([key, withoutGeneration(value)]).toEqual([key, withoutGeneration(reference.get(key)!)]);
    }
    await waitForLake(env.lake, 1, optionTrades);
    const lake1 = await expectLakeIsLatest(env.lake, after.latest, 1);
    await stopRunning();

    // Again, with SIGKILL of the features sink and of the features processor at random moments.
    // Naming features brings greeks along (features reads greeks' output from where it is rewritten).
    const again = await cli(env, ['reprocess', '--from', DATE, '--processors', 'features']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/processor greeks .*generation 1 -> 2/);
    expect(again.stdout).toMatch(/processor features .*generation 1 -> 2/);
    const members = startAll(env, NEW_SETTING);
    const extra = new ChildProcesses({ ...env.vars, ...NEW_SETTING });
    running.push(extra);
    for (const role of ['features', 'sink features']) {
      const delay = 1500 + Math.floor(Math.random() * 6000);
      await new Promise((r) => setTimeout(r, delay));
      members.get(role)!.kill('SIGKILL');
      await waitExit(members.get(role)!);
      process.stderr.write(`reprocess test: killed ${role} after ${delay} ms\n`);
      extra.spawn(role === 'features' ? ['process', 'features'] : ['sink', 'parquet', '--topic', 'features', '--out', env.lake]);
    }
    const third = await readFeatures(env, 3 * WINDOWS);
    expect(third.latest.size).toBe(WINDOWS);
    for (const [key, value] of third.latest) {
      expect(value.generation).toBe(2);
      expect([key, withoutGeneration(value)]).toEqual([key, withoutGeneration(reference.get(key)!)]);
    }
    await waitForLake(env.lake, 2, optionTrades);
    const lake2 = await expectLakeIsLatest(env.lake, third.latest, 2);
    for (const [key, row] of lake2) {
      const first = lake1.get(key)!;
      for (const name of COMPARED) expect([key, name, row[name]]).toEqual([key, name, first[name]]);
    }
    await stopRunning();
  }, 2_700_000);
});

describe('a rewind commit (real broker)', () => {
  it('is applied in one commit while the group is empty, and refused by the coordinator, changing nothing, while it has a member', async () => {
    const t = await connectTestKafka();
    const topic = uniqueName('rewind');
    const group = uniqueName('rewind-group');
    await createTopics(t.admin, [topic], 2);
    const cluster = await Cluster.connect(t.config, 'test');
    const member = new GroupMember(t.config, { group, topics: [topic], clientSuffix: 'test-member' });
    const committed = async () => (await cluster.committed(group, [topic])).map((c) => `${c.partition} ${c.offset} ${c.metadata}`).sort();
    const rewind = (metadata: string) => [0, 1].map((partition) => ({ topic, partition, offset: 0n, metadata }));
    try {
      await cluster.commitToEmptyGroup(group, rewind('{"v":1,"gen":1}'));
      expect(await committed()).toEqual(['0 0 {"v":1,"gen":1}', '1 0 {"v":1,"gen":1}']);
      let joined!: () => void;
      const assigned = new Promise<void>((resolve) => (joined = resolve));
      await member.start({ assigned: async () => (joined(), []), revoked: async () => undefined, fetched: async () => undefined, tick: async () => undefined });
      await assigned;
      await expect(cluster.commitToEmptyGroup(group, rewind('{"v":1,"gen":2}'))).rejects.toThrow(LiveMembersError);
      expect(await committed()).toEqual(['0 0 {"v":1,"gen":1}', '1 0 {"v":1,"gen":1}']);
    } finally {
      await member.stop();
      await cluster.close();
      await t.admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await t.close();
    }
  }, 60_000);
});

import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { FEATURE_NAMES } from 'optflow';
import { readFeatureFrame } from '../../examples/typescript/features-frame';
import { TopicSerde } from '../../src/avro/serde';
import { projectRoot } from '../../src/config';
import { FeatureRecord } from '../../src/domain/features/window-features';
import { DeadLetter, OptionTrade } from '../../src/domain/records';
import { generateDay } from '../../src/generator';
import { METRICS_ROLES } from '../../src/kafka/metrics';
import { decodeMetadata } from '../../src/processors/runtime/restore';
import { applyTopology } from '../../topology/apply';
import { buildTopology } from '../../topology/topology';
import { connectTestKafka, metricsBasePort, TestKafka, uniqueName } from './helpers';
import { readTopic, until, waitExit, committedPartitions } from './kafka-io';

/**
 * Operating the topology: `optflow status --json` during a run, checked against the group and offset
 * state read here through the admin API and against each role's /metrics; `optflow inspect` on a
 * market topic, on `features` and on a dead-letter topic, checked against the records read directly.
 * One run of the sample day (SPY, QQQ, IWM): flatfile producer, greeks, features and the sinks in `run-all`.
 */

const DATE = '2025-03-07';
const WINDOWS = 3 * (390 + 78 + 26 + 13); // SPY, QQQ, IWM
const run = promisify(execFile);
const CLI = path.join(projectRoot(), 'bin', 'optflow.js');

interface Env {
  t: TestKafka;
  prefix: string;
  env: Record<string, string>;
  runAll: ChildProcess;
  dirs: string[];
  /** run-all's stderr at the default log level. */
  stderr: string[];
}

let e: Env;

async function cli(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, NODE_ENV: 'test', ...e.env }, maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Total offsets of a topic (records and transaction markers). */
async function offsets(topic: string): Promise<bigint> {
  return (await e.t.admin.fetchTopicOffsets(topic)).reduce((s, o) => s + BigInt(o.high), 0n);
}

beforeAll(async () => {
  const prefix = `${uniqueName('ops')}.`;
  const t = await connectTestKafka({ topics: { prefix } });
  await applyTopology(t.config, t.admin, t.registry, buildTopology(t.config));
  const day = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-day-'));
  const lake = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-lake-'));
  await generateDay({ date: DATE, outDir: day, seed: 1, scale: 'small' });
  const basePort = metricsBasePort();
  const env = {
    OPTFLOW__TOPICS__PREFIX: prefix,
    OPTFLOW__METRICS__BASE_PORT: String(basePort),
    OPTFLOW__SINK__FLUSH_IDLE_SECONDS: '2',
    KAFKA_BROKERS: t.config.kafka.brokers.join(','),
    SCHEMA_REGISTRY_URL: t.config.schema_registry.url,
  };
  const runAll = spawn(process.execPath, [CLI, 'run-all', '--from', DATE, '--local', day, '--out', lake], {
    env: { ...process.env, NODE_ENV: 'test', OPTFLOW_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  runAll.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  e = { t, prefix, env, runAll, dirs: [day, lake], stderr };
  const features = `${prefix}features`;
  await until('every window of the day in features', async () => (await offsets(features)) >= BigInt(WINDOWS), 240_000);
  let lags = '';
  await until(
    'greeks, features and the features sink caught up',
    async () => {
      const s = JSON.parse(await cli(['status', '--json', '--interval', '0.2'])) as { groups: { name: string; inputs: { topic: string; lag: string | number }[] }[] };
      const groups = s.groups.filter((g) => ['greeks', 'features', 'parquet:features'].includes(g.name));
      lags = JSON.stringify(groups.map((g) => [g.name, g.inputs.map((i) => [i.topic, i.lag])]));
      return groups.every((g) => g.inputs.every((i) => Number(i.lag) === 0));
    },
    120_000,
    () => lags,
  );
});

afterAll(async () => {
  if (e) {
    e.runAll.kill('SIGTERM');
    await waitExit(e.runAll);
    await e.t.close();
    for (const d of e.dirs) fs.rmSync(d, { recursive: true, force: true });
  }
});

interface StatusJson {
  groups: {
    name: string;
    groupId: string;
    state: string;
    members: { clientId: string; partitions: Record<string, number[]> }[];
    inputs: { topic: string; lag: number; partitions: { partition: number; position: number | null; high: number; lag: number }[] }[];
    watermark: { ns: number; lagHeadSeconds: number | null } | null;
    late: number;
    dlq: number;
    flags: { sampled: number; noIvShare: number; unknownAggressorShare: number } | null;
    metrics: string | null;
  }[];
  producers: { files: { done: number }; records: number; deadLetters: number; lastEventTimeNs: number };
}

async function metricValues(url: string, name: string): Promise<number[]> {
  const text = await (await fetch(url)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
}

/** What the admin API says about one group's inputs: per topic and partition, processed position and end. */
async function adminView(groupId: string, topics: string[], processor: boolean): Promise<Map<string, { position: bigint | null; high: bigint }>> {
  const view = new Map<string, { position: bigint | null; high: bigint }>();
  for (const topic of topics) {
    const ends = await e.t.admin.fetchTopicOffsets(topic);
    // every partition: the Confluent admin lists only those with a committed offset
    const committed = await committedPartitions(e.t.admin, groupId, topic);
    for (const end of ends) {
      const c = committed.find((x) => x.partition === end.partition);
      const position = !c || c.offset === '-1' ? null : processor ? decodeMetadata(c.metadata)!.position : BigInt(c.offset);
      view.set(`${topic}:${end.partition}`, { position, high: BigInt(end.high) });
    }
  }
  return view;
}

describe('optflow status', () => {
  it('--json matches the groups, offsets and metadata read through the admin API, and the metrics', async () => {
    const names = ['greeks', 'features', 'parquet:features'];
    const topology = buildTopology(e.t.config);
    const groupsOf = names.map((n) => {
      const p = topology.processors.find((x) => x.name === n);
      const s = topology.sinks.find((x) => x.name === n);
      return { name: n, groupId: (p ?? s)!.consumerGroup, inputs: p ? p.inputs : [s!.topic], processor: Boolean(p) };
    });
    // The run is live: the status snapshot must lie between two admin reads taken around it.
    const before = await Promise.all(groupsOf.map((g) => adminView(g.groupId, g.inputs, g.processor)));
    const status = JSON.parse(await cli(['status', '--json', '--interval', '0.5'])) as StatusJson;
    const after = await Promise.all(groupsOf.map((g) => adminView(g.groupId, g.inputs, g.processor)));
    const { groups } = await e.t.admin.describeGroups(groupsOf.map((g) => g.groupId));
    groupsOf.forEach((g, i) => {
      const s = status.groups.find((x) => x.name === g.name)!;
      const admin = groups.find((x) => x.groupId === g.groupId)!;
      expect([s.state, admin.state]).toEqual(['Stable', KafkaJS.ConsumerGroupStates.STABLE]);
      const owned = admin.members.map((m) => {
        const byTopic: Record<string, number[]> = {};
        for (const tp of m.assignment.topicPartitions) (byTopic[tp.topic] ??= []).push(tp.partition);
        return byTopic;
      });
      expect(s.members.map((m) => m.partitions)).toEqual(owned);
      expect(s.inputs.map((x) => x.topic)).toEqual(g.inputs);
      for (const input of s.inputs) {
        for (const p of input.partitions) {
          const [a, b] = [before[i].get(`${input.topic}:${p.partition}`)!, after[i].get(`${input.topic}:${p.partition}`)!];
          expect(BigInt(p.high)).toBeGreaterThanOrEqual(a.high);
          expect(BigInt(p.high)).toBeLessThanOrEqual(b.high);
          if (b.position === null) {
            // Nothing committed (a partition no record ever went to): no position, nothing behind.
            expect([p.position, p.lag]).toEqual([null, 0]);
            continue;
          }
          expect(BigInt(p.position!)).toBeGreaterThanOrEqual(a.position ?? 0n);
          expect(BigInt(p.position!)).toBeLessThanOrEqual(b.position);
          // Lag is in data records: at most the offsets left (which include transaction markers).
          expect(BigInt(p.lag)).toBeLessThanOrEqual(BigInt(p.high) - BigInt(p.position!));
        }
        expect(input.lag).toBe(0);
      }
    });
    const greeks = status.groups.find((g) => g.name === 'greeks')!;
    const features = status.groups.find((g) => g.name === 'features')!;
    // The role ports status links are the ones the running members serve.
    for (const g of [greeks, features]) {
      expect(g.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(await metricValues(g.metrics!, 'optflow_late_total')).toEqual([g.late]);
      expect((await metricValues(g.metrics!, 'optflow_dlq_total')).reduce((a, b) => a + b, 0)).toBe(g.dlq);
      const wmSeconds = Math.min(...(await metricValues(g.metrics!, 'optflow_watermark_seconds')));
      expect(Math.abs(wmSeconds - g.watermark!.ns / 1e9)).toBeLessThan(0.01);
    }
    expect(greeks.flags!.sampled).toBeGreaterThan(0);
    expect(greeks.flags!.noIvShare).toBeGreaterThanOrEqual(0);
    expect(status.producers.files.done).toBe(4);
    expect(status.producers.deadLetters).toBeGreaterThan(0);
  });

  it('the text view names every group and the producers', async () => {
    const text = await cli(['status', '--interval', '0.2']);
    for (const name of ['greeks', 'features', 'parquet:option.trades.enriched', 'producers']) expect(text).toContain(name);
    expect(text).toMatch(/no IV \d+\.\d%, aggressor UNKNOWN \d+\.\d%/);
  });
});

describe('optflow inspect', () => {
  it('decodes a market topic exactly (every record, ns timestamps to the digit)', async () => {
    const topic = `${e.prefix}option.trades`;
    const serde = await TopicSerde.forTopic<OptionTrade>(e.t.registry, topic, 'OptionTrade');
    const direct = await readTopic(e.t.kafka, topic, (b) => serde.decode(b), 1_000_000, 5_000);
    const lines = jsonLines(await cli(['inspect', 'option.trades', '--limit', '1000000']));
    expect(lines).toHaveLength(direct.length);
    // The producers' end-of-day watermark markers, one per partition, only with --markers.
    const markers = jsonLines(await cli(['inspect', 'option.trades', '--limit', '1000000', '--markers'])).filter((l) => l.watermark !== undefined);
    expect(new Set(markers.map((m) => m.partition)).size).toBe(e.t.config.topics.partitions);
    const byPosition = new Map(direct.map((r) => [`${r.partition}:${r.offset}`, r.value]));
    const text = await cli(['inspect', 'option.trades', '--limit', '3']);
    for (const line of text.split('\n').filter(Boolean)) {
      const r = JSON.parse(line) as { partition: number; offset: number; value: Record<string, unknown> };
      const expected = byPosition.get(`${r.partition}:${r.offset}`)!;
      expect(line).toContain(`"sip_timestamp":${expected.sip_timestamp}`);
      expect(r.value.ticker).toBe(expected.ticker);
      expect(r.value.price).toBe(expected.price);
    }
  });

  it('reads features by key: one underlying and window, every window of the day', async () => {
    const serde = await TopicSerde.forTopic<FeatureRecord>(e.t.registry, `${e.prefix}features`, 'Features');
    const direct = (await readTopic(e.t.kafka, serde.topic, (b) => serde.decode(b), WINDOWS, 10_000)).filter((r) => r.key?.startsWith('SPY|30m|'));
    const lines = jsonLines(await cli(['inspect', 'features', '--key', 'SPY|30m', '--limit', '1000']));
    expect(lines).toHaveLength(13);
    expect(lines).toHaveLength(direct.length);
    for (const l of lines) expect(l.key).toBe(`SPY|30m|${(l.value as { window_start_ns: number }).window_start_ns}`);
    const starts = lines.map((l) => String((l.value as { window_start_ns: number }).window_start_ns));
    expect(new Set(starts)).toEqual(new Set(direct.map((r) => String(r.value.window_start_ns))));
    // --follow stops at --limit; --from-datetime (a record's write time) after the run leaves nothing to read.
    expect(jsonLines(await cli(['inspect', 'features', '--follow', '--limit', '5']))).toHaveLength(5);
    expect(await cli(['inspect', 'features', '--from-datetime', new Date(Date.now() + 3_600_000).toISOString()])).toBe('');
    const table = await cli(['inspect', 'features', '--key', 'SPY|30m', '--limit', '2', '--table']);
    expect(table.split('\n')[0]).toMatch(/^\s+p\s+offset time\s+key\s+underlying\s+window/);
  });

  it('shows dead letters with reason, file and line, as JSON and as a table', async () => {
    const topic = `${e.prefix}option.trades.dlq`;
    const serde = await TopicSerde.forTopic<DeadLetter>(e.t.registry, topic, 'DeadLetter');
    const direct = await readTopic(e.t.kafka, topic, (b) => serde.decode(b), 1000, 5_000);
    expect(direct.length).toBeGreaterThan(0);
    const lines = jsonLines(await cli(['inspect', 'option.trades.dlq']));
    expect(lines).toHaveLength(direct.length);
    for (const l of lines) {
      const v = l.value as { reason: string; origin: string; position: number; raw: string };
      const d = direct.find((r) => r.value.position === BigInt(v.position))!.value;
      expect(v).toMatchObject({ reason: d.reason, origin: d.origin });
      expect(v.raw).toBe(d.raw.toString('utf8'));
    }
    const table = (await cli(['inspect', 'option.trades.dlq', '--table'])).split('\n').filter(Boolean);
    expect(table[0]).toMatch(/reason\s+origin\s+position\s+detail\s+raw/);
    expect(table).toHaveLength(direct.length + 1);
    expect(table[1]).toContain('us_options_opra/trades_v1/2025/03/2025-03-07.csv.gz');
  });
});

describe('Prometheus out of the box', () => {
  it('every metric the Grafana dashboard queries is served by a running process', async () => {
    const file = path.join(projectRoot(), 'deploy', 'grafana', 'dashboards', 'optflow.json');
    const dashboard = JSON.parse(fs.readFileSync(file, 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const queried = new Set(
      dashboard.panels
        .flatMap((p) => p.targets.map((t) => t.expr))
        .flatMap((expr) => expr.match(/optflow_[a-z_]+/g) ?? [])
        .map((n) => n.replace(/_bucket$/, '')),
    );
    expect(queried.size).toBeGreaterThan(5);
    // run-all serves each role on its own port, as separate processes would.
    const base = Number(e.env.OPTFLOW__METRICS__BASE_PORT);
    const roles = Object.entries(METRICS_ROLES).filter(([role]) => role.startsWith('sink:') || role === 'processor:greeks' || role === 'processor:features');
    const served = (await Promise.all(roles.map(async ([, offset]) => (await fetch(`http://127.0.0.1:${base + offset}/metrics`)).text()))).join('\n');
    for (const name of queried) expect(served).toContain(`# TYPE ${name} `);
  });
});

describe('examples/typescript', () => {
  it('reads features as rows in FEATURE_NAMES order, the latest version per window, equal to what inspect decodes', async () => {
    const frame = await readFeatureFrame({
      brokers: e.t.config.kafka.brokers,
      registryUrl: e.t.config.schema_registry.url,
      topic: `${e.prefix}features`,
      groupId: uniqueName('example'),
    });
    expect(frame.columns).toEqual(FEATURE_NAMES);
    expect(frame.rows).toHaveLength(WINDOWS);
    const inspected = new Map<string, Record<string, unknown>>();
    for (const line of (await cli(['inspect', 'features', '--limit', '100000'])).split('\n').filter(Boolean)) {
      // Exact ns: the JSON integers are read as text.
      const start = /"window_start_ns":(\d+)/.exec(line)![1];
      const value = (JSON.parse(line) as { value: Record<string, unknown> }).value;
      inspected.set(`${String(value.underlying)}|${String(value.window)}|${start}`, value);
    }
    frame.keys.forEach((k, i) => {
      const ref = inspected.get(`${k.underlying}|${k.window}|${k.window_start_ns}`)!;
      expect(frame.rows[i]).toEqual(FEATURE_NAMES.map((n) => (ref[n] === null ? Number.NaN : ref[n])));
    });
  });
});

describe('quiet logs', () => {
  it('a fresh run (new groups, new topics) prints no client-library lines at the default level', () => {
    const lines = e.stderr.join('').split('\n').filter((l) => l.startsWith('{'));
    expect(lines.filter((l) => l.includes('"component":"kafka"'))).toEqual([]);
  });
});

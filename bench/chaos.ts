/**
 * `npm run chaos -- [--faults 20] [--seed S] [--greeks 2] [--features 1]`: a seeded, bounded chaos
 * run against a clean-run oracle (issue 16).
 *
 * 1. A generated three-underlying day is produced and processed twice, each run under its own topic
 *    prefix and lake: the flat-file producer, greeks and features members and one Parquet sink member
 *    per sink topic, all as separate `optflow` processes.
 * 2. The clean run has no faults. The faulted run gets N faults at seeded random moments: kill -9 of
 *    the producer, of a processor member, of a sink member, SIGTERM of any of them, and a broker
 *    restart (`optflow stack down kafka` + `stack up kafka`: the broker process stops and starts, its
 *    data directory stays). Killed processes are restarted after a seeded delay.
 * 3. Both runs are complete when the producer exited 0 and every group has zero lag, three polls
 *    in a row (`optflow status --json`).
 * 4. Every topic of the topology is read committed (`optflow inspect`) from both runs and compared as
 *    a multiset of records (key, partition, schema, value; offsets, Kafka timestamps, the prefix and
 *    dead letters' wall-clock recorded_at_ms left out), and every sink's lake directory is compared
 *    row for row with DuckDB (EXCEPT ALL both ways, ns columns exact).
 * A table of faults by kind and differences per topic is printed; any difference exits 1, keeping the
 * seed, the logs and both runs' topics and lakes under bench/out/chaos/<run id>/.
 *
 * It restarts the broker: run it on a stack of your own (`optflow stack up` with its own home and
 * ports), never a shared one. The harness talks to Kafka only through the CLI.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig, type Config } from '../src/config';
import { Xoshiro128ss } from '../src/domain/stats/prng';
import { buildTopology } from '../topology/topology';
import { runCli, sleep, Supervised, type ExitCause } from './procs';

const DATE = '2025-03-07';
const FAULT_KINDS = ['kill9_producer', 'kill9_processor', 'kill9_sink', 'sigterm', 'broker_restart'] as const;
type FaultKind = (typeof FAULT_KINDS)[number];

interface Options {
  faults: number;
  seed: string;
  greeks: number;
  features: number;
  daySeed: number;
  /** Gap between faults, seeded uniformly in [minGapMs, maxGapMs]. */
  minGapMs: number;
  maxGapMs: number;
  timeoutMinutes: number;
  /** Replays a fault sequence instead of drawing one: `kind[:target]@seconds`, comma-separated. */
  plan?: PlannedFault[];
}

interface PlannedFault {
  kind: FaultKind;
  target?: string;
  atSeconds: number;
}

/** `broker_restart@6.4,sigterm:features-1@23.8`: the format the faulted run prints its faults in. */
function parsePlan(text: string): PlannedFault[] {
  return text.split(',').map((item) => {
    const m = /^([a-z0-9_]+)(?::([A-Za-z0-9._-]+))?@([0-9.]+)$/.exec(item.trim());
    if (!m || !(FAULT_KINDS as readonly string[]).includes(m[1])) throw new Error(`bad --plan item ${item} (kind[:target]@seconds, kinds ${FAULT_KINDS.join(' ')})`);
    return { kind: m[1] as FaultKind, target: m[2], atSeconds: Number(m[3]) };
  });
}

function parseOptions(argv: string[]): Options {
  const o: Options = { faults: 20, seed: String(Date.now() % 100_000), greeks: 2, features: 1, daySeed: 1, minGapMs: 2_000, maxGapMs: 12_000, timeoutMinutes: 30 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    switch (flag) {
      case '--faults': o.faults = Number(value); break;
      case '--seed': o.seed = value; break;
      case '--greeks': o.greeks = Number(value); break;
      case '--features': o.features = Number(value); break;
      case '--day-seed': o.daySeed = Number(value); break;
      case '--min-gap-ms': o.minGapMs = Number(value); break;
      case '--max-gap-ms': o.maxGapMs = Number(value); break;
      case '--timeout-minutes': o.timeoutMinutes = Number(value); break;
      case '--plan': o.plan = parsePlan(value); o.faults = o.plan.length; break;
      default: throw new Error(`unknown flag ${flag} (--faults N --seed S --greeks N --features N --day-seed N --min-gap-ms --max-gap-ms --timeout-minutes --plan PLAN)`);
    }
  }
  return o;
}

class Rng {
  private readonly x: Xoshiro128ss;
  constructor(seed: string) {
    this.x = Xoshiro128ss.fromParts('optflow-chaos', seed);
  }
  between(lo: number, hi: number): number {
    return lo + Math.floor(this.x.nextDouble() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.x.nextDouble() * items.length)];
  }
}

interface RunPaths {
  name: string;
  prefix: string;
  lake: string;
  logs: string;
}

function envFor(prefix: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    OPTFLOW__TOPICS__PREFIX: prefix,
    // Small producer transactions: more commit points for a kill to fall between.
    OPTFLOW__MASSIVE__TRANSACTION_RECORDS: '2000',
    OPTFLOW__METRICS__BASE_PORT: '0',
    OPTFLOW__LOG__LEVEL: 'warn',
  };
}

/** The run's processes: producer, greeks and features members, one sink member per sink topic. */
function processes(config: Config, run: RunPaths, dayDir: string, o: Options, onExit: (p: Supervised, cause: ExitCause) => void): { producer: Supervised; processors: Supervised[]; sinks: Supervised[] } {
  const env = envFor(run.prefix);
  const make = (name: string, args: string[], finite = false) => new Supervised(name, args, env, run.logs, finite, (p, cause) => onExit(p, cause));
  const producer = make('producer', ['produce', 'flatfile', '--from', DATE, '--local', dayDir, '--job', 'chaos'], true);
  const processors = [
    ...Array.from({ length: o.greeks }, (_v, i) => make(`greeks-${i + 1}`, ['process', 'greeks'])),
    ...Array.from({ length: o.features }, (_v, i) => make(`features-${i + 1}`, ['process', 'features'])),
  ];
  const logical = buildTopology({ topics: { ...config.topics, prefix: '' } });
  const sinks = logical.sinks.map((s) => make(`sink-${s.topic}`, ['sink', 'parquet', '--topic', s.topic, '--out', run.lake]));
  return { producer, processors, sinks };
}

interface GroupLag {
  name: string;
  lag: number;
  members: number;
}

/** Lag of the processor groups that run and of every sink group, from `optflow status --json`. */
async function groupLags(run: RunPaths, processorNames: Set<string>): Promise<GroupLag[] | null> {
  const { code, stdout } = await runCli(['status', '--json'], envFor(run.prefix), join(run.logs, 'status.log'));
  if (code !== 0) return null;
  const snapshot = JSON.parse(stdout) as { groups: { kind: string; name: string; members: unknown[]; inputs: { lag: number }[] }[] };
  return snapshot.groups
    .filter((g) => g.kind === 'sink' || processorNames.has(g.name))
    .map((g) => ({ name: g.name, members: g.members.length, lag: g.inputs.reduce((s, i) => s + Number(i.lag), 0) }));
}

/**
 * Waits for the producer to finish, the processors to reach zero lag and every group's lag to stay
 * unchanged for four polls (15 s, longer than the sinks' 10 s idle flush). Sinks never reach zero in
 * `status`: they commit with their files, and the markers after a partition's last record (or a
 * partition of markers only) are never covered by a file, so their lag settles at the marker count.
 */
async function waitComplete(run: RunPaths, producer: Supervised, processorNames: Set<string>, deadline: number): Promise<void> {
  let quiet = 0;
  let last = '';
  while (quiet < 4) {
    if (Date.now() > deadline) throw new Error(`${run.name}: not complete before the timeout (last status: ${last})`);
    await sleep(5_000);
    const lags = producer.finished ? await groupLags(run, processorNames) : null;
    const now = lags ? lags.map((g) => `${g.name}=${g.lag}/${g.members}`).join(' ') : producer.finished ? 'status failed' : 'producer running';
    const processorsDone = lags !== null && lags.some((g) => processorNames.has(g.name)) && lags.every((g) => !processorNames.has(g.name) || g.lag === 0);
    quiet = processorsDone && now === last ? quiet + 1 : 0;
    last = now;
  }
}

interface TopicDiff {
  topic: string;
  clean: number;
  faulted: number;
  missing: number;
  extra: number;
  samples: string[];
}

/** A record's identity: its JSON line without offset, Kafka timestamp, run prefix and wall-clock fields. */
export function identity(line: string, prefix: string): string {
  return line
    .split(prefix).join('')
    .replace(/"offset":\d+,/, '')
    .replace(/"timestamp":"[^"]*",/, '')
    .replace(/"recorded_at_ms":\d+/g, '"recorded_at_ms":0');
}

async function topicMultiset(run: RunPaths, topic: string): Promise<Map<string, number>> {
  const { code, stdout } = await runCli(['inspect', topic, '--limit', '1000000000'], envFor(run.prefix), join(run.logs, 'inspect.log'));
  if (code !== 0) throw new Error(`${run.name}: inspect ${topic} failed (exit ${code}; see ${run.logs}/inspect.log)`);
  const set = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (line.length === 0) continue;
    const id = identity(line, run.prefix);
    set.set(id, (set.get(id) ?? 0) + 1);
  }
  return set;
}

async function compareTopics(config: Config, clean: RunPaths, faulted: RunPaths): Promise<TopicDiff[]> {
  const topics = buildTopology({ topics: { ...config.topics, prefix: '' } }).topics.map((t) => t.name);
  const out: TopicDiff[] = [];
  for (const topic of topics) {
    const [a, b] = await Promise.all([topicMultiset(clean, topic), topicMultiset(faulted, topic)]);
    const d: TopicDiff = { topic, clean: 0, faulted: 0, missing: 0, extra: 0, samples: [] };
    for (const [id, n] of a) {
      d.clean += n;
      const m = b.get(id) ?? 0;
      if (m < n) {
        d.missing += n - m;
        if (d.samples.length < 5) d.samples.push(`missing ×${n - m}: ${id}`);
      }
    }
    for (const [id, m] of b) {
      d.faulted += m;
      const n = a.get(id) ?? 0;
      if (m > n) {
        d.extra += m - n;
        if (d.samples.length < 10) d.samples.push(`extra ×${m - n}: ${id}`);
      }
    }
    out.push(d);
  }
  return out;
}

interface LakeDiff {
  topic: string;
  clean: number;
  faulted: number;
  differing: number;
}

function hasParquet(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith('.parquet'));
}

async function compareLakes(clean: RunPaths, faulted: RunPaths): Promise<LakeDiff[]> {
  const topics = [...new Set([...readdirSync(clean.lake), ...(existsSync(faulted.lake) ? readdirSync(faulted.lake) : [])])].sort();
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  const count = async (sql: string): Promise<number> => Number((await connection.runAndReadAll(sql)).getRows()[0][0]);
  const scan = (dir: string) => `read_parquet('${dir.replace(/'/g, "''")}/**/*.parquet', hive_partitioning = true, union_by_name = true)`;
  const out: LakeDiff[] = [];
  try {
    for (const topic of topics) {
      const [a, b] = [join(clean.lake, topic), join(faulted.lake, topic)];
      if (!hasParquet(a) || !hasParquet(b)) {
        // A stalled sink leaves no file: -1 marks the side that has some, and the lake differs.
        out.push({ topic, clean: hasParquet(a) ? -1 : 0, faulted: hasParquet(b) ? -1 : 0, differing: -1 });
        continue;
      }
      await connection.run(`CREATE OR REPLACE VIEW a AS SELECT * FROM ${scan(a)}`);
      await connection.run(`CREATE OR REPLACE VIEW b AS SELECT * FROM ${scan(b)}`);
      const differing = await count('SELECT count(*) FROM ((SELECT * FROM a EXCEPT ALL SELECT * FROM b) UNION ALL (SELECT * FROM b EXCEPT ALL SELECT * FROM a))');
      out.push({ topic, clean: await count('SELECT count(*) FROM a'), faulted: await count('SELECT count(*) FROM b'), differing });
    }
  } finally {
    connection.closeSync();
  }
  return out;
}

interface RunResult {
  seconds: number;
  faults: Record<FaultKind, number>;
  restarts: number;
  unexpectedExits: Record<string, number>;
}

/**
 * The next fault drawn from the seed: while the producer runs, faults come faster and half of them hit
 * it, so that its kills and restarts land at varied points of the day (it is done within seconds).
 */
async function drawFault(rng: Rng, o: Options, producer: Supervised, processors: Supervised[], sinks: Supervised[]): Promise<{ kind: FaultKind; target?: Supervised }> {
  await sleep(!producer.finished ? rng.between(300, 3_000) : rng.between(o.minGapMs, o.maxGapMs));
  const running = (list: Supervised[]) => list.filter((p) => p.running);
  const all = [producer, ...processors, ...sinks];
  const applicable = FAULT_KINDS.filter((k) =>
    k === 'kill9_producer' ? producer.running : k === 'kill9_processor' ? running(processors).length > 0 : k === 'kill9_sink' ? running(sinks).length > 0 : k === 'sigterm' ? running(all).length > 0 : true,
  );
  const kind = producer.running && rng.between(0, 1) === 0 ? 'kill9_producer' : rng.pick(applicable);
  if (kind === 'broker_restart') return { kind };
  const target = kind === 'kill9_producer' ? producer : kind === 'kill9_processor' ? rng.pick(running(processors)) : kind === 'kill9_sink' ? rng.pick(running(sinks)) : rng.pick(running(all));
  return { kind, target };
}

/** One full run; with `rng` set, faults are injected while it runs. */
async function runOnce(config: Config, run: RunPaths, dayDir: string, o: Options, rng: Rng | null, log: (s: string) => void): Promise<RunResult> {
  mkdirSync(run.logs, { recursive: true });
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  let stopping = false;
  let restartCount = 0;
  const plan: string[] = [];
  // Its own stream: when processes exit must not change which faults the seed draws.
  const restarts = rng ? new Rng(`${o.seed}:restarts`) : null;
  const restartDelay = () => (restarts ? restarts.between(300, 3_000) : 1_000);
  const onExit = (p: Supervised, cause: ExitCause): void => {
    if (stopping || cause === 'finished' || cause === 'stopped') return;
    if (cause === 'unexpected') log(`  ${p.name} exited unexpectedly (see ${run.logs}/${p.name}.log); restarting`);
    restartCount += 1;
    setTimeout(() => p.start(), restartDelay());
  };
  const { producer, processors, sinks } = processes(config, run, dayDir, o, onExit);
  const all = [producer, ...processors, ...sinks];
  const started = Date.now();
  const deadline = started + o.timeoutMinutes * 60_000;
  const envBroker = { ...process.env };
  // topics and schemas first: members started on a missing topic exit (and would count as unexpected)
  const applied = await runCli(['topology', 'apply'], envFor(run.prefix), join(run.logs, 'apply.log'));
  if (applied.code !== 0) throw new Error(`${run.name}: topology apply failed (see ${run.logs}/apply.log)`);
  for (const p of [...processors, ...sinks]) p.start();
  await sleep(3_000);
  producer.start();
  try {
    if (rng) {
      const byName = new Map(all.map((p) => [p.name, p]));
      for (let i = 0; i < o.faults; i++) {
        const planned = o.plan?.[i];
        if (planned) await sleep(Math.max(0, started + planned.atSeconds * 1000 - Date.now()));
        const { kind, target } = planned ? { kind: planned.kind, target: planned.target ? byName.get(planned.target) : undefined } : await drawFault(rng, o, producer, processors, sinks);
        const at = ((Date.now() - started) / 1000).toFixed(1);
        if (kind === 'broker_restart') {
          log(`  fault ${i + 1}/${o.faults} at ${at}s: broker restart`);
          plan.push(`${kind}@${at}`);
          const down = await runCli(['stack', 'down', 'kafka'], envBroker, join(run.logs, 'stack.log'));
          await sleep(rng.between(500, 5_000));
          const up = await runCli(['stack', 'up', 'kafka'], envBroker, join(run.logs, 'stack.log'));
          if (down.code !== 0 || up.code !== 0) throw new Error(`broker restart failed (down ${down.code}, up ${up.code}; see ${run.logs}/stack.log)`);
        } else {
          if (!target) throw new Error(`fault ${i + 1}: ${kind} needs a target (one of ${[...byName.keys()].join(', ')})`);
          log(`  fault ${i + 1}/${o.faults} at ${at}s: ${kind} ${target.name}`);
          plan.push(`${kind}:${target.name}@${at}`);
          target.kill(kind === 'sigterm' ? 'SIGTERM' : 'SIGKILL');
        }
        faults[kind] += 1;
      }
      log(`  replay these faults with --plan ${plan.join(',')}`);
    }
    await waitComplete(run, producer, new Set(['greeks', 'features']), deadline);
  } finally {
    stopping = true;
    await Promise.all(all.map((p) => p.stop()));
  }
  const unexpectedExits = Object.fromEntries(all.filter((p) => p.unexpectedExits > 0).map((p) => [p.name, p.unexpectedExits]));
  return { seconds: (Date.now() - started) / 1000, faults, restarts: restartCount, unexpectedExits };
}

function checkOwnStack(config: Config): void {
  const local = `127.0.0.1:${config.stack.kafka_port}`;
  if (config.kafka.brokers.length !== 1 || config.kafka.brokers[0] !== local) {
    throw new Error(`chaos restarts the broker of the local stack (${local}), but kafka.brokers is ${config.kafka.brokers.join(',')}: point both at a stack of your own`);
  }
}

export async function run(argv: string[] = process.argv.slice(3)): Promise<void> {
  const o = parseOptions(argv);
  const config = loadConfig();
  checkOwnStack(config);
  const id = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-s${o.seed}`;
  const root = resolve(process.cwd(), 'bench/out/chaos', id);
  const dayDir = resolve(process.cwd(), 'bench/out/chaos', `day-${o.daySeed}`);
  mkdirSync(root, { recursive: true });
  const lines: string[] = [];
  const log = (s: string): void => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };
  log(`chaos: seed ${o.seed}, ${o.faults} faults, ${o.greeks} greeks + ${o.features} features members, day ${DATE} (seed ${o.daySeed}); logs in ${root}`);
  if (!existsSync(join(dayDir, `${DATE}.manifest.json`))) {
    const gen = await runCli(['generate', '--date', DATE, '--out', dayDir, '--seed', String(o.daySeed), '--scale', 'small'], process.env);
    if (gen.code !== 0) throw new Error('generate failed');
  }
  const topicPrefix = (kind: string) => `chaos.${id.replace(/[^A-Za-z0-9]/g, '')}.${kind}.`;
  const clean: RunPaths = { name: 'clean', prefix: topicPrefix('clean'), lake: join(root, 'clean', 'lake'), logs: join(root, 'clean', 'logs') };
  const faulted: RunPaths = { name: 'faulted', prefix: topicPrefix('faulted'), lake: join(root, 'faulted', 'lake'), logs: join(root, 'faulted', 'logs') };

  log('clean run ...');
  const c = await runOnce(config, clean, dayDir, o, null, log);
  log(`clean run complete in ${c.seconds.toFixed(0)} s${Object.keys(c.unexpectedExits).length ? `, unexpected exits ${JSON.stringify(c.unexpectedExits)}` : ''}`);
  log('faulted run ...');
  const f = await runOnce(config, faulted, dayDir, o, new Rng(o.seed), log);
  log(`faulted run complete in ${f.seconds.toFixed(0)} s, ${f.restarts} restarts${Object.keys(f.unexpectedExits).length ? `, unexpected exits ${JSON.stringify(f.unexpectedExits)}` : ''}`);

  log('comparing topics (read committed) and lakes ...');
  const topics = await compareTopics(config, clean, faulted);
  const lakes = await compareLakes(clean, faulted);

  log('');
  log('faults injected         count');
  for (const k of FAULT_KINDS) log(`  ${k.padEnd(22)}${String(f.faults[k]).padStart(5)}`);
  log(`  ${'total'.padEnd(22)}${String(FAULT_KINDS.reduce((s, k) => s + f.faults[k], 0)).padStart(5)}`);
  log('');
  log(`${'topic'.padEnd(34)}${'clean'.padStart(9)}${'faulted'.padStart(9)}${'missing'.padStart(9)}${'extra'.padStart(7)}`);
  for (const t of topics) log(`${t.topic.padEnd(34)}${String(t.clean).padStart(9)}${String(t.faulted).padStart(9)}${String(t.missing).padStart(9)}${String(t.extra).padStart(7)}`);
  log('');
  // A lake must hold every data record of its topic in the same run: fewer means a sink stalled.
  const recordsOf = (topic: string, run: 'clean' | 'faulted') => topics.find((t) => t.topic === topic)?.[run] ?? -1;
  log(`${'lake'.padEnd(34)}${'clean'.padStart(9)}${'faulted'.padStart(9)}${'differing rows'.padStart(16)}  complete (rows = topic records)`);
  const incomplete: string[] = [];
  for (const l of lakes) {
    const gaps = (['clean', 'faulted'] as const).filter((r) => l[r] !== recordsOf(l.topic, r)).map((r) => `${r} ${l[r]} of ${recordsOf(l.topic, r)}`);
    incomplete.push(...gaps.map((g) => `${l.topic}: ${g}`));
    log(`${l.topic.padEnd(34)}${String(l.clean).padStart(9)}${String(l.faulted).padStart(9)}${String(l.differing).padStart(16)}  ${gaps.length ? `NO: ${gaps.join(', ')}` : 'yes'}`);
  }
  if (incomplete.length) log(`incomplete lakes (a sink stopped consuming; see its log): ${incomplete.join('; ')}`);
  const differences = topics.reduce((s, t) => s + t.missing + t.extra, 0) + lakes.reduce((s, l) => s + (l.differing < 0 ? 1 : l.differing), 0);
  const empty = topics.filter((t) => ['equity.trades', 'option.trades.enriched', 'features'].includes(t.topic) && t.clean === 0);
  log('');
  log(`differences: ${differences}${empty.length ? ` (but the clean run is empty on ${empty.map((t) => t.topic).join(', ')})` : ''}`);
  for (const t of topics) for (const s of t.samples) log(`  ${t.topic}: ${s.slice(0, 400)}`);
  writeFileSync(join(root, 'report.txt'), `${lines.join('\n')}\n`);
  if (differences > 0 || empty.length > 0 || incomplete.length > 0) {
    log(`FAILED: seed ${o.seed}; logs, topics (prefixes ${clean.prefix}, ${faulted.prefix}) and lakes kept in ${root}`);
    process.exitCode = 1;
  }
}

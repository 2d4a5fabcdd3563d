import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRegistry, TopicSerde } from '../../src/avro/serde';
import { Config, loadConfig, projectRoot } from '../../src/config';
import { EquityTrade, TradeCounts } from '../../src/domain/records';
import { DEFAULT_UNDERLYINGS, generateDay } from '../../src/generator';
import { Admin, createAdmin } from '../../src/kafka/client';
import { readLocalDay } from '../../src/producers/flatfile/local-day';
import { query, sqlString } from '../unit/parquet/duckdb-read';
import { uniqueName } from './helpers';
import { readTopic, until, waitExit } from './kafka-io';
import { OwnStack, startOwnStack } from './own-stack';

/**
 * The secure path (issue 17) on a stack of the test's own: one broker with only a SASL_SSL listener
 * (SCRAM-SHA-512, a CA the stack generated) and a registry that requires basic auth. The flatfile
 * producer, a processor (trade-counts) and a Parquet sink run end to end; wrong credentials stop a
 * command at once with a clear message; the password is in no output line of any of them.
 */

const DATE = '2025-03-07';
const CLI = path.join(projectRoot(), 'bin', 'optflow.js');
const MINUTE_NS = 60_000_000_000n;

interface Run {
  child: ChildProcess;
  output: () => string;
  exitedAt: () => number;
}

/** A CLI child with its output captured (info level: more lines that could leak a secret). */
function run(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NODE_ENV: 'test', OPTFLOW_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let exitedAt = 0;
  child.stdout!.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (text += b.toString()));
  child.once('exit', () => (exitedAt = Date.now()));
  return { child, output: () => text, exitedAt: () => exitedAt };
}

describe('SASL_SSL end to end: SCRAM-SHA-512 over TLS, registry basic auth (own stack)', () => {
  let own: OwnStack;
  let dir: string;
  let config: Config;
  let admin: Admin;
  const outputs: Run[] = [];
  // This process's own clients (the reader below) take the SASL credentials from the environment, as the product's do.
  const saved = { KAFKA_SASL_USERNAME: process.env.KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: process.env.KAFKA_SASL_PASSWORD };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-secure-'));
    [own] = await Promise.all([startOwnStack({ brokers: 1, secure: true }), generateDay({ date: DATE, outDir: dir, seed: 3, scale: 'small', underlyings: DEFAULT_UNDERLYINGS.filter((u) => u.symbol === 'SPY') })]);
    config = loadConfig({ env: { NODE_ENV: 'test', ...own.env } });
    process.env.KAFKA_SASL_USERNAME = own.env.KAFKA_SASL_USERNAME;
    process.env.KAFKA_SASL_PASSWORD = own.env.KAFKA_SASL_PASSWORD;
    admin = createAdmin(config, 'secure-test');
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    for (const r of outputs) if (r.child.exitCode === null) r.child.kill('SIGTERM');
    await Promise.all(outputs.map((r) => waitExit(r.child)));
    await own?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the stack listens with SASL_SSL only, and its credentials are files only their owner reads', () => {
    const m = own.stack.secureMaterial();
    const props = fs.readFileSync(path.join(own.home, 'stack', 'kafka', 'server.properties'), 'utf8');
    expect(props).toMatch(/^listeners=SASL_SSL:\/\/127\.0\.0\.1:\d+,CONTROLLER/m);
    expect(props).not.toMatch(/PLAINTEXT:\/\/127/);
    for (const f of [m.credentialsFile, m.keystoreFile]) expect(fs.statSync(f).mode & 0o077).toBe(0);
    expect(own.env.KAFKA_SASL_PASSWORD).toBe(m.client.password);
  });

  it('producer, trade-counts and the sink run end to end; the counts and the lake match the day; no line holds the password', async () => {
    const prefix = `${uniqueName('sec')}.`;
    const lake = path.join(dir, 'lake');
    const env = { ...own.env, OPTFLOW__TOPICS__PREFIX: prefix, OPTFLOW__TOPICS__PARTITIONS: '3', OPTFLOW__UNIVERSE__UNDERLYINGS: '["SPY"]', OPTFLOW__METRICS__BASE_PORT: '0', OPTFLOW__SINK__FLUSH_IDLE_SECONDS: '2' };
    const apply = run(['topology', 'apply'], env);
    outputs.push(apply);
    expect(await waitExit(apply.child)).toBe(0);
    const processor = run(['process', 'trade-counts'], env);
    const sink = run(['sink', 'parquet', '--topic', 'equity.trades', '--out', lake], env);
    const producer = run(['produce', 'flatfile', '--from', DATE, '--local', dir], env);
    outputs.push(processor, sink, producer);
    expect(await waitExit(producer.child)).toBe(0);

    const trades = readLocalDay(dir, DATE, ['SPY']).get('equity.trades')! as EquityTrade[];
    expect(trades.length).toBeGreaterThan(1000); // a real day, or every count below would hold vacuously
    const minutes = new Set(trades.map((t) => t.sip_timestamp / MINUTE_NS));
    const serde = await TopicSerde.forTopic<TradeCounts>(createRegistry(config.schema_registry, { ...process.env, ...own.env }), `${prefix}equity.trade_counts.1m`, 'TradeCounts');
    expect(await admin.listTopics()).toContain(serde.topic);
    const counts = await readTopic(config, serde.topic, (b) => serde.decode(b), minutes.size, 120_000);
    expect(counts).toHaveLength(minutes.size);
    expect(counts.reduce((n, c) => n + Number(c.value.trades), 0)).toBe(trades.length);

    // Drained when the lake holds the day's trades (files appear whole: a count is never of a partial file).
    const lakeGlob = sqlString(`${lake}/equity.trades/**/*.parquet`);
    const lakeCount = async () => Number((await query(`SELECT count(*) FROM read_parquet(${lakeGlob}, hive_partitioning = true)`)).rows[0][0]);
    await until('the sink wrote the day', async () => (await lakeCount().catch(() => 0)) >= trades.length, 300_000);
    for (const r of [processor, sink]) r.child.kill('SIGTERM');
    await Promise.all([processor, sink].map((r) => waitExit(r.child)));
    const rows = await query(`SELECT id, sip_timestamp FROM read_parquet(${lakeGlob}, hive_partitioning = true)`);
    expect(rows.rows).toHaveLength(trades.length);
    expect(new Set(rows.rows.map((r) => r[0]))).toEqual(new Set(trades.map((t) => t.id)));

    // The Kafka CLI tools get the same settings through a generated client properties file.
    const tool = run(['kafka', 'topics', '--list'], env);
    expect(await waitExit(tool.child)).toBe(0);
    expect(tool.output()).toContain(`${prefix}equity.trades`);
    expect(fs.readdirSync(own.home).filter((f) => f.endsWith('.properties') && f.startsWith('client-'))).toEqual([]);
    outputs.push(tool);

    const everything = outputs.map((r) => r.output()).join('\n');
    expect(everything.length).toBeGreaterThan(0);
    expect(everything).not.toContain(own.env.KAFKA_SASL_PASSWORD);
  });

  it('wrong Kafka credentials: the command stops within seconds with a clear message, no retry storm, no password', async () => {
    const wrong = 'Wr0ng-pa55word-xyz';
    for (const args of [['process', 'trade-counts'], ['sink', 'parquet', '--topic', 'equity.trades', '--out', path.join(dir, 'x')], ['topology', 'apply']]) {
      const r = run(args, { ...own.env, KAFKA_SASL_PASSWORD: wrong, OPTFLOW__METRICS__BASE_PORT: '0' });
      const code = await waitExit(r.child);
      const text = r.output();
      expect([args[0], code]).toEqual([args[0], 1]);
      // Fail fast: the process is gone within seconds of the broker's first refusal (the machine's load
      // shows in the process start, not here).
      const refused = text.split('\n').find((l) => l.startsWith('{') && /authentication failed/i.test(l));
      expect(refused).toBeDefined();
      expect(r.exitedAt() - Date.parse((JSON.parse(refused!) as { ts: string }).ts)).toBeLessThan(5_000);
      expect(text).toContain('Kafka rejected the credentials: check KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD');
      expect(text.split('\n').filter((l) => /authentication failed/i.test(l)).length).toBeLessThanOrEqual(6);
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(own.env.KAFKA_SASL_PASSWORD);
    }
  });

  it('wrong registry credentials are refused with a clear message', async () => {
    const r = run(['topology', 'apply'], { ...own.env, SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: 'optflow:not-it', OPTFLOW__TOPICS__PREFIX: `${uniqueName('sec')}.` });
    expect(await waitExit(r.child)).toBe(1);
    expect(r.output()).toContain('the schema registry refused the request: check SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO');
    expect(r.output()).not.toContain('not-it');
  });
});

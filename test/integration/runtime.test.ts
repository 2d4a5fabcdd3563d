import { ChildProcess } from 'node:child_process';
import { TopicSerde } from '../../src/avro/serde';
import { DeadLetter, EquityTrade } from '../../src/domain/records';
import { TradeCounts } from '../../src/domain/records';
import { applyTopology } from '../../topology/apply';
import { buildTopology } from '../../topology/topology';
import { connectTestKafka, TestKafka, uniqueName } from './helpers';
import { ChildProcesses, produceValues, readTopic, sendMarkers, sendRaw, spawnCli, until, waitExit, committedPartitions } from './kafka-io';
import { Prng } from '../../src/generator/prng';

/**
 * The processor runtime on the real broker, with its reference processor trade-counts
 * (count, shares, notional per ticker and 1-minute window). Each test runs in its own topic prefix.
 */

const PARTITIONS = 3;
const MINUTE = 60_000_000_000n;
const T0 = 1741357800000000000n; // 2025-03-07 14:30:00 UTC
const TICKERS = ['SPY', 'QQQ', 'IWM', 'AAPL', 'MSFT', 'NVDA', 'TSLA', 'AMZN'];

/** Uniform [0, 1) stream from the project's seeded PRNG. */
function rng(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

function makeTrades(n: number, minutes: number, seed: number): EquityTrade[] {
  const rand = rng(seed);
  const span = BigInt(minutes) * MINUTE;
  const trades: EquityTrade[] = [];
  for (let i = 0; i < n; i += 1) {
    const ticker = TICKERS[Math.floor(rand() * TICKERS.length)];
    trades.push({
      ticker,
      sip_timestamp: T0 + (BigInt(Math.floor(rand() * 1e9)) * span) / 1_000_000_000n,
      participant_timestamp: null,
      trf_timestamp: null,
      sequence_number: BigInt(i),
      id: String(i),
      exchange: 4,
      tape: 3,
      trf_id: null,
      price: Math.round((100 + rand() * 400) * 100) / 100,
      size: 1 + Math.floor(rand() * 300),
      conditions: [],
      correction: null,
      source: 'flatfile',
      origin: 'test',
      origin_offset: BigInt(i),
    });
  }
  return trades.sort((a, b) => (a.sip_timestamp < b.sip_timestamp ? -1 : a.sip_timestamp > b.sip_timestamp ? 1 : 0));
}

/** Arrival order shuffled within `boundNs` of event time (less than max_out_of_orderness). */
function shuffleWithin(trades: EquityTrade[], boundNs: number, seed: number): EquityTrade[] {
  const rand = rng(seed);
  return trades
    .map((t) => ({ t, at: Number(t.sip_timestamp - T0) + rand() * boundNs }))
    .sort((a, b) => a.at - b.at)
    .map((x) => x.t);
}

/** Independent reference: the windows computed directly from the records. */
function expectedWindows(trades: EquityTrade[]): Map<string, { trades: number; shares: number; notional: number }> {
  const out = new Map<string, { trades: number; shares: number; notionalMicro: bigint }>();
  for (const t of trades) {
    const start = t.sip_timestamp - (t.sip_timestamp % MINUTE);
    const k = `${t.ticker}|${start}`;
    const w = out.get(k) ?? { trades: 0, shares: 0, notionalMicro: 0n };
    w.trades += 1;
    w.shares += t.size;
    w.notionalMicro += BigInt(Math.round(t.price * 1e6)) * BigInt(t.size);
    out.set(k, w);
  }
  return new Map([...out].map(([k, w]) => [k, { trades: w.trades, shares: w.shares, notional: Number(w.notionalMicro) / 1e6 }]));
}

function asMap(records: { value: TradeCounts }[]): Map<string, { trades: number; shares: number; notional: number }> {
  const m = new Map<string, { trades: number; shares: number; notional: number }>();
  for (const { value: v } of records) {
    const k = `${v.underlying}|${v.window_start_ns}`;
    if (m.has(k)) throw new Error(`window ${k} emitted twice`);
    m.set(k, { trades: Number(v.trades), shares: v.shares, notional: v.notional });
  }
  return m;
}

interface Env {
  prefix: string;
  t: TestKafka;
  trades: TopicSerde<EquityTrade>;
  counts: TopicSerde<TradeCounts>;
  late: TopicSerde<DeadLetter>;
  dlq: TopicSerde<DeadLetter>;
  members: ChildProcesses;
}

async function setup(): Promise<Env> {
  const prefix = `${uniqueName('rt')}.`;
  const t = await connectTestKafka({ topics: { prefix, partitions: PARTITIONS } });
  const topology = buildTopology(t.config);
  const names = ['equity.trades', 'equity.trade_counts.1m', 'trade-counts.late', 'trade-counts.dlq'].map((n) => prefix + n);
  await applyTopology(t.config, t.admin, t.registry, topology, names);
  return {
    prefix,
    t,
    trades: await TopicSerde.forTopic(t.registry, `${prefix}equity.trades`, 'EquityTrade'),
    counts: await TopicSerde.forTopic(t.registry, `${prefix}equity.trade_counts.1m`, 'TradeCounts'),
    late: await TopicSerde.forTopic(t.registry, `${prefix}trade-counts.late`, 'DeadLetter'),
    dlq: await TopicSerde.forTopic(t.registry, `${prefix}trade-counts.dlq`, 'DeadLetter'),
    members: new ChildProcesses({ OPTFLOW__TOPICS__PREFIX: prefix, OPTFLOW__TOPICS__PARTITIONS: String(PARTITIONS) }),
  };
}

function startMember(env: Env): ChildProcess {
  return env.members.spawn(['process', 'trade-counts']);
}

async function stopAll(env: Env): Promise<void> {
  await env.members.stopAll();
  await env.t.close();
}

async function produceAndClose(env: Env, trades: EquityTrade[]): Promise<void> {
  await produceValues(env.t.kafka, env.trades, trades.map((v) => ({ key: v.ticker, value: v })));
  const maxT = trades.reduce((m, x) => (x.sip_timestamp > m ? x.sip_timestamp : m), 0n);
  await sendMarkers(env.t.kafka, env.trades.topic, PARTITIONS, maxT + 10n * MINUTE);
}

async function committedInputOffsets(env: Env): Promise<number> {
  const offsets = await committedPartitions(env.t.admin, `${env.prefix}optflow.trade-counts`, env.trades.topic);
  return offsets.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

describe('processor runtime (trade-counts on the real broker)', () => {
  const trades = makeTrades(6000, 12, 1);
  const expected = expectedWindows(trades);

  it('shuffled input within the out-of-orderness bound gives the same windows as sorted input; late records go to the late topic', async () => {
    const sorted = await setup();
    const shuffled = await setup();
    try {
      // Three trades far behind the watermark when they arrive: later than the allowed lateness.
      const lateOnes = trades.slice(0, 3).map((x, i) => ({ ...x, id: `late-${i}` }));
      await produceValues(sorted.t.kafka, sorted.trades, [...trades, ...lateOnes].map((v) => ({ key: v.ticker, value: v })));
      await sendMarkers(sorted.t.kafka, sorted.trades.topic, PARTITIONS, trades[trades.length - 1].sip_timestamp + 10n * MINUTE);
      await produceAndClose(shuffled, shuffleWithin(trades, 1.5e9, 7));
      startMember(sorted);
      startMember(shuffled);
      const a = await readTopic(sorted.t.kafka, sorted.counts.topic, (b) => sorted.counts.decode(b), expected.size);
      const b = await readTopic(shuffled.t.kafka, shuffled.counts.topic, (b2) => shuffled.counts.decode(b2), expected.size);
      expect(asMap(a)).toEqual(expected);
      expect(asMap(b)).toEqual(expected);
      const late = await readTopic(sorted.t.kafka, sorted.late.topic, (x) => sorted.late.decode(x), 3, 20_000);
      expect(late).toHaveLength(3);
      for (const l of late) {
        expect(l.value.reason).toBe('window_closed');
        const original = await sorted.trades.decode(l.value.raw);
        expect(original.id).toMatch(/^late-/);
      }
    } finally {
      await stopAll(sorted);
      await stopAll(shuffled);
    }
  });

  it('two members split the partitions and together emit each window once', async () => {
    const env = await setup();
    try {
      const a = startMember(env);
      const b = startMember(env);
      await new Promise((r) => setTimeout(r, 6000));
      await produceAndClose(env, trades);
      const out = await readTopic(env.t.kafka, env.counts.topic, (x) => env.counts.decode(x), expected.size);
      expect(asMap(out)).toEqual(expected);
      expect(a.exitCode).toBeNull();
      expect(b.exitCode).toBeNull();
    } finally {
      await stopAll(env);
    }
  });

  it('kill -9 mid-stream and restart gives exactly the output of an uninterrupted run', async () => {
    const env = await setup();
    const big = makeTrades(60_000, 30, 3);
    const bigExpected = expectedWindows(big);
    try {
      await produceAndClose(env, big);
      const first = startMember(env);
      await until('first transaction', async () => (await committedInputOffsets(env)) > 0, 60_000);
      first.kill('SIGKILL');
      await waitExit(first);
      startMember(env);
      const out = await readTopic(env.t.kafka, env.counts.topic, (x) => env.counts.decode(x), bigExpected.size, 90_000);
      expect(asMap(out)).toEqual(bigExpected);
    } finally {
      await stopAll(env);
    }
  });

  it('kill -9 of one member: the other takes over its partitions with no loss or duplicates', async () => {
    const env = await setup();
    const big = makeTrades(40_000, 20, 5);
    const bigExpected = expectedWindows(big);
    try {
      const victim = startMember(env);
      startMember(env);
      await new Promise((r) => setTimeout(r, 6000));
      await produceAndClose(env, big);
      await until('progress', async () => (await committedInputOffsets(env)) > 0, 60_000);
      victim.kill('SIGKILL');
      const out = await readTopic(env.t.kafka, env.counts.topic, (x) => env.counts.decode(x), bigExpected.size, 90_000);
      expect(asMap(out)).toEqual(bigExpected);
    } finally {
      await stopAll(env);
    }
  });

  it('reset to earliest and re-run regenerates identical output; a poison record goes to the DLQ and processing continues', async () => {
    const env = await setup();
    try {
      await produceValues(env.t.kafka, env.trades, trades.slice(0, 3000).map((v) => ({ key: v.ticker, value: v })));
      await sendRaw(env.t.kafka, env.trades.topic, [
        { key: 'SPY', value: Buffer.from('not avro at all') },
        { key: 'SPY', value: Buffer.from([0, 0, 0, 0x7f, 0x7f, 1, 2, 3]) },
      ]);
      await produceAndClose(env, trades.slice(3000));
      const member = startMember(env);
      const first = await readTopic(env.t.kafka, env.counts.topic, (x) => env.counts.decode(x), expected.size);
      expect(asMap(first)).toEqual(expected);
      const dlq = await readTopic(env.t.kafka, env.dlq.topic, (x) => env.dlq.decode(x), 2, 20_000);
      expect(dlq.map((d) => d.value.reason).sort()).toEqual(['bad_magic_byte', 'unknown_schema_id']);
      expect(dlq.find((d) => d.value.reason === 'bad_magic_byte')!.value.raw.toString()).toBe('not avro at all');

      member.kill('SIGTERM');
      expect(await waitExit(member)).toBe(0);
      const reset = spawnCli(['reset', '--group', 'trade-counts', '--to-earliest'], { OPTFLOW__TOPICS__PREFIX: env.prefix });
      expect(await waitExit(reset)).toBe(0);
      startMember(env);
      const both = await readTopic(env.t.kafka, env.counts.topic, (x) => env.counts.decode(x), 2 * expected.size);
      const rerun = both.filter((r) => !first.some((f) => f.partition === r.partition && f.offset === r.offset));
      expect(asMap(rerun)).toEqual(asMap(first));
    } finally {
      await stopAll(env);
    }
  });
});

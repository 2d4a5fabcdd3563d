import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { TopicSerde } from '../../src/avro/serde';
import { SchemaName } from '../../src/avro/types';
import { impliedVol } from '../../src/domain/pricing/iv';
import { FLAGS } from '../../src/domain/pricing/flags';
import { EnrichedOptionTrade, TreasuryYields } from '../../src/domain/records';
import { generateDay } from '../../src/generator';
import { DATASETS } from '../../src/producers/flatfile/datasets';
import { readLocalDay, recordKey } from '../../src/producers/flatfile/local-day';
import { MarketRecord } from '../../src/producers/flatfile/parse/normalise';
import { applyTopology } from '../../topology/apply';
import { buildTopology, MARKET_TOPICS } from '../../topology/topology';
import { connectTestKafka, TestKafka, uniqueName } from './helpers';
import { ChildProcesses, produceValues, readTopic, sendMarkers, until, waitExit, committedPartitions } from './kafka-io';

/**
 * Issue 14 end to end: `optflow rates fetch` against a fake Massive REST server on loopback (real
 * HTTP), then greeks on a generated day in each of two months. Each trade's rate must equal the
 * curve of its New York date at its τ, computed here independently from the served percent yields;
 * the IVs move against the constant-rate run the way r moves them; reset + re-run is byte-identical.
 * Bad responses (401, 429 then success, malformed JSON) fail clearly or retry, writing nothing.
 */

const PARTITIONS = 2;
const KEY = 'test-key-5f2c';
const DAYS = ['2022-03-08', '2023-07-05'];
const MONTHS: Record<string, { from: string; to: string; short: number; long: number; slope: number }> = {
  '2022-03': { from: '2022-03-01', to: '2022-03-31', short: 0.1, long: 1.8, slope: 0.02 },
  '2023-07': { from: '2023-07-01', to: '2023-07-31', short: 5.25, long: 3.9, slope: 0.01 },
};
const HOLIDAYS = new Set(['2023-07-04']);

/** Synthetic but realistic daily curves: business days only, a drift per day, percent. */
function servedYields(): TreasuryYields[] {
  const out: TreasuryYields[] = [];
  for (const m of Object.values(MONTHS)) {
    for (let d = new Date(`${m.from}T12:00:00Z`), i = 0; d.toISOString().slice(0, 10) <= m.to; d.setUTCDate(d.getUTCDate() + 1), i++) {
      const date = d.toISOString().slice(0, 10);
      if (d.getUTCDay() === 0 || d.getUTCDay() === 6 || HOLIDAYS.has(date)) continue;
      const s = m.short + m.slope * i;
      const l = m.long + m.slope * i;
      const round = (x: number) => Math.round(x * 100) / 100;
      out.push({
        date, source: 'massive', yield_1_month: round(s), yield_3_month: round(s + 0.1), yield_6_month: round(s + 0.2), yield_1_year: round((s + l) / 2),
        yield_2_year: round(l - 0.2), yield_3_year: round(l - 0.1), yield_5_year: round(l), yield_7_year: round(l + 0.05), yield_10_year: round(l + 0.1),
        yield_20_year: round(l + 0.4), yield_30_year: round(l + 0.3),
      });
    }
  }
  return out;
}

/** The reference conversion, written out again: bills ln(1+y·t)/t, coupons 2·ln(1+y/2), linear in r·t, flat ends. */
function referenceRate(y: TreasuryYields, tau: number): number {
  const tenors: [number, number | null, boolean][] = [
    [1 / 12, y.yield_1_month, true], [0.25, y.yield_3_month, true], [0.5, y.yield_6_month, true], [1, y.yield_1_year, false],
    [2, y.yield_2_year, false], [3, y.yield_3_year, false], [5, y.yield_5_year, false], [7, y.yield_7_year, false],
    [10, y.yield_10_year, false], [20, y.yield_20_year, false], [30, y.yield_30_year, false],
  ];
  const pts = tenors.filter((p) => p[1] !== null).map(([t, pct, bill]) => ({ t, r: bill ? Math.log(1 + ((pct as number) / 100) * t) / t : 2 * Math.log(1 + (pct as number) / 200) }));
  if (tau <= pts[0].t) return pts[0].r;
  if (tau >= pts[pts.length - 1].t) return pts[pts.length - 1].r;
  const i = pts.findIndex((p) => p.t >= tau);
  const [a, b] = [pts[i - 1], pts[i]];
  return (a.r * a.t + ((tau - a.t) / (b.t - a.t)) * (b.r * b.t - a.r * a.t)) / tau;
}

interface FakeMassive {
  url: string;
  requests: string[];
  /** Next responses to force, consumed in order: a status with a body, or 'malformed-page-2'. */
  script: ({ status: number; body: string; retryAfter?: string } | 'malformed-page-2')[];
  close(): Promise<void>;
}

/** A Massive REST server on 127.0.0.1: apiKey check, date.gte/lte filters, limit + next_url pages. */
async function fakeMassive(data: TreasuryYields[]): Promise<FakeMassive> {
  const state: FakeMassive = { url: '', requests: [], script: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', state.url);
    state.requests.push(url.pathname + url.search.replace(KEY, '<key>'));
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    if (url.pathname !== '/fed/v1/treasury-yields') return send(404, JSON.stringify({ status: 'ERROR', error: 'not found' }));
    if (url.searchParams.get('apiKey') !== KEY) return send(401, JSON.stringify({ status: 'ERROR', request_id: 'r1', error: 'Unknown API Key' }));
    const offset = Number(url.searchParams.get('cursor') ?? '0');
    const forced = state.script[0];
    if (forced === 'malformed-page-2' && offset > 0) {
      state.script.shift();
      return send(200, '{"status":"OK","results":[{"date":"2022-03-');
    }
    if (forced !== undefined && forced !== 'malformed-page-2') {
      state.script.shift();
      return send(forced.status, forced.body, forced.retryAfter ? { 'retry-after': forced.retryAfter } : {});
    }
    const gte = url.searchParams.get('date.gte') ?? '0000';
    const lte = url.searchParams.get('date.lte') ?? '9999';
    const limit = Number(url.searchParams.get('limit') ?? '100');
    const all = data.filter((y) => y.date >= gte && y.date <= lte);
    const page = all.slice(offset, offset + limit).map(({ source: _source, ...y }) => Object.fromEntries(Object.entries(y).filter(([, v]) => v !== null)));
    const next = offset + limit < all.length ? `${state.url}/fed/v1/treasury-yields?cursor=${offset + limit}&date.gte=${gte}&date.lte=${lte}&limit=${limit}` : undefined;
    send(200, JSON.stringify({ status: 'OK', request_id: `r${state.requests.length}`, count: page.length, results: page, ...(next ? { next_url: next } : {}) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}

interface Env {
  prefix: string;
  t: TestKafka;
  childEnv: Record<string, string>;
  serde<T>(topic: string, schema: SchemaName): Promise<TopicSerde<T>>;
}

async function setup(massiveUrl: string): Promise<Env> {
  const prefix = `${uniqueName('rt')}.`;
  const t = await connectTestKafka({ topics: { prefix, partitions: PARTITIONS } });
  const names = [...MARKET_TOPICS, 'option.trades.enriched', 'greeks.late', 'greeks.dlq', 'rates.treasury'].map((n) => prefix + n);
  await applyTopology(t.config, t.admin, t.registry, buildTopology(t.config), names);
  const childEnv = {
    OPTFLOW__TOPICS__PREFIX: prefix, OPTFLOW__TOPICS__PARTITIONS: String(PARTITIONS), OPTFLOW__UNIVERSE__UNDERLYINGS: '["SPY"]',
    OPTFLOW__RATES__REST_URL: massiveUrl, OPTFLOW__RATES__PAGE_LIMIT: '10', OPTFLOW__RATES__INITIAL_BACKOFF_MS: '50', OPTFLOW__RATES__MAX_BACKOFF_MS: '200',
  };
  return { prefix, t, childEnv, serde: (topic, schema) => TopicSerde.forTopic(t.registry, prefix + topic, schema) };
}

const schemaOf = (topic: string): SchemaName => DATASETS.find((d) => d.topic === topic)!.kind;

/** A generated day per month (SPY only, smaller than the sample day), produced per key in event-time order. */
async function produceDays(env: Env, dir: string): Promise<number> {
  let trades = 0;
  let end = 0n;
  for (const [i, date] of DAYS.entries()) {
    await generateDay({
      date, outDir: dir, seed: 7 + i, underlyings: [{ symbol: 'SPY', spot: 420 + 30 * i, vol: 0.22, strikeStep: 1, activity: 1, tape: 2 }],
      contractsPerUnderlying: 30, optionTradesPerContract: 20, optionQuotesPerContract: 20, stockTradesPerUnderlying: 500, stockQuotesPerUnderlying: 40_000,
      malformed: false, rate: i === 0 ? 0.003 : 0.053,
    });
    for (const [topic, records] of readLocalDay(dir, date, ['SPY'])) {
      if (topic === 'option.trades') trades += records.length;
      for (const r of records) if (r.sip_timestamp > end) end = r.sip_timestamp;
      const serde = await env.serde<MarketRecord>(topic, schemaOf(topic));
      await produceValues(env.t.kafka, serde, records.map((r) => ({ key: recordKey(r), value: r })));
    }
  }
  for (const topic of MARKET_TOPICS) await sendMarkers(env.t.kafka, env.prefix + topic, PARTITIONS, end + 3_600_000_000_000n);
  return trades;
}

/** Runs `optflow rates ...` to completion; exit code, stdout and stderr. */
async function ratesCli(env: Env, args: string[], key = KEY): Promise<{ code: number | null; out: string; err: string }> {
  const bin = path.join(__dirname, '..', '..', 'bin', 'optflow.js');
  const child = spawn(process.execPath, [bin, 'rates', ...args], {
    env: { ...process.env, NODE_ENV: 'test', OPTFLOW_LOG_LEVEL: 'warn', ...env.childEnv, MASSIVE_API_KEY: key },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  return { code: await waitExit(child), out, err };
}

async function topicEnd(env: Env, topic: string): Promise<number> {
  const offsets = await env.t.admin.fetchTopicOffsets(env.prefix + topic);
  return offsets.reduce((n, o) => n + Number(o.high), 0);
}

interface Enriched {
  bytes: Buffer;
  e: EnrichedOptionTrade;
}

/**
 * Runs one greeks member until every trade is enriched once more, then stops it and deletes its
 * group (= reset to earliest: no committed offsets, so the next run starts from the beginning).
 * Returns the records not `seen` before (and adds them to it).
 */
async function greeksRun(env: Env, extraEnv: Record<string, string>, serde: TopicSerde<EnrichedOptionTrade>, seen: Set<string>, trades: number): Promise<Enriched[]> {
  const members = new ChildProcesses({ ...env.childEnv, ...extraEnv });
  members.spawn(['process', 'greeks']);
  const all = await readTopic(env.t.kafka, serde.topic, (b) => b, seen.size + trades, 180_000);
  await members.stopAll();
  for (let attempt = 0; ; attempt++) {
    try {
      await env.t.admin.deleteGroups([`${env.prefix}optflow.greeks`]);
      break;
    } catch (err) {
      if (attempt > 20) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const fresh = all.filter((r) => !seen.has(`${r.partition}/${r.offset}`));
  for (const r of fresh) seen.add(`${r.partition}/${r.offset}`);
  return Promise.all(fresh.map(async (r) => ({ bytes: r.value, e: await serde.decode(r.value) })));
}

const keyOf = (e: EnrichedOptionTrade) => `${e.ticker}|${e.sip_timestamp}|${e.origin}|${e.origin_offset}`;

describe('Treasury curves per date (issue 14, real broker, fake Massive REST on loopback)', () => {
  let dir: string;
  let massive: FakeMassive;
  const served = servedYields();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-rates-'));
    massive = await fakeMassive(served);
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await massive.close();
  });

  it('fetches two months of curves (401, malformed JSON and 429 handled), prices each trade with the curve of its date, reset + re-run identical', async () => {
    const env = await setup(massive.url);
    try {
      const trades = await produceDays(env, dir);
      const enriched = await env.serde<EnrichedOptionTrade>('option.trades.enriched', 'EnrichedOptionTrade');

      // 1. the constant-rate run, before any curve exists
      const seen = new Set<string>();
      const constant = await greeksRun(env, { OPTFLOW__GREEKS__RATE_SOURCE: 'config' }, enriched, seen, trades);
      expect(constant).toHaveLength(trades);

      // 2. bad key: clear error, key not shown, nothing written
      const bad = await ratesCli(env, ['fetch', '--from', '2022-03-01', '--to', '2022-03-31'], 'wrong-key');
      expect(bad.code).toBe(1);
      expect(bad.err).toContain('Massive rejected the API key (HTTP 401: Unknown API Key): check MASSIVE_API_KEY');
      expect(bad.err).not.toContain('wrong-key');
      // malformed JSON on the second page: clear error, nothing written (page 1 was fine)
      massive.script.push('malformed-page-2');
      const malformed = await ratesCli(env, ['fetch', '--from', '2022-03-01', '--to', '2022-03-31']);
      expect(malformed.code).toBe(1);
      expect(malformed.err).toMatch(/malformed JSON from http:\/\/127\.0\.0\.1:\d+\/fed\/v1\/treasury-yields\?cursor=10.* \(page 2\).*nothing was written/);
      expect(malformed.err).not.toContain(KEY);
      expect(await topicEnd(env, 'rates.treasury')).toBe(0);

      // 3. 429 twice, then success: retried, both months loaded (3 pages each at limit 10)
      massive.script.push({ status: 429, body: '{"status":"ERROR","error":"rate limited"}', retryAfter: '0' }, { status: 503, body: 'busy' });
      const requestsBefore = massive.requests.length;
      const march = await ratesCli(env, ['fetch', '--from', '2022-03-01', '--to', '2022-03-31']);
      expect(march.code).toBe(0);
      expect(march.err).toContain('rates_fetch_retry');
      const marchDays = served.filter((y) => y.date.startsWith('2022-03')).length;
      expect(JSON.parse(march.out)).toMatchObject({ from: '2022-03-01', to: '2022-03-31', received: marchDays, written: marchDays, unchanged: 0 });
      expect(massive.requests.length - requestsBefore).toBe(2 + Math.ceil(marchDays / 10));
      const july = await ratesCli(env, ['fetch', '--from', '2023-07-01', '--to', '2023-07-31']);
      expect(july.code).toBe(0);
      expect(JSON.parse(july.out)).toMatchObject({ written: served.length - marchDays });
      const end = await topicEnd(env, 'rates.treasury');
      // idempotent: fetching March again writes nothing
      const again = await ratesCli(env, ['fetch', '--from', '2022-03-01', '--to', '2022-03-31']);
      expect(JSON.parse(again.out)).toMatchObject({ received: marchDays, written: 0, unchanged: marchDays });
      expect(await topicEnd(env, 'rates.treasury')).toBe(end);
      // the key goes with every page, next_url pages included
      for (const r of massive.requests) expect(r).toMatch(/apiKey=(<key>|wrong-key)$/);

      // 4. greeks with the curves (default auto): each trade's rate is its date's curve at its τ
      const curved = await greeksRun(env, {}, enriched, seen, trades);
      expect(curved).toHaveLength(trades);
      const byDate = new Map(served.map((y) => [y.date, y]));
      const constantByKey = new Map(constant.map((r) => [keyOf(r.e), r.e]));
      let compared = 0;
      for (const { e } of curved) {
        const date = DAYS.find((d) => e.origin.includes(d))!;
        expect(e.flags & FLAGS.RATE_FALLBACK).toBe(0);
        const c = constantByKey.get(keyOf(e))!;
        if (c.tau !== null) expect(c.rate).toBe(0.045);
        if (e.tau === null) {
          expect(e.rate).toBeNull();
          continue;
        }
        expect(e.rate).toBeCloseTo(referenceRate(byDate.get(date)!, e.tau), 15);
        if (e.iv === null || c.iv === null || e.underlying_price === null) continue;
        // the IV solved at the curve's rate, and moved from the constant-rate IV the way r moves it:
        // a higher r raises a call's BSM price (lower IV for the same price) and lowers a put's
        expect(e.iv).toBeCloseTo(impliedVol(e.right, e.price, e.underlying_price, e.strike, e.tau, e.rate!, e.dividend_yield).iv!, 12);
        const callLike = e.right === 'C' ? 1 : -1;
        if (Math.abs(e.iv - c.iv) > 1e-9) expect(Math.sign(e.iv - c.iv)).toBe(-Math.sign(e.rate! - 0.045) * callLike);
        compared += 1;
      }
      expect(compared).toBeGreaterThan(trades / 3);
      const rates = (day: string) => curved.filter((r) => r.e.origin.includes(day) && r.e.tau !== null).map((r) => r.e.rate!);
      expect(Math.max(...rates(DAYS[0]))).toBeLessThan(0.01);
      expect(Math.min(...rates(DAYS[1]))).toBeGreaterThan(0.05);

      // 5. reset + re-run: byte-identical
      const rerun = await greeksRun(env, {}, enriched, seen, trades);
      expect(rerun).toHaveLength(trades);
      expect(rerun.map((r) => r.bytes.toString('base64')).sort()).toEqual(curved.map((r) => r.bytes.toString('base64')).sort());
    } finally {
      await env.t.close();
    }
  });

  it('imports the curves from a CSV (Treasury layout); kill -9 mid-stream and restart: every trade once, with the curve of its date', async () => {
    const env = await setup(massive.url);
    let members: ChildProcesses | undefined;
    try {
      const us = (iso: string) => `${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 4)}`;
      const v = (x: number | null) => (x === null ? 'N/A' : String(x));
      const csv = [
        '"Date","1 Mo","2 Mo","3 Mo","6 Mo","1 Yr","2 Yr","3 Yr","5 Yr","7 Yr","10 Yr","20 Yr","30 Yr"',
        ...[...served].reverse().map((y) => [us(y.date), v(y.yield_1_month), '9.99', v(y.yield_3_month), v(y.yield_6_month), v(y.yield_1_year), v(y.yield_2_year),
          v(y.yield_3_year), v(y.yield_5_year), v(y.yield_7_year), v(y.yield_10_year), v(y.yield_20_year), v(y.yield_30_year)].join(',')),
      ].join('\n');
      const file = path.join(dir, 'treasury.csv');
      fs.writeFileSync(file, csv);
      const imported = await ratesCli(env, ['import', file]);
      expect(imported.code).toBe(0);
      expect(JSON.parse(imported.out)).toMatchObject({ received: served.length, written: served.length, ignored_columns: ['2 Mo'], empty_rows: 0 });
      expect(JSON.parse((await ratesCli(env, ['import', file])).out)).toMatchObject({ written: 0, unchanged: served.length });
      const end = await topicEnd(env, 'rates.treasury'); // the records + one transaction marker
      expect(end).toBe(served.length + 1);
      fs.writeFileSync(file, `${csv}\n08/01/2023,x,,,,,,,,,,,`);
      const bad = await ratesCli(env, ['import', file]);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain(`optflow rates import: line ${served.length + 2}: 1 Mo 'x' is not a number; nothing was written`);
      expect(await topicEnd(env, 'rates.treasury')).toBe(end);

      const trades = await produceDays(env, dir);
      const enriched = await env.serde<EnrichedOptionTrade>('option.trades.enriched', 'EnrichedOptionTrade');
      members = new ChildProcesses({ ...env.childEnv, OPTFLOW__GREEKS__RATE_SOURCE: 'topic' });
      const first = members.spawn(['process', 'greeks']);
      await until('first commit', async () => {
        const o = await committedPartitions(env.t.admin, `${env.prefix}optflow.greeks`, `${env.prefix}option.trades`);
        return o.some((p) => Number(p.offset) > 0);
      }, 120_000);
      first.kill('SIGKILL');
      await waitExit(first);
      members.spawn(['process', 'greeks']);
      const out = await readTopic(env.t.kafka, enriched.topic, (b) => enriched.decode(b), trades, 180_000);
      await members.stopAll();
      expect(out).toHaveLength(trades);
      expect(new Set(out.map((r) => keyOf(r.value))).size).toBe(trades);
      const byDate = new Map(served.map((y) => [y.date, y]));
      for (const { value: e } of out) {
        expect(e.flags & FLAGS.RATE_FALLBACK).toBe(0);
        if (e.tau !== null) expect(e.rate).toBeCloseTo(referenceRate(byDate.get(DAYS.find((d) => e.origin.includes(d))!)!, e.tau), 15);
      }
    } finally {
      await members?.stopAll();
      await env.t.close();
    }
  });

  it('keeps running tasks current: curves loaded while greeks runs price the trades that come after', async () => {
    const env = await setup(massive.url);
    let members: ChildProcesses | undefined;
    try {
      // the data arrives topic by topic while the member runs: no input may count as idle meanwhile
      members = new ChildProcesses({ ...env.childEnv, OPTFLOW__GREEKS__RATE_SOURCE: 'topic', OPTFLOW__EVENT_TIME__IDLE_TIMEOUT_MS: '600000' });
      members.spawn(['process', 'greeks']);
      // the member starts with an empty table; its task exists once a first (early) quote is processed
      await generateDay({ date: DAYS[0], outDir: dir, seed: 1, underlyings: [{ symbol: 'SPY', spot: 420, vol: 0.22, strikeStep: 1, activity: 1, tape: 2 }], malformed: false, stockQuotesPerUnderlying: 10 });
      const early = readLocalDay(dir, DAYS[0], ['SPY']).get('equity.quotes')![0];
      await produceValues(env.t.kafka, await env.serde<MarketRecord>('equity.quotes', 'EquityQuote'), [{ key: 'SPY', value: { ...early, sip_timestamp: early.sip_timestamp - 3_600_000_000_000n } }]);
      // (its restore point stays at offset 0: the quote is still inside the state horizon)
      await until('the task to commit its first quote', async () => {
        const o = await committedPartitions(env.t.admin, `${env.prefix}optflow.greeks`, `${env.prefix}equity.quotes`);
        return o.some((p) => Number(p.offset) >= 0);
      }, 120_000);
      const march = await ratesCli(env, ['fetch', '--from', '2022-03-01', '--to', '2023-07-31']);
      expect(JSON.parse(march.out)).toMatchObject({ written: served.length });
      await new Promise((r) => setTimeout(r, 3000)); // the member's table consumer polls every 200 ms
      const trades = await produceDays(env, dir);
      const enriched = await env.serde<EnrichedOptionTrade>('option.trades.enriched', 'EnrichedOptionTrade');
      const out = await readTopic(env.t.kafka, enriched.topic, (b) => enriched.decode(b), trades, 180_000);
      await members.stopAll();
      expect(out).toHaveLength(trades);
      const byDate = new Map(served.map((y) => [y.date, y]));
      for (const { value: e } of out) {
        expect(e.flags & FLAGS.RATE_FALLBACK).toBe(0);
        if (e.tau !== null) expect(e.rate).toBeCloseTo(referenceRate(byDate.get(DAYS.find((d) => e.origin.includes(d))!)!, e.tau), 15);
      }
    } finally {
      await members?.stopAll();
      await env.t.close();
    }
  });
});

import { ChildProcess } from 'node:child_process';
import { TopicSerde } from '../../src/avro/serde';
import { createGreeksEnricher, UnderlyingSnapshot } from '../../src/domain/greeks/enrich';
import { bsmPrice } from '../../src/domain/pricing/bsm';
import { FLAGS } from '../../src/domain/pricing/flags';
import { EnrichedOptionTrade, EquityQuote, EquityTrade, OptionQuote, OptionTrade } from '../../src/domain/records';
import { aggressorConfigFrom, ASOF_LOOKBACK_NS, greeksConfigFrom } from '../../src/processors/greeks';
import { applyTopology } from '../../topology/apply';
import { buildTopology } from '../../topology/topology';
import { connectTestKafka, TestKafka, uniqueName } from './helpers';
import { ChildProcesses, produceValues, readTopic, sendMarkers, until, waitExit, committedPartitions } from './kafka-io';
import { Prng } from '../../src/generator/prng';

/**
 * The greeks processor on the real broker. Reference: for every trade, the latest underlying quote
 * with time ≤ t found by brute force, then the pricing module (itself tested against textbook values
 * and the black-scholes package). The processor must produce exactly that, whatever the arrival order.
 */

const PARTITIONS = 2;
const SEC = 1_000_000_000n;
const T0 = 1741357800n * SEC; // 2025-03-07 14:30:00 UTC = 09:30 ET
const UNDERLYINGS = ['SPY', 'QQQ', 'IWM'];
const SPOT: Record<string, number> = { SPY: 575, QQQ: 495, IWM: 205 };

/** Uniform [0, 1) stream from the project's seeded PRNG. */
function rng(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

const prov = (i: number) => ({ source: 'flatfile' as const, origin: 'test', origin_offset: BigInt(i) });

interface Day {
  quotes: EquityQuote[];
  optionQuotes: OptionQuote[];
  trades: OptionTrade[];
}

/** Quotes every 200 ms except a 4 s gap per underlying (→ stale), option trades priced by BSM. */
function makeDay(seconds: number, tradesPerUnderlying: number, seed: number): Day {
  const rand = rng(seed);
  const quotes: EquityQuote[] = [];
  const optionQuotes: OptionQuote[] = [];
  const trades: OptionTrade[] = [];
  let i = 0;
  for (const u of UNDERLYINGS) {
    let s = SPOT[u];
    const gapStart = T0 + BigInt(Math.floor(seconds / 2)) * SEC;
    for (let t = T0; t < T0 + BigInt(seconds) * SEC; t += 200_000_000n) {
      s *= 1 + (rand() - 0.5) * 0.0004;
      if (t >= gapStart && t < gapStart + 4n * SEC) continue;
      const bid = Math.round((s - 0.01) * 100) / 100;
      quotes.push({
        ticker: u, sip_timestamp: t + BigInt(Math.floor(rand() * 1000)), participant_timestamp: null, trf_timestamp: null, sequence_number: BigInt(i),
        bid_price: bid, bid_size: 100n, bid_exchange: 11, ask_price: rand() < 0.02 ? bid : Math.round((s + 0.01) * 100) / 100, ask_size: 100n, ask_exchange: 12,
        conditions: [], indicators: [], tape: 1, ...prov(i++),
      });
    }
    for (let k = 0; k < tradesPerUnderlying; k += 1) {
      const right = rand() < 0.5 ? ('C' as const) : ('P' as const);
      const strike = Math.round(SPOT[u] * (0.9 + rand() * 0.2));
      const expiry = rand() < 0.3 ? '2025-03-07' : '2025-03-21';
      const ticker = `O:${u}${expiry.slice(2).replace(/-/g, '')}${right}${String(strike * 1000).padStart(8, '0')}`;
      const t = T0 + BigInt(Math.floor(rand() * seconds * 1e9));
      const tau = (Number(BigInt(Date.parse(`${expiry}T21:00:00Z`)) * 1_000_000n - t) / 1e9) / 31_536_000;
      const price = Math.max(0.01, Math.round(bsmPrice(right, SPOT[u], strike, tau, 0.045, 0, 0.15 + rand() * 0.2) * 100) / 100);
      const opra = { underlying: u, root: u, expiration_date: expiry, right, strike };
      trades.push({ ticker, ...opra, sip_timestamp: t, participant_timestamp: null, sequence_number: null, price, size: BigInt(1 + Math.floor(rand() * 20)), exchange: 300, conditions: [209], correction: null, ...prov(i++) });
      optionQuotes.push({ ticker, ...opra, sip_timestamp: t - 300_000_000n, sequence_number: null, bid_price: price - 0.05, bid_size: 5n, bid_exchange: 300, ask_price: price, ask_size: 5n, ask_exchange: 301, ...prov(i++) });
    }
  }
  const byTime = <T extends { sip_timestamp: bigint }>(a: T, b: T) => (a.sip_timestamp < b.sip_timestamp ? -1 : a.sip_timestamp > b.sip_timestamp ? 1 : 0);
  return { quotes: quotes.sort(byTime), optionQuotes: optionQuotes.sort(byTime), trades: trades.sort(byTime) };
}

function reference(day: Day, env: Env): Map<string, EnrichedOptionTrade> {
  const enrich = createGreeksEnricher(greeksConfigFrom(env.t.config));
  const aggressor = aggressorConfigFrom(env.t.config);
  const out = new Map<string, EnrichedOptionTrade>();
  for (const trade of [...day.trades].sort((a, b) => (a.sip_timestamp < b.sip_timestamp ? -1 : 1))) {
    const t = trade.sip_timestamp;
    const q = day.quotes.filter((x) => x.ticker === trade.underlying && x.sip_timestamp <= t && x.sip_timestamp >= t - ASOF_LOOKBACK_NS).pop();
    const snapshot: UnderlyingSnapshot | null = q ? { kind: 'quote', bid: q.bid_price, ask: q.ask_price, timestamp: q.sip_timestamp } : null;
    const cq = day.optionQuotes.filter((x) => x.ticker === trade.ticker && x.sip_timestamp <= t && x.sip_timestamp >= t - ASOF_LOOKBACK_NS).pop();
    const contract = { quote: cq ? { bid_price: cq.bid_price, ask_price: cq.ask_price, sip_timestamp: cq.sip_timestamp } : null, previousTradePrice: null, config: aggressor };
    // as decoded from the topic: the generation is the schema default 0 (no reprocess)
    out.set(keyOf(trade), { ...enrich(trade, snapshot, contract), generation: 0 });
  }
  return out;
}

const keyOf = (t: OptionTrade) => `${t.ticker}|${t.sip_timestamp}|${t.origin_offset}`;

function asMap(records: { value: EnrichedOptionTrade }[]): Map<string, EnrichedOptionTrade> {
  const m = new Map<string, EnrichedOptionTrade>();
  for (const { value } of records) {
    const k = keyOf(value);
    if (m.has(k)) throw new Error(`trade ${k} enriched twice`);
    m.set(k, value);
  }
  return m;
}

interface Env {
  prefix: string;
  t: TestKafka;
  serdes: {
    trades: TopicSerde<OptionTrade>;
    quotes: TopicSerde<EquityQuote>;
    optionQuotes: TopicSerde<OptionQuote>;
    stockTrades: TopicSerde<EquityTrade>;
    enriched: TopicSerde<EnrichedOptionTrade>;
  };
  members: ChildProcesses;
}

async function setup(): Promise<Env> {
  const prefix = `${uniqueName('gk')}.`;
  const t = await connectTestKafka({ topics: { prefix, partitions: PARTITIONS } });
  const names = ['option.trades', 'equity.quotes', 'equity.trades', 'option.quotes', 'option.trades.enriched', 'greeks.late', 'greeks.dlq'];
  await applyTopology(t.config, t.admin, t.registry, buildTopology(t.config), names.map((n) => prefix + n));
  const serde = <T>(n: string, s: Parameters<typeof TopicSerde.forTopic>[2]) => TopicSerde.forTopic<T>(t.registry, prefix + n, s);
  return {
    prefix,
    t,
    serdes: {
      trades: await serde('option.trades', 'OptionTrade'),
      quotes: await serde('equity.quotes', 'EquityQuote'),
      optionQuotes: await serde('option.quotes', 'OptionQuote'),
      stockTrades: await serde('equity.trades', 'EquityTrade'),
      enriched: await serde('option.trades.enriched', 'EnrichedOptionTrade'),
    },
    members: new ChildProcesses({ OPTFLOW__TOPICS__PREFIX: prefix, OPTFLOW__TOPICS__PARTITIONS: String(PARTITIONS) }),
  };
}

async function produceDay(env: Env, day: Day, quotesFirst: boolean): Promise<void> {
  const { serdes } = env;
  const trades = () => produceValues(env.t.kafka, serdes.trades, day.trades.map((v) => ({ key: v.underlying, value: v })));
  const quotes = async () => {
    await produceValues(env.t.kafka, serdes.quotes, day.quotes.map((v) => ({ key: v.ticker, value: v })));
    await produceValues(env.t.kafka, serdes.optionQuotes, day.optionQuotes.map((v) => ({ key: v.underlying, value: v })));
  };
  if (quotesFirst) await quotes().then(trades);
  else await trades().then(quotes);
  const end = T0 + 3600n * SEC;
  for (const s of Object.values(serdes)) if (s !== serdes.enriched) await sendMarkers(env.t.kafka, s.topic, PARTITIONS, end);
}

function startMember(env: Env): ChildProcess {
  return env.members.spawn(['process', 'greeks']);
}

async function stopAll(env: Env): Promise<void> {
  await env.members.stopAll();
  await env.t.close();
}

describe('greeks processor (real broker)', () => {
  it('joins as-of in event time: quotes-first and trades-first arrival give identical output, equal to the reference; staleness applies', async () => {
    const day = makeDay(120, 300, 11);
    const a = await setup();
    const b = await setup();
    try {
      await produceDay(a, day, true);
      await produceDay(b, day, false);
      startMember(a);
      startMember(b);
      const outA = asMap(await readTopic(a.t.kafka, a.serdes.enriched.topic, (x) => a.serdes.enriched.decode(x), day.trades.length));
      const outB = asMap(await readTopic(b.t.kafka, b.serdes.enriched.topic, (x) => b.serdes.enriched.decode(x), day.trades.length));
      const expected = reference(day, a);
      expect(outA.size).toBe(day.trades.length);
      expect(outA).toEqual(expected);
      expect(outB).toEqual(expected);
      const values = [...outA.values()];
      const stale = values.filter((v) => v.flags & FLAGS.NBBO_STALE);
      expect(stale.length).toBeGreaterThan(0);
      for (const v of stale) expect(v.underlying_price).toBeNull();
      expect(values.filter((v) => v.iv !== null).length).toBeGreaterThan(values.length * 0.7);
      expect(values.filter((v) => v.aggressor_side === 'BUY').length).toBeGreaterThan(values.length * 0.5);
    } finally {
      await stopAll(a);
      await stopAll(b);
    }
  });

  it('kill -9 mid-stream and restart gives exactly the reference output, each trade once', async () => {
    const day = makeDay(600, 4000, 12);
    const env = await setup();
    try {
      await produceDay(env, day, true);
      const first = startMember(env);
      await until(
        'first commit',
        async () => {
          const o = await committedPartitions(env.t.admin, `${env.prefix}optflow.greeks`, env.serdes.trades.topic);
          return o.some((p) => Number(p.offset) > 0);
        },
        60_000,
      );
      first.kill('SIGKILL');
      await waitExit(first);
      startMember(env);
      const out = asMap(await readTopic(env.t.kafka, env.serdes.enriched.topic, (x) => env.serdes.enriched.decode(x), day.trades.length, 120_000));
      expect(out).toEqual(reference(day, env));
    } finally {
      await stopAll(env);
    }
  });
});

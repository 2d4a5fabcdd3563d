/**
 * `npm run bench:clients`: the Kafka client alone, on the same broker and the same records: the
 * product's client (`@confluentinc/kafka-javascript`, librdkafka inside) against a pure-JS one
 * (`@platformatic/kafka`), beside Kafka's own `kafka-consumer-perf-test`. Issue 11 asked for a
 * better-kept client that keeps exactly-once with offset metadata to be measured; the processors
 * through the broker are bound by consuming (bench:processors), so consuming is what this measures
 * first. Both write in transactions of 20,000 records (acks=all, idempotent, lz4), as the product does;
 * both read read_committed from the earliest offset, alternating, three rounds each.
 */
import { Consumer, Producer } from '@platformatic/kafka';
import { loadConfig, type Config } from '../src/config';
import { readTopicToEnd } from '../src/kafka/consumer';
import { RecordProducer, type OutgoingMessage } from '../src/kafka/producer';
import { LocalStack } from '../src/stack/stack';
import { createBenchTopics, dropTopics } from './topics';

const RECORDS = Number(process.env.BENCH_CLIENT_RECORDS ?? 1_000_000);
const VALUE_BYTES = 148; // an OptionTrade's mean Avro size (bench:flatfile)
const PER_TRANSACTION = 20_000;
const ROUNDS = 3;
const KEYS = ['SPY', 'QQQ', 'IWM', 'AAPL', 'TSLA', 'NVDA'];

/** 1,024 distinct values of decimal digits from a fixed seed: compressible about as much as Avro records are. */
function values(): Buffer[] {
  let seed = 12_345;
  return Array.from({ length: 1024 }, () => {
    const value = Buffer.alloc(VALUE_BYTES);
    for (let i = 0; i < VALUE_BYTES; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      value[i] = 48 + (seed % 10);
    }
    return value;
  });
}

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

async function produceConfluent(config: Config, topic: string, pool: Buffer[]): Promise<number> {
  const producer = await RecordProducer.connect(config, { clientSuffix: 'bench-clients', transactionalId: `${topic}.confluent` });
  const start = process.hrtime.bigint();
  try {
    for (let from = 0; from < RECORDS; from += PER_TRANSACTION) {
      const messages: OutgoingMessage[] = [];
      for (let i = from; i < Math.min(RECORDS, from + PER_TRANSACTION); i++) messages.push({ topic, key: KEYS[i % KEYS.length], value: pool[i % pool.length] });
      await producer.inTransaction(messages);
    }
    return RECORDS / seconds(start);
  } finally {
    await producer.disconnect();
  }
}

async function producePlatformatic(config: Config, topic: string, pool: Buffer[]): Promise<number> {
  const keys = KEYS.map((k) => Buffer.from(k));
  const producer = new Producer({
    clientId: 'optflow-bench-clients', bootstrapBrokers: config.kafka.brokers, idempotent: true, acks: -1, compression: 'lz4', transactionalId: `${topic}.platformatic`,
  });
  const start = process.hrtime.bigint();
  try {
    for (let from = 0; from < RECORDS; from += PER_TRANSACTION) {
      const messages = [];
      for (let i = from; i < Math.min(RECORDS, from + PER_TRANSACTION); i++) messages.push({ topic, key: keys[i % keys.length], value: pool[i % pool.length] });
      const transaction = await producer.beginTransaction();
      await transaction.send({ messages });
      await transaction.commit();
    }
    return RECORDS / seconds(start);
  } finally {
    await producer.close();
  }
}

/** The product's read path: LowLevelConsumer batches of records (what every group member consumes through). */
async function consumeConfluent(config: Config, topic: string): Promise<number> {
  let count = 0;
  let bytes = 0;
  const start = process.hrtime.bigint();
  await readTopicToEnd(config, 'bench-clients', topic, (r) => {
    count++;
    bytes += r.value!.length;
  });
  if (count !== RECORDS || bytes !== RECORDS * VALUE_BYTES) throw new Error(`confluent read ${count} records, ${bytes} bytes`);
  return count / seconds(start);
}

/**
 * Reads a topic from its start with @platformatic/kafka (a fresh group, nothing committed), handing
 * each message over until `done` says so.
 */
async function readWithPlatformatic(config: Config, topic: string, onMessage: (m: { key: Buffer; value: Buffer }) => boolean, options: { maxBytes?: number } = {}): Promise<void> {
  const consumer = new Consumer({ clientId: 'optflow-bench-clients', groupId: `optflow-bench-clients-${process.pid}-${Date.now()}`, bootstrapBrokers: config.kafka.brokers });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 100, ...options });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`@platformatic/kafka did not finish reading ${topic} within 120 s`)), 120_000);
      stream.on('error', reject);
      stream.on('data', (m: { key: Buffer; value: Buffer }) => {
        if (onMessage(m)) resolve(clearTimeout(timer));
      });
    });
    await stream.close();
  } finally {
    await consumer.close(true);
  }
}

async function consumePlatformatic(config: Config, topic: string): Promise<number> {
  let count = 0;
  let bytes = 0;
  const start = process.hrtime.bigint();
  await readWithPlatformatic(config, topic, (m) => {
    count++;
    bytes += m.value.length;
    return count === RECORDS;
  });
  const rate = count / seconds(start);
  if (bytes !== RECORDS * VALUE_BYTES) throw new Error(`platformatic read ${count} records, ${bytes} bytes`);
  return rate;
}

const ABORTED = 50_000;
const FETCH_MAX_BYTES = 1 << 20;

/**
 * read_committed must never hand over a record of an aborted transaction. One partition holds 1,000
 * committed records ('before'), 50,000 in a transaction acknowledged by the broker and then aborted,
 * and 1,000 committed ('after'). Each client reads it to the end; @platformatic/kafka with fetches of
 * at most 1 MiB, so that the abort marker is not in the response that carries the first aborted records.
 */
async function abortedDelivered(config: Config, topic: string): Promise<{ confluent: number; platformatic: number }> {
  const value = Buffer.alloc(VALUE_BYTES, 49);
  const batch = (n: number, key: string) => Array.from({ length: n }, () => ({ topic, partition: 0, key: Buffer.from(key), value }));
  const producer = new Producer({ clientId: 'optflow-bench-clients', bootstrapBrokers: config.kafka.brokers, idempotent: true, acks: -1, transactionalId: `${topic}.writer` });
  try {
    for (const [key, count, commit] of [['before', 1000, true], ['aborted', ABORTED, false], ['after', 1000, true]] as const) {
      const transaction = await producer.beginTransaction();
      for (let sent = 0; sent < count; sent += 5000) await transaction.send({ messages: batch(Math.min(5000, count - sent), key) });
      await (commit ? transaction.commit() : transaction.abort());
    }
  } finally {
    await producer.close();
  }
  const byKey = { confluent: new Map<string, number>(), platformatic: new Map<string, number>() };
  const count = (m: Map<string, number>, key: Buffer | null): void => void m.set(String(key), (m.get(String(key)) ?? 0) + 1);
  await readTopicToEnd(config, 'bench-clients', topic, (r) => count(byKey.confluent, r.key));
  await readWithPlatformatic(config, topic, (m) => {
    count(byKey.platformatic, m.key);
    return byKey.platformatic.get('after') === 1000;
  }, { maxBytes: FETCH_MAX_BYTES });
  for (const [client, seen] of Object.entries(byKey)) {
    if (seen.get('before') !== 1000 || seen.get('after') !== 1000) throw new Error(`${client} read ${JSON.stringify([...seen])}`);
  }
  return { confluent: byKey.confluent.get('aborted') ?? 0, platformatic: byKey.platformatic.get('aborted') ?? 0 };
}

function consumerPerfTest(config: Config, topic: string): number {
  const out = new LocalStack(config).kafkaToolOutput('consumer-perf-test', [
    '--bootstrap-server', config.kafka.brokers.join(','), '--topic', topic, '--messages', String(RECORDS), '--timeout', '60000',
  ]);
  // CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
  const row = out.trim().split('\n').pop()!.split(',').map((s) => s.trim());
  const rate = Number(row[5]);
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`unexpected consumer-perf-test output: ${out}`);
  return rate;
}

const range = (rates: number[]): string => `${Math.round(Math.min(...rates)).toLocaleString('en-US')} – ${Math.round(Math.max(...rates)).toLocaleString('en-US')}`;

export async function run(): Promise<void> {
  const prefix = `bench-clients-${Date.now().toString(36)}.`;
  const config = loadConfig({ overrides: { metrics: { base_port: 0 } } });
  // Each round writes a topic per client; every read is of the first round's confluent topic.
  const written = Array.from({ length: ROUNDS }, (_, round) => ({ confluent: `${prefix}r${round}.confluent`, platformatic: `${prefix}r${round}.platformatic` }));
  const readTopic = written[0].confluent;
  const abortedTopic = `${prefix}aborted`;
  await createBenchTopics(config, written.flatMap((w) => [w.confluent, w.platformatic]));
  await createBenchTopics(config, [abortedTopic], 1);
  try {
    const pool = values();
    const produced = { confluent: [] as number[], platformatic: [] as number[] };
    for (const topics of written) {
      produced.confluent.push(await produceConfluent(config, topics.confluent, pool));
      produced.platformatic.push(await producePlatformatic(config, topics.platformatic, pool));
    }
    const consumed = { confluent: [] as number[], platformatic: [] as number[], perfTest: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      consumed.perfTest.push(consumerPerfTest(config, readTopic));
      consumed.confluent.push(await consumeConfluent(config, readTopic));
      consumed.platformatic.push(await consumePlatformatic(config, readTopic));
    }
    const limit = Math.max(...consumed.perfTest);
    const share = (rates: number[]): string => `${Math.round((100 * Math.min(...rates)) / limit)}–${Math.round((100 * Math.max(...rates)) / limit)}%`;
    console.log(`${RECORDS.toLocaleString('en-US')} records of ${VALUE_BYTES} B, ${config.topics.partitions} partitions, ${KEYS.length} keys, transactions of ${PER_TRANSACTION.toLocaleString('en-US')}, lz4; read_committed reads; ${ROUNDS} alternating rounds of each`);
    console.log('| client | consume, records/s | share of consumer-perf-test (best) | transactional produce, records/s |');
    console.log('| --- | --- | --- | --- |');
    console.log(`| kafka-consumer-perf-test (JVM) | ${range(consumed.perfTest)} | 100% | |`);
    console.log(`| @confluentinc/kafka-javascript (the product's) | ${range(consumed.confluent)} | ${share(consumed.confluent)} | ${range(produced.confluent)} |`);
    console.log(`| @platformatic/kafka (pure JS) | ${range(consumed.platformatic)} | ${share(consumed.platformatic)} | ${range(produced.platformatic)} |`);
    const ratio = (Math.min(...consumed.platformatic) / Math.max(...consumed.confluent)).toFixed(2);
    console.log(`platformatic / confluent consume: at least ${ratio}x`);
    const aborted = await abortedDelivered(config, abortedTopic);
    console.log(`read_committed, ${ABORTED.toLocaleString('en-US')} records of an aborted transaction between two committed ones: records of it delivered by @confluentinc/kafka-javascript ${aborted.confluent}, by @platformatic/kafka ${aborted.platformatic.toLocaleString('en-US')} (fetches of at most ${FETCH_MAX_BYTES / 2 ** 20} MiB; 0 is correct)`);
  } finally {
    await dropTopics(config, prefix);
  }
}

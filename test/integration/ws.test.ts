/**
 * Live WebSocket producer end to end: a fake Massive server on loopback, the CLI as a child process,
 * a real broker and registry. Auth/subscribe, records with exact ns and size from `s`, DLQ, a
 * server-side drop with reconnect, and heartbeat watermark markers.
 */
import type { AddressInfo } from 'node:net';
import type { Config } from '../../src/config';
import WebSocket, { WebSocketServer } from 'ws';
import { TopicSerde } from '../../src/avro/serde';
import type { DeadLetter, EquityQuote, EquityTrade } from '../../src/domain/records';
import { WATERMARK_HEADER } from '../../src/kafka/markers';
import { partitionOf } from '../../src/kafka/partitioner';
import { applyTopologyUnder, connectTestKafka, uniqueName, type TestKafka } from './helpers';
import { readTopic, readUntil, spawnCli, until, waitExit } from './kafka-io';

let tk: TestKafka;

beforeAll(async () => {
  tk = await connectTestKafka();
});

afterAll(async () => {
  await tk.close();
});

interface FakeMassive {
  url: string;
  received: { connection: number; message: { action: string; params: string } }[];
  sockets: WebSocket[];
  close(): Promise<void>;
}

async function fakeMassive(): Promise<FakeMassive> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const fake: FakeMassive = {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: [],
    sockets: [],
    close: () => new Promise<void>((resolve) => {
      for (const s of fake.sockets) s.terminate();
      server.close(() => resolve());
    }),
  };
  server.on('connection', (socket) => {
    const connection = fake.sockets.push(socket);
    socket.send(JSON.stringify([{ ev: 'status', status: 'connected', message: 'Connected Successfully' }]));
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { action: string; params: string };
      fake.received.push({ connection, message });
      if (message.action === 'auth') socket.send(JSON.stringify([{ ev: 'status', status: 'auth_success', message: 'authenticated' }]));
      else if (message.action === 'subscribe') socket.send(JSON.stringify([{ ev: 'status', status: 'success', message: `subscribed to: ${message.params}` }]));
    });
  });
  return fake;
}

interface Marker {
  partition: number;
  watermark: bigint;
}

/** Watermark markers (null value + header) on a topic, read from the beginning until `done` holds. */
async function readMarkers(kafka: Pick<Config, 'kafka'>, topic: string, done: (markers: Marker[]) => boolean, timeoutMs = 20_000): Promise<Marker[]> {
  const markers: Marker[] = [];
  await readUntil(
    kafka,
    topic,
    (m) => {
      const header = m.headers?.[WATERMARK_HEADER];
      if (m.value === null && header !== undefined) markers.push({ partition: m.partition, watermark: BigInt(header.toString()) });
    },
    () => done(markers),
    timeoutMs,
  );
  return markers;
}

const T1 = 1741358400123456789n; // ns on the wire
const Q1_MS = 1741358400200n; // ms on the wire
const T2 = 1741358405987654321n; // after the reconnect

it('produces live trades and quotes, dead-letters bad frames, reconnects and sends watermark markers', async () => {
  const fake = await fakeMassive();
  const prefix = `${uniqueName('ws')}.`;
  await applyTopologyUnder(tk, prefix);
  const child = spawnCli(['produce', 'ws', '--feed', 'stocks'], {
    OPTFLOW__TOPICS__PREFIX: prefix,
    OPTFLOW__WEBSOCKET__URL_STOCKS: fake.url,
    OPTFLOW__WEBSOCKET__SUBSCRIPTIONS__STOCKS: 'T.SPY,Q.SPY',
    OPTFLOW__WEBSOCKET__HEARTBEAT_MS: '200',
    OPTFLOW__WEBSOCKET__WATERMARK_LAG_MS: '1000',
    OPTFLOW__WEBSOCKET__INITIAL_BACKOFF_MS: '100',
    OPTFLOW__WEBSOCKET__MAX_BACKOFF_MS: '400',
    MASSIVE_API_KEY: 'test-key-123',
    KAFKA_BROKERS: tk.config.kafka.brokers.join(','),
    SCHEMA_REGISTRY_URL: tk.config.schema_registry.url,
  });
  try {
    await until('auth + subscribe', () => fake.received.length >= 2, 30_000);
    expect(fake.received.slice(0, 2)).toEqual([
      { connection: 1, message: { action: 'auth', params: 'test-key-123' } },
      { connection: 1, message: { action: 'subscribe', params: 'T.SPY,Q.SPY' } },
    ]);
    fake.sockets[0].send(JSON.stringify([
      { ev: 'T', sym: 'SPY', x: 4, i: '71675577320245', z: 2, p: 571.23, s: 37, c: [12, 37], t: 'T1', q: 1000 },
      { ev: 'Q', sym: 'SPY', bx: 11, bp: 571.2, bs: 3, ax: 12, ap: 571.25, as: 5, c: 1, i: [], t: Number(Q1_MS), q: 2000, z: 1 },
      { ev: 'T', sym: 'SPY', p: 0, s: 10, t: Number(Q1_MS), q: 1001 },
    ]).replace('"T1"', T1.toString()));
    fake.sockets[0].send('[{"ev":"T","sym":"SPY",');

    fake.sockets[0].terminate();
    await until('re-auth + re-subscribe', () => fake.received.length >= 4, 20_000);
    expect(fake.received.slice(2, 4)).toEqual([
      { connection: 2, message: { action: 'auth', params: 'test-key-123' } },
      { connection: 2, message: { action: 'subscribe', params: 'T.SPY,Q.SPY' } },
    ]);
    fake.sockets[1].send(`[{"ev":"T","sym":"SPY","x":4,"p":571.5,"s":100,"c":[],"t":${T2},"q":1005}]`);

    const tradeSerde = await TopicSerde.forTopic<EquityTrade>(tk.registry, `${prefix}equity.trades`, 'EquityTrade');
    const quoteSerde = await TopicSerde.forTopic<EquityQuote>(tk.registry, `${prefix}equity.quotes`, 'EquityQuote');
    const dlqSerde = await TopicSerde.forTopic<DeadLetter>(tk.registry, `${prefix}equity.trades.dlq`, 'DeadLetter');
    const [trades, quotes, dead] = await Promise.all([
      readTopic(tk.kafka, tradeSerde.topic, (b) => tradeSerde.decode(b), 2, 20_000),
      readTopic(tk.kafka, quoteSerde.topic, (b) => quoteSerde.decode(b), 1, 20_000),
      readTopic(tk.kafka, dlqSerde.topic, (b) => dlqSerde.decode(b), 2, 20_000),
    ]);

    expect(trades.map((r) => r.key)).toEqual(['SPY', 'SPY']);
    const [t1, t2] = trades.map((r) => r.value).sort((a, b) => (a.sip_timestamp < b.sip_timestamp ? -1 : 1));
    expect(t1).toMatchObject({ ticker: 'SPY', sip_timestamp: T1, size: 37, price: 571.23, sequence_number: 1000n, id: '71675577320245', exchange: 4, tape: 2, conditions: [12, 37], source: 'ws', origin_offset: 1n });
    expect(t2).toMatchObject({ sip_timestamp: T2, size: 100, price: 571.5, sequence_number: 1005n, origin_offset: 1n });
    expect(t2.origin).not.toBe(t1.origin);

    expect(quotes).toHaveLength(1);
    expect(quotes[0].key).toBe('SPY');
    expect(quotes[0].value).toMatchObject({ sip_timestamp: Q1_MS * 1_000_000n, bid_price: 571.2, bid_size: 3n, ask_price: 571.25, ask_size: 5n, conditions: [1], sequence_number: 2000n });

    expect(dead.map((d) => d.value.reason).sort()).toEqual(['invalid_json', 'non_positive_price']);
    const badPrice = dead.find((d) => d.value.reason === 'non_positive_price')!;
    expect(badPrice.key).toBe('SPY');
    expect(badPrice.value.origin).toBe(t1.origin);
    expect(badPrice.value.position).toBe(3n);
    expect(JSON.parse(badPrice.value.raw.toString())).toMatchObject({ ev: 'T', p: 0, s: 10 });
    expect(dead.find((d) => d.value.reason === 'invalid_json')!.value.raw.toString()).toBe('[{"ev":"T","sym":"SPY",');

    const expected = T2 - 1_000_000_000n;
    const partitions = (await tk.admin.fetchTopicMetadata({ topics: [tradeSerde.topic] }))[0].partitions.length;
    // Markers go to SPY's partition only: no other underlying's partition is moved by SPY's records.
    const spy = partitionOf('SPY', partitions);
    for (const topic of [tradeSerde.topic, quoteSerde.topic]) {
      const markers = await readMarkers(tk.kafka, topic, (ms) => ms.some((m) => m.partition === spy && m.watermark === expected));
      expect(markers.every((m) => m.partition === spy && m.watermark <= expected)).toBe(true);
    }

    child.kill('SIGTERM');
    expect(await waitExit(child)).toBe(0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await fake.close();
  }
});

it('heartbeats follow each partition\'s own underlyings: busy SPY and QQQ never advance quiet IWM\'s partition', async () => {
  const fake = await fakeMassive();
  const prefix = `${uniqueName('ws-multi')}.`;
  await applyTopologyUnder(tk, prefix);
  const child = spawnCli(['produce', 'ws', '--feed', 'stocks'], {
    OPTFLOW__TOPICS__PREFIX: prefix,
    OPTFLOW__UNIVERSE__UNDERLYINGS: '["SPY","QQQ","IWM"]',
    OPTFLOW__WEBSOCKET__URL_STOCKS: fake.url,
    OPTFLOW__WEBSOCKET__SUBSCRIPTIONS__STOCKS: 'T.SPY,T.QQQ,T.IWM',
    OPTFLOW__WEBSOCKET__HEARTBEAT_MS: '200',
    OPTFLOW__WEBSOCKET__WATERMARK_LAG_MS: '1000',
    MASSIVE_API_KEY: 'test-key-123',
    KAFKA_BROKERS: tk.config.kafka.brokers.join(','),
    SCHEMA_REGISTRY_URL: tk.config.schema_registry.url,
  });
  try {
    await until('auth + subscribe', () => fake.received.length >= 2, 30_000);
    const trade = (sym: string, t: bigint, q: number) => ({ ev: 'T', sym, x: 4, p: 100 + q / 100, s: 10, c: [], t: `T${t}`, q });
    const S = 1_000_000_000n;
    const events = [trade('IWM', T1, 1), ...Array.from({ length: 60 }, (_, i) => trade(i % 3 === 0 ? 'QQQ' : 'SPY', T1 + BigInt(i + 1) * S, 100 + i))];
    fake.sockets[0].send(JSON.stringify(events).replace(/"T(\d+)"/g, '$1'));

    const topic = `${prefix}equity.trades`;
    const partitions = (await tk.admin.fetchTopicMetadata({ topics: [topic] }))[0].partitions.length;
    const [busy, quiet] = [partitionOf('SPY', partitions), partitionOf('IWM', partitions)];
    expect(partitionOf('QQQ', partitions)).toBe(busy);
    expect(quiet).not.toBe(busy);
    const busyWatermark = T1 + 60n * S - S;
    const markers = await readMarkers(tk.kafka, topic, (ms) => ms.some((m) => m.partition === busy && m.watermark === busyWatermark) && ms.some((m) => m.partition === quiet));
    expect(markers.filter((m) => m.partition === quiet).every((m) => m.watermark === T1 - S)).toBe(true);
    expect(markers.every((m) => m.partition === busy || m.partition === quiet)).toBe(true);
    child.kill('SIGTERM');
    expect(await waitExit(child)).toBe(0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await fake.close();
  }
});

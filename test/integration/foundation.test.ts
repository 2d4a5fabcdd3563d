import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { TopicSerde, subjectFor } from '../../src/avro/serde';
import { EquityTrade } from '../../src/domain/records';
import { KafkaRegistryLog } from '../../src/registry/kafka-log';
import { SchemaRegistryServer } from '../../src/registry/server';
import { RegistryState } from '../../src/registry/state';
import { produceValues, readTopic, sendRaw } from './kafka-io';
import { readTopicToEnd } from '../../src/kafka/consumer';
import { connectTestKafka, createTopics, TestKafka, uniqueName } from './helpers';
import { createRegistry } from '../../src/avro/serde';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { asmJars, ensureJars, kafkaJars, kafkaLeaderEndpointPatch } from '../../src/stack/jars';
import { LocalStack } from '../../src/stack/stack';
import { RecordProducer, type OutgoingMessage } from '../../src/kafka/producer';
import { murmur2 } from '../../src/kafka/partitioner';
import type { Producer } from '@confluentinc/kafka-javascript';

/** Kafka's default partition of a key, over 3 partitions (what the producer's murmur2_random does for a non-null key). */
const partitionOfBytes = (key: string | Buffer): number => (murmur2(Buffer.from(key)) & 0x7fffffff) % 3;

const trade: EquityTrade = {
  ticker: 'SPY',
  sip_timestamp: 1679990400018381329n,
  participant_timestamp: 1679990400018025984n,
  trf_timestamp: null,
  sequence_number: 1550n,
  id: '1',
  exchange: 11,
  tape: 3,
  trf_id: null,
  price: 401.16,
  size: 55,
  conditions: [12, 37],
  correction: null,
  source: 'flatfile',
  origin: 'us_stocks_sip/trades_v1/2023/03/2023-03-28.csv.gz',
  origin_offset: 2n,
};

describe('foundation: broker + registry + Avro wire format', () => {
  let t: TestKafka;
  beforeAll(async () => {
    t = await connectTestKafka();
  });
  afterAll(async () => t.close());

  /**
   * Regression (chaos seed 7; replay: `--plan broker_restart@6.3,kill9_producer:producer@29.8,
   * sigterm:features-1@29.8,broker_restart@29.8`): the only broker restarted while transactions
   * completed; with its partitions briefly leaderless, Kafka 4.4 skipped their markers as if the
   * partitions were deleted (KAFKA-20734; "Couldn't find leader endpoint ... can be skipped" in the
   * broker log). The group's offsets stayed pending and every restarted member failed reading them.
   * The stack runs Kafka 4.x with one rewritten lambda; 3.9 answered right and runs as released.
   */
  it('the stack patches Kafka 4.4 for KAFKA-20734 (a leaderless partition keeps its transaction markers); 3.9 needs no patch', () => {
    const jars = path.join(new LocalStack(t.config).home, 'jars');
    const asm = ensureJars(jars, asmJars());
    const patched = kafkaLeaderEndpointPatch(jars, ensureJars(jars, kafkaJars('4.4.0')), asm);
    expect(patched).not.toBeNull();
    const code = execFileSync('javap', ['-c', '-p', '-cp', patched!, 'org.apache.kafka.metadata.KRaftMetadataCache'], { encoding: 'utf8' });
    const lambda = code.slice(code.indexOf('lambda$getPartitionLeaderEndpoint$1('));
    const body = lambda.slice(0, lambda.indexOf('areturn'));
    // the leader's endpoint, or Node.noNode() when its broker is not registered: never "no such partition"
    expect(body).toMatch(/ClusterImage\.broker[\s\S]*Optional\.map[\s\S]*Node\.noNode[\s\S]*Optional\.orElse[\s\S]*Optional\.of:/);
    if (fs.existsSync(path.join(jars, 'kafka-3.9.1', '.complete'))) {
      expect(kafkaLeaderEndpointPatch(jars, path.join(jars, 'kafka-3.9.1', 'libs'), asm)).toBeNull();
    }
  });

  /**
   * Regression: a process died of SIGSEGV in rd_kafka_q_serve under Producer::NodePoll (core file of an
   * integration run). The binding's poll() uses the native handle without the lock its disconnect takes
   * to destroy it, and the client's poll timer runs until the disconnect has finished. Here the timer
   * polls every millisecond; none of its polls may come once the disconnect has begun.
   */
  it('a producer stops polling before its disconnect destroys the native handle', async () => {
    const topic = uniqueName('test.poll-race');
    await createTopics(t.admin, [topic], 1);
    const producer = await RecordProducer.connect(t.kafka, { clientSuffix: 'poll-race' });
    const client = (producer as unknown as { client: Producer }).client;
    let disconnecting = false;
    let polls = 0;
    let pollsWhileDisconnecting = 0;
    const poll = client.poll.bind(client);
    client.poll = () => {
      polls += 1;
      if (disconnecting) pollsWhileDisconnecting += 1;
      return poll();
    };
    const disconnect = client.disconnect.bind(client) as (...args: unknown[]) => Producer;
    (client as unknown as { disconnect: (...args: unknown[]) => Producer }).disconnect = (...args) => {
      disconnecting = true;
      return disconnect(...args);
    };
    client.setPollInterval(1);
    await producer.send([{ topic, key: 'SPY', value: Buffer.alloc(100, 1) }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await producer.disconnect();
    expect(polls).toBeGreaterThan(5);
    expect(pollsWhileDisconnecting).toBe(0);
  });

  it('sends and reads an Avro record through the real broker with the Confluent wire format', async () => {
    const topic = uniqueName('test.equity.trades');
    await createTopics(t.admin, [topic], 3);
    const serde = await TopicSerde.forTopic<EquityTrade>(t.registry, topic, 'EquityTrade');
    const registeredId = await t.registry.getLatestSchemaId(subjectFor(topic));
    expect(serde.schemaId).toBe(registeredId);

    await produceValues(t.kafka, serde, [{ key: 'SPY', value: trade }]);
    const [read] = await readTopic(t.kafka, topic, (b) => b, 1);
    const value = read.value;

    expect(value.readUInt8(0)).toBe(0);
    expect(value.readUInt32BE(1)).toBe(registeredId);
    const decoded = await serde.decode(value);
    expect(decoded).toEqual(trade);
    expect(decoded.sip_timestamp).toBe(1679990400018381329n);
    // the registry client decodes it too (Java tools and Kafka UI use the same format)
    const viaClient = (await t.registry.decode(value)) as EquityTrade;
    expect(viaClient.sip_timestamp).toBe(1679990400018381329n);
  });

  it('enforces BACKWARD compatibility per subject', async () => {
    const subject = `${uniqueName('test.compat')}-value`;
    const v1 = { type: 'record', name: 'Thing', namespace: 'test', fields: [{ name: 'a', type: 'long' }] };
    const v2ok = { ...v1, fields: [...v1.fields, { name: 'b', type: ['null', 'string'], default: null }] };
    const v2bad = { ...v1, fields: [...v1.fields, { name: 'c', type: 'string' }] };
    const first = await t.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    const again = await t.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    expect(again.id).toBe(first.id);
    const second = await t.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2ok) }, { subject });
    expect(second.id).toBeGreaterThan(first.id);
    await expect(t.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2bad) }, { subject })).rejects.toThrow(/incompatible/i);
    const config = await fetch(`${t.config.schema_registry.url}/config/${subject}`).then((r) => r.json());
    expect(config).toEqual({ compatibilityLevel: 'BACKWARD' });
    const versions = await fetch(`${t.config.schema_registry.url}/subjects/${subject}/versions`).then((r) => r.json());
    expect(versions).toEqual([1, 2]);
    const lookup = await t.registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema: JSON.stringify(v2ok) });
    expect(lookup).toBe(second.id);
  });

  /**
   * The client's binding is patched at install (patches/, bin/patch-kafka-binding.js): consumed values
   * and keys are views of shared 64 KiB arenas, not a Buffer with its own memory each. Every byte must
   * come back as sent, across arena boundaries, with the early values still intact once the later ones
   * filled new arenas, and a value over 4 KiB in memory of its own.
   */
  it('consumes values, keys and headers byte for byte, small ones as views of shared chunks (the patched binding)', async () => {
    const topic = uniqueName('foundation.arena');
    await createTopics(t.admin, [topic], 1);
    let seed = 7;
    const nextSize = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % 3_000;
    const sent = Array.from({ length: 3_000 }, (_, i) => {
      const size = i === 1_500 ? 100_000 : nextSize();
      const value = i % 500 === 3 ? null : Buffer.from(Array.from({ length: size }, (_, j) => (i * 31 + j) & 0xff));
      const headers = i % 7 === 0 ? { watermark: `${i}`, other: 'ü'.repeat(i % 3) } : undefined;
      return { key: `key-${i}-${'k'.repeat(i % 40)}`, value, headers };
    });
    await sendRaw(t.kafka, topic, sent);
    const received: { key: Buffer | null; value: Buffer | null; headers?: Record<string, Buffer>; offset: bigint }[] = [];
    await readTopicToEnd(t.kafka, 'test-arena', topic, (r) => void received.push({ key: r.key, value: r.value, headers: r.headers, offset: r.offset }));

    expect(received).toHaveLength(sent.length);
    received.forEach((r, i) => {
      expect(r.key?.toString()).toBe(sent[i].key);
      if (sent[i].value === null) expect(r.value).toBeNull();
      else expect(Buffer.compare(r.value!, sent[i].value!)).toBe(0);
      const headers = sent[i].headers;
      expect(r.headers === undefined ? undefined : Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.toString()]))).toEqual(headers);
      if (i > 0) expect(r.offset).toBeGreaterThan(received[i - 1].offset);
    });
    const large = received[1_500].value!;
    expect(large.byteOffset === 0 && large.buffer.byteLength === 100_000).toBe(true);
    // Values and keys up to 4 KiB share chunks of at most 64 KiB (a batch's last one only as large as
    // what was left), 8-byte aligned, with at most a 4 KiB gap at each chunk's end.
    const small = received.flatMap((r) => [r.key, r.value]).filter((b): b is Buffer => b !== null && b.length <= 4096);
    const arenas = new Set(small.map((b) => b.buffer));
    expect(arenas.size).toBeGreaterThan(1);
    expect(arenas.size).toBeLessThan(sent.length / 10);
    for (const arena of arenas) expect(arena.byteLength).toBeLessThanOrEqual(65_536);
    const aligned = small.reduce((n, b) => n + ((b.length + 7) & ~7), 0);
    const held = [...arenas].reduce((n, a) => n + a.byteLength, 0);
    expect(held).toBeGreaterThanOrEqual(aligned);
    expect(held).toBeLessThanOrEqual(aligned + arenas.size * 4096);
  });

  /**
   * The patch's first version handed out a view of an arena not yet made when a process's very first
   * pooled copy was zero bytes long. Only a fresh process has no arena, so this one consumes in a child.
   */
  it('a fresh process whose first consumed value and key are empty gets empty buffers (the patched binding)', async () => {
    const topic = uniqueName('foundation.arena-empty');
    await createTopics(t.admin, [topic], 1);
    const producer = await RecordProducer.connect(t.kafka, { clientSuffix: 'arena-empty' });
    try {
      await producer.send([
        { topic, key: Buffer.alloc(0), value: Buffer.alloc(0) },
        { topic, key: 'SPY', value: Buffer.from('after') },
      ]);
    } finally {
      await producer.disconnect();
    }
    const child = `
      const { KafkaConsumer } = require('@confluentinc/kafka-javascript');
      const c = new KafkaConsumer({ 'bootstrap.servers': process.argv[1], 'group.id': 'arena-empty', 'enable.auto.commit': false }, {});
      c.connect({}, (err) => {
        if (err) throw err;
        c.assign([{ topic: process.argv[2], partition: 0, offset: 0 }]);
        const seen = [];
        const next = () => c.consume(10, (e, messages) => {
          if (e) throw e;
          for (const m of messages) seen.push([m.key.length, m.value.toString()]);
          if (seen.length < 2) return next();
          console.log(JSON.stringify(seen));
          c.disconnect(() => process.exit(0));
        });
        next();
      });`;
    const run = spawnSync(process.execPath, ['-e', child, t.kafka.kafka.brokers.join(','), topic], { encoding: 'utf8', timeout: 60_000 });
    expect(run.signal).toBeNull();
    expect(JSON.parse(run.stdout)).toEqual([[0, ''], [3, 'after']]);
  });

  /**
   * The patched binding's produceBatch takes runs of messages to one topic keyed by their keys; a
   * message with a partition or headers goes on its own, in order. 600,000 messages in one enqueue
   * fill librdkafka's queue (500,000), so the batch stops there and the rest follows once it drains.
   */
  it('a transaction produced in batches keeps every message: keys, values, partitions and order (the patched binding)', async () => {
    const [keyed, pinned] = [uniqueName('foundation.batch'), uniqueName('foundation.batch-pinned')];
    await createTopics(t.admin, [keyed, pinned], 3);
    const producer = await RecordProducer.connect(t.kafka, { clientSuffix: 'batch', transactionalId: uniqueName('batch') });
    const keys = ['SPY', 'QQQ', 'IWM', 'ÆØÅ-ü', ''];
    const messages: OutgoingMessage[] = [];
    for (let i = 0; i < 600_000; i++) {
      const value = i % 1_000 === 7 ? null : i % 1_000 === 8 ? Buffer.alloc(0) : i === 300_001 ? Buffer.alloc(100_000, 9) : Buffer.from(`v${i}`);
      const key = i % 997 === 5 ? null : i % 991 === 6 ? Buffer.from([0, 255, i & 0xff]) : keys[i % keys.length];
      if (i % 50_000 === 11) messages.push({ topic: keyed, partition: 2, key: 'pinned', value: Buffer.from(`p${i}`), headers: { h: `${i}` } });
      if (i % 100_000 === 12) messages.push({ topic: pinned, partition: 1, key: null, value: Buffer.from(`q${i}`) });
      messages.push({ topic: keyed, key, value });
    }
    try {
      await producer.inTransaction(messages);
    } finally {
      await producer.disconnect();
    }
    const received = new Map<string, { partition: number; key: Buffer | null; value: Buffer | null; headers?: Record<string, Buffer> }[]>([[keyed, []], [pinned, []]]);
    for (const topic of [keyed, pinned]) {
      await readTopicToEnd(t.kafka, 'test-batch', topic, (r) => void received.get(topic)!.push({ partition: r.partition, key: r.key, value: r.value, headers: r.headers }));
    }
    for (const topic of [keyed, pinned]) {
      const sent = messages.filter((m) => m.topic === topic);
      const got = received.get(topic)!;
      expect(got).toHaveLength(sent.length);
      const hex = (b: string | Buffer | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));
      // Where each message must land: its partition, else its key's (a null key: anywhere).
      const placed = (m: OutgoingMessage): number | null => m.partition ?? (m.key === null ? null : partitionOfBytes(m.key));
      // Of what arrived, the messages sent with neither (in `keyed`, every message without a key).
      const unplacedHere = (r: { key: Buffer | null }): boolean => topic === keyed && r.key === null;
      for (let partition = 0; partition < 3; partition++) {
        const expected = sent.filter((m) => placed(m) === partition).map((m) => [hex(m.key), hex(m.value)]);
        const inPartition = got.filter((r) => r.partition === partition && !unplacedHere(r)).map((r) => [hex(r.key), hex(r.value)]);
        expect(inPartition).toEqual(expected);
      }
      // Messages with neither key nor partition: all there, null and empty values kept apart.
      const unplaced = sent.filter((m) => placed(m) === null).map((m) => String(hex(m.value))).sort();
      expect(got.filter(unplacedHere).map((r) => String(hex(r.value))).sort()).toEqual(unplaced);
    }
    const headed = received.get(keyed)!.filter((r) => r.headers?.h !== undefined);
    expect(headed.map((r) => [r.partition, r.headers!.h.toString(), r.value!.toString()])).toEqual(
      [11, 50_011, 100_011, 150_011, 200_011, 250_011, 300_011, 350_011, 400_011, 450_011, 500_011, 550_011].map((i) => [2, `${i}`, `p${i}`]),
    );
    expect(received.get(keyed)!.find((r) => r.value?.length === 100_000)?.value?.every((b) => b === 9)).toBe(true);
  });

  /**
   * producePacked takes a run's values packed in one Buffer (the flat-file producer's chunks), to each
   * message's key's partition or to one partition (one rd_kafka_produce_batch either way). 600,000
   * messages overflow librdkafka's queue (500,000): the call stops there and resumes once it drains.
   */
  it('packed runs keep every message: keys, values and each partition\'s order, by key or to one partition (the patched binding)', async () => {
    const topic = uniqueName('foundation.packed');
    await createTopics(t.admin, [topic], 3);
    const producer = await RecordProducer.connect(t.kafka, { clientSuffix: 'packed', transactionalId: uniqueName('packed') });
    const keys = ['SPY', 'QQQ', 'IWM', 'ÆØÅ-ü', ''];
    const values = Array.from({ length: 600_000 }, (_, i) => (i % 1_000 === 8 ? Buffer.alloc(0) : i === 300_001 ? Buffer.alloc(100_000, 9) : Buffer.from(`v${i}`)));
    const ends = new Uint32Array(values.length + 10); // room to spare: only `count` are read
    let end = 0;
    values.forEach((v, i) => (ends[i] = end += v.length));
    const run = { topic, partition: -1, data: Buffer.concat(values), ends, keys: values.map((_, i) => keys[i % keys.length]), count: values.length };
    const pinned = { ...run, partition: 1 }; // every key to partition 1, after the keyed run's
    try {
      await producer.begin();
      await producer.enqueuePacked(run);
      await producer.enqueuePacked(pinned);
      await producer.commit();
    } finally {
      await producer.disconnect();
    }
    const got: { partition: number; key: string; value: string }[] = [];
    await readTopicToEnd(t.kafka, 'test-packed', topic, (r) => void got.push({ partition: r.partition, key: r.key!.toString(), value: r.value!.toString('hex') }));
    expect(got).toHaveLength(2 * values.length);
    for (let partition = 0; partition < 3; partition++) {
      const keyed = values.flatMap((v, i) => (partitionOfBytes(run.keys[i]) === partition ? [{ key: run.keys[i], value: v.toString('hex') }] : []));
      const expected = partition === 1 ? keyed.concat(values.map((v, i) => ({ key: run.keys[i], value: v.toString('hex') }))) : keyed;
      expect(got.filter((r) => r.partition === partition).map(({ key, value }) => ({ key, value }))).toEqual(expected);
    }
  });

  it('keeps schema ids across a registry restart (state lives in the _schemas topic)', async () => {
    const subject = `${uniqueName('test.durable')}-value`;
    const schema = JSON.stringify({ type: 'record', name: 'Durable', namespace: 'test', fields: [{ name: 'x', type: 'int' }] });
    const { id } = await t.registry.register({ type: SchemaType.AVRO, schema }, { subject });

    const store = new KafkaRegistryLog(t.config);
    const state = new RegistryState();
    await store.replay((e) => state.apply(e));
    const fresh = new SchemaRegistryServer(state, store);
    const port = await fresh.listen(0);
    try {
      const client = createRegistry(`http://127.0.0.1:${port}`);
      expect(await client.getLatestSchemaId(subject)).toBe(id);
      expect(JSON.parse(await fetch(`http://127.0.0.1:${port}/schemas/ids/${id}`).then((r) => r.json()).then((b) => (b as { schema: string }).schema))).toEqual(JSON.parse(schema));
    } finally {
      await fresh.close();
      await store.close();
    }
  });
});

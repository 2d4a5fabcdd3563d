import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { TopicSerde } from '../../src/avro/serde';
import { Config } from '../../src/config';
import type { Admin } from '../../src/kafka/client';
import { ConsumedRecord, LowLevelConsumer } from '../../src/kafka/consumer';
import { WATERMARK_HEADER } from '../../src/kafka/markers';
import { OutgoingMessage, RecordProducer } from '../../src/kafka/producer';
import { uniqueName } from './helpers';

const ROOT = path.join(__dirname, '..', '..');

type KafkaSettings = Pick<Config, 'kafka'>;

export interface ReadRecord<T> {
  partition: number;
  offset: string;
  key: string | null;
  value: T;
}

/** Reads a topic from the beginning, read_committed, until `expected` records or the timeout. */
export async function readTopic<T>(kafka: KafkaSettings, topic: string, decode: (b: Buffer) => Promise<T> | T, expected: number, timeoutMs = 60_000): Promise<ReadRecord<T>[]> {
  const consumer = new LowLevelConsumer(kafka, 'test-reader', { 'group.id': uniqueName('test-reader') });
  await consumer.connect();
  const out: ReadRecord<T>[] = [];
  try {
    consumer.client.subscribe([topic]);
    const deadline = Date.now() + timeoutMs;
    let lingerUntil = Infinity;
    while (Date.now() < Math.min(deadline, lingerUntil)) {
      const batch = await consumer.consume(2000);
      for (const m of batch.records) {
        if (!m.value) continue;
        out.push({ partition: m.partition, offset: m.offset.toString(), key: m.key?.toString() ?? null, value: await decode(m.value) });
      }
      // linger briefly to catch duplicates beyond the expected count
      if (out.length >= expected && lingerUntil === Infinity) lingerUntil = Date.now() + 1500;
    }
  } finally {
    await consumer.disconnect();
  }
  return out;
}

async function produce(kafka: KafkaSettings, messages: OutgoingMessage[]): Promise<void> {
  const producer = await RecordProducer.connect(kafka, { clientSuffix: 'test-producer' });
  try {
    await producer.send(messages);
  } finally {
    await producer.disconnect();
  }
}

export async function produceValues<T>(kafka: KafkaSettings, serde: TopicSerde<T>, records: { key: string; value: T }[]): Promise<void> {
  await produce(kafka, records.map((r) => ({ topic: serde.topic, key: r.key, value: serde.encode(r.value) })));
}

export async function sendRaw(kafka: KafkaSettings, topic: string, messages: { key: string; value: Buffer | null; headers?: Record<string, string> }[], partition?: number): Promise<void> {
  await produce(kafka, messages.map((m) => ({ topic, partition, ...m })));
}

/** Watermark markers (null value, `watermark` header) to every partition of the topic. */
export async function sendMarkers(kafka: KafkaSettings, topic: string, partitions: number, watermark: bigint): Promise<void> {
  await produce(
    kafka,
    Array.from({ length: partitions }, (_, partition) => ({ topic, partition, key: null, value: null, headers: { [WATERMARK_HEADER]: watermark.toString() } })),
  );
}

/** Runs `optflow <args>` from the built CLI as a child process, with the test's topic prefix. */
export function spawnCli(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'optflow.js'), ...args], {
    env: { ...process.env, NODE_ENV: 'test', OPTFLOW_LOG_LEVEL: process.env.OPTFLOW_TEST_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}

/** Child processes of one test (processor members, sinks), stopped together with SIGTERM. */
export class ChildProcesses {
  private readonly children: ChildProcess[] = [];

  constructor(private readonly env: Record<string, string>) {}

  spawn(args: string[]): ChildProcess {
    const child = spawnCli(args, this.env);
    this.children.push(child);
    return child;
  }

  async stopAll(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(this.children.map(waitExit));
    this.children.length = 0;
  }
}

export function waitExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Polls `check` until true; on timeout the error names `what` and, when given, the last state seen (`seen()`). */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000, seen?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${seen ? `; last seen: ${seen()}` : ''}`);
}

/** Reads a topic from the beginning (read_committed), handing over every record, until `done()` or the timeout. */
export async function readUntil(kafka: KafkaSettings, topic: string, onRecord: (r: ConsumedRecord) => void, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const consumer = new LowLevelConsumer(kafka, 'test-reader', { 'group.id': uniqueName('test-reader') });
  await consumer.connect();
  try {
    consumer.client.subscribe([topic]);
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out reading ${topic}`);
      for (const r of (await consumer.consume(2000)).records) onRecord(r);
    }
  } finally {
    await consumer.disconnect();
  }
}

/** A group's committed offsets on one topic; none (not `[]` from the Confluent admin) when it never committed. */
export async function committedPartitions(admin: Admin, groupId: string, topic: string): Promise<{ partition: number; offset: string; metadata: string | null }[]> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  return offsets.find((t) => t.topic === topic)?.partitions ?? [];
}

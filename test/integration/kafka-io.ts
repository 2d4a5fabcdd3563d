import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { Kafka } from 'kafkajs';
import { TopicSerde } from '../../src/avro/serde';
import { createProducer } from '../../src/kafka/client';
import { WATERMARK_HEADER } from '../../src/kafka/markers';
import { uniqueName } from './helpers';

const ROOT = path.join(__dirname, '..', '..');

export interface ReadRecord<T> {
  partition: number;
  offset: string;
  key: string | null;
  value: T;
}

/** Reads a topic from the beginning, read_committed, until `expected` records or the timeout. */
export async function readTopic<T>(kafka: Kafka, topic: string, decode: (b: Buffer) => Promise<T> | T, expected: number, timeoutMs = 60_000): Promise<ReadRecord<T>[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('test-reader'), readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: ReadRecord<T>[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (!message.value) return;
      out.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value: await decode(message.value) });
      if (out.length >= expected) done();
    },
  });
  const timer = setTimeout(done, timeoutMs);
  await finished;
  clearTimeout(timer);
  // linger briefly to catch duplicates beyond the expected count
  await new Promise((r) => setTimeout(r, 1500));
  await consumer.disconnect();
  return out;
}

export async function produceValues<T>(kafka: Kafka, serde: TopicSerde<T>, records: { key: string; value: T }[]): Promise<void> {
  const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < records.length; i += 2000) {
    await producer.send({ topic: serde.topic, acks: -1, messages: records.slice(i, i + 2000).map((r) => ({ key: r.key, value: serde.encode(r.value) })) });
  }
  await producer.disconnect();
}

export async function sendRaw(kafka: Kafka, topic: string, messages: { key: string; value: Buffer | null; headers?: Record<string, string> }[], partition?: number): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ ...m, partition })) });
  await producer.disconnect();
}

/** Watermark markers (null value, `watermark` header) to every partition of the topic. */
export async function sendMarkers(kafka: Kafka, topic: string, partitions: number, watermark: bigint): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: partitions }, (_, partition) => ({ partition, key: null, value: null, headers: { [WATERMARK_HEADER]: watermark.toString() } })),
  });
  await producer.disconnect();
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

export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

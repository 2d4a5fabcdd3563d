/**
 * `npm run bench:processors`: the greeks and features processors through the real broker, beside the
 * same records through the in-memory ProcessorDriver (the pure core, no Kafka). A generated
 * three-underlying day is produced once by the flatfile producer; then each processor runs as a group
 * member in this process (consume, decode, process, encode, produce, transactional commit) until it
 * has processed every input record, and the in-memory driver replays the same records in partition
 * and offset order. Prints records/s for both and the broker path's share of the core's speed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRegistry, TopicSerde } from '../src/avro/serde';
import { Config, loadConfig, physicalName } from '../src/config';
import { generateDay } from '../src/generator';
import { applyWholeTopology, dropTopics } from './topics';
import { LowLevelConsumer, readTopicToEnd, tpKey } from '../src/kafka/consumer';
import { markerOf } from '../src/kafka/markers';
import { DATASETS } from '../src/producers/flatfile/datasets';
import { FlatfileJob } from '../src/producers/flatfile/job';
import { LocalSource } from '../src/producers/flatfile/ingest/source';
import { ProcessorDriver } from '../src/processors/runtime/driver';
import { ProcessorRuntime } from '../src/processors/runtime/runtime';
import { ProcessorDefinition } from '../src/processors/runtime/types';
import { processorByName } from '../topology/processors';
import { buildTopology } from '../topology/topology';

const DATE = '2025-03-07';
const UNDERLYINGS = ['SPY', 'QQQ', 'IWM'];
const DECODE_BATCH = 1000;

/**
 * An input record as consumed: its value's bytes (`start`..`end` of the inputs' one arena, not a Buffer
 * each: 400k Buffers of their own would load every GC of the process), decoded just before it is processed.
 */
interface InputRecord {
  topic: string;
  partition: number;
  key: string | null;
  start: number;
  end: number;
  decode(bytes: Buffer): unknown;
}

interface Inputs {
  records: InputRecord[];
  arena: Buffer;
}

async function benchDay(root: string): Promise<void> {
  if (existsSync(resolve(root, 'us_options_opra'))) return;
  mkdirSync(root, { recursive: true });
  process.stdout.write('generating the processor bench day (once) ...\n');
  await generateDay({
    date: DATE, outDir: root, seed: 5, scale: 'small', contractsPerUnderlying: 100, optionTradesPerContract: 400,
    optionQuotesPerContract: 800, stockTradesPerUnderlying: 40_000, stockQuotesPerUnderlying: 120_000, malformed: false,
  });
}

/** Every data record of the processor's inputs, in partition order, each partition's inputs interleaved by event time. */
async function inputsOf(config: Config, definition: ProcessorDefinition): Promise<Inputs> {
  const registry = createRegistry(config.schema_registry);
  const out: { partition: number; eventTime: bigint; record: InputRecord }[] = [];
  const values: Buffer[] = [];
  let size = 0;
  for (const input of definition.inputs) {
    const serde = await TopicSerde.forTopic(registry, physicalName(config, input.topic), input.schema, input.reads);
    const decode = (bytes: Buffer): unknown => serde.decodeKnown(bytes);
    await readTopicToEnd(config, 'bench-inputs', serde.topic, async (r) => {
      if (markerOf(r.value, r.headers) !== null || !r.value) return;
      // The first decode of a writer schema fetches it; after that decodeKnown is synchronous.
      const eventTime = input.eventTime(await serde.decode(r.value));
      out.push({ partition: r.partition, eventTime, record: { topic: input.topic, partition: r.partition, key: r.key?.toString() ?? null, start: size, end: size + r.value.length, decode } });
      values.push(r.value);
      size += r.value.length;
    });
  }
  // Within a partition, interleave the inputs by event time, as the runtime's watermarks would release them.
  out.sort((a, b) => a.partition - b.partition || (a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : 0));
  return { records: out.map((o) => o.record), arena: Buffer.concat(values, size) };
}

/** The in-memory driver's rate on the processor's inputs, read here and dropped on return: their objects load none of the broker run's GCs. */
async function inMemoryRun(config: Config, definition: ProcessorDefinition): Promise<{ records: number; inMemoryRate: number }> {
  const inputs = await inputsOf(config, definition);
  return { records: inputs.records.length, inMemoryRate: inputs.records.length / inMemory(config, definition, inputs) };
}

/**
 * The in-memory driver's wall seconds on `records` (like the broker's figure; the CPU seconds are ~40% more,
 * V8's GC helper threads included), decoded DECODE_BATCH at a time outside the timing:
 * decoding everything first would make every record outlive a scavenge, a GC cost the runtime does not
 * have (it decodes each record just before processing it; see bench/day.ts).
 */
function inMemory(config: Config, definition: ProcessorDefinition, { records, arena }: Inputs): number {
  // One driver per partition, as the runtime has one task per partition: each with its own watermark.
  const drivers = new Map<number, ProcessorDriver>();
  const driverOf = (partition: number): ProcessorDriver => drivers.get(partition) ?? drivers.set(partition, new ProcessorDriver(definition, config)).get(partition)!;
  let seconds = 0;
  const timed = (work: () => void): void => {
    const started = process.hrtime.bigint();
    work();
    seconds += Number(process.hrtime.bigint() - started) / 1e9;
  };
  for (let from = 0; from < records.length; from += DECODE_BATCH) {
    const batch = records.slice(from, from + DECODE_BATCH).map((r) => ({ driver: driverOf(r.partition), topic: r.topic, key: r.key, value: r.decode(arena.subarray(r.start, r.end)) }));
    timed(() => {
      for (const r of batch) r.driver.pipe(r.topic, r.value, r.key);
    });
  }
  timed(() => {
    for (const driver of drivers.values()) {
      driver.advanceWatermark(BigInt(Date.parse(`${DATE}T23:59:59Z`)) * 1_000_000n);
      driver.drainEncoded();
    }
  });
  return seconds;
}

/**
 * The client's ceiling: the same input partitions read from their start to their end through the
 * product's consumer (librdkafka and its Node binding, read_committed), with nothing done to the
 * records. Every stage through the broker pays at least this per record on its one JS thread.
 */
async function consumeOnly(config: Config, definition: ProcessorDefinition): Promise<number> {
  const consumer = new LowLevelConsumer(config, 'bench-consume-only', { 'group.id': `bench-consume-only-${process.pid}` });
  await consumer.connect();
  try {
    const inputs = new Set(definition.inputs.map((i) => physicalName(config, i.topic)));
    const starts = buildTopology(config)
      .topics.filter((t) => inputs.has(t.name))
      .flatMap((t) => Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition, offset: -2n })));
    const open = new Set(starts.map((s) => tpKey(s.topic, s.partition)));
    consumer.assign(starts);
    let records = 0;
    const started = process.hrtime.bigint();
    while (open.size > 0) {
      const batch = await consumer.consume(5000);
      for (const _record of batch.records) records++;
      for (const end of batch.ends) open.delete(tpKey(end.topic, end.partition));
    }
    return records / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    await consumer.disconnect();
  }
}

/** Through the broker: start-up (group join, restore, table load) to the first record, then records/s from there to the last. */
async function throughBroker(config: Config, definition: ProcessorDefinition, expected: number): Promise<{ startup: number; seconds: number; records: number }> {
  const runtime = new ProcessorRuntime(config, definition, { metricsPort: 0 });
  const started = process.hrtime.bigint();
  const since = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;
  await runtime.start();
  const counted = async (): Promise<number> => {
    const metric = runtime.metricsRegistry.getSingleMetric('optflow_records_in_total');
    const values = metric ? (await metric.get()).values : [];
    return values.reduce((n, v) => n + v.value, 0);
  };
  let first = await counted();
  while (first === 0) {
    await new Promise((r) => setTimeout(r, 20));
    first = await counted();
  }
  const startup = since(started);
  const flowing = process.hrtime.bigint();
  while ((await counted()) < expected) await new Promise((r) => setTimeout(r, 20));
  const seconds = since(flowing);
  await runtime.stop();
  return { startup, seconds, records: expected - first };
}


export async function run(): Promise<void> {
  const root = resolve(process.cwd(), 'bench/out/processors');
  await benchDay(root);
  const prefix = `bench-proc-${Date.now().toString(36)}.`;
  const config = loadConfig({ overrides: { topics: { prefix }, universe: { underlyings: UNDERLYINGS }, metrics: { base_port: 0 } } });
  await applyWholeTopology(config);
  const job = new FlatfileJob(config, new LocalSource(root), { from: DATE, to: DATE, datasets: [...DATASETS], follow: false, jobName: 'bench', progress: 'log' });
  const produced = await job.run();
  if (produced.failed.length > 0) throw new Error(`producer failed: ${produced.failed.join(', ')}`);
  const rows: string[][] = [['processor', 'input records', 'in memory rec/s', 'consume only rec/s', 'via broker rec/s', 'broker / memory', 'broker / consume only', 'start-up s']];
  try {
    for (const name of ['greeks', 'features']) {
      const definition = processorByName(name);
      const { records, inMemoryRate } = await inMemoryRun(config, definition);
      const ceiling = await consumeOnly(config, definition);
      const broker = await throughBroker(config, definition, records);
      const brokerRate = broker.records / broker.seconds;
      const fmt = (r: number) => Math.round(r).toLocaleString('en-US');
      const pct = (r: number) => `${(r * 100).toFixed(0)}%`;
      rows.push([name, records.toLocaleString('en-US'), fmt(inMemoryRate), fmt(ceiling), fmt(brokerRate), pct(brokerRate / inMemoryRate), pct(brokerRate / ceiling), broker.startup.toFixed(1)]);
    }
  } finally {
    await dropTopics(config, prefix);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ') + '\n');
  process.stdout.write('via broker: consumed, decoded, processed, encoded and committed in transactions, from the first input record processed to the last;\n');
  process.stdout.write('consume only: the same input partitions read start to end through the consumer, records not even decoded (the client\'s ceiling);\n');
  process.stdout.write('start-up: member start to the first record (group join, restore, table load).\n');
}

if (require.main === module) {
  run().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}

import { randomBytes } from 'node:crypto';
import { Admin, Batch, Consumer, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import { createRegistry, PoisonRecordError, TopicSerde } from '../../avro/serde';
import { Config, physicalName } from '../../config';
import { DeadLetter } from '../../domain/records';
import { createKafka, createProducer } from '../../kafka/client';
import { GlobalTables } from '../../kafka/global-table';
import { markerMessages, markerOf } from '../../kafka/markers';
import { PROCESSORS } from '../../../topology/processors';
import { logger } from '../../util/log';
import { CoPartitionedAssigner } from './assigner';
import { ProcessMetrics } from './metrics';
import { CommitMetadata, decodeMetadata, encodeMetadata } from './restore';
import { EncodedOutput, Task } from './task';
import { ProcessorDefinition, TableRecord } from './types';
import { WatermarkTracker } from './watermarks';

/**
 * Runs a processor as a member of its consumer group: co-partitioned assignment, one task per input
 * partition number, event-time watermarks, exactly-once effect (each task commits its outputs and
 * input offsets in one Kafka transaction, with a transactional id per task so a zombie is fenced),
 * state restore by replay (restore.ts), poison records to the DLQ, metrics, graceful shutdown.
 */

export interface RuntimeOptions {
  /** Punctuation period: watermark re-evaluation for idle partitions, and commits. */
  punctuateMs?: number;
  metricsPort?: number;
}

/** An input topic as the runtime reads it: physical name → logical name, serde, event time. */
interface InputBinding {
  logical: string;
  serde: TopicSerde<unknown>;
  eventTime: (v: unknown) => bigint;
}

interface TaskHandle {
  task: Task;
  producer: Producer;
  /** task.counters.late already added to the late metric (late records count once committed). */
  lateCounted: number;
}

/**
 * The coordinator answers CONCURRENT_TRANSACTIONS while the previous transaction's markers are still
 * being written; the Java client retries it, kafkajs does not for AddOffsetsToTxn.
 */
async function retryWhileConcurrent<T>(operation: () => Promise<T>, attempts = 12): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (err) {
      const concurrent = (err as { type?: string }).type === 'CONCURRENT_TRANSACTIONS';
      if (!concurrent || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.min(20 * 2 ** attempt, 1000)));
    }
  }
}

export class ProcessorRuntime {
  private readonly log;
  private readonly kafka: Kafka;
  private readonly group: string;
  private readonly inputs = new Map<string, InputBinding>();
  private readonly outputs = new Map<string, TopicSerde<unknown>>();
  private readonly outputFlags = new Map<string, (value: unknown) => readonly string[]>();
  /** Outputs that carry the task's watermark as markers (derived once at start). */
  private watermarked: string[] = [];
  private deadLetters?: TopicSerde<DeadLetter>;
  private consumer?: Consumer;
  private admin?: Admin;
  private tables?: GlobalTables;
  private readonly tasks = new Map<number, TaskHandle>();
  private lock: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private readonly metrics: ProcessMetrics;
  private metricsServer?: { port: number; close(): Promise<void> };
  private readonly m;
  readonly instanceId = randomBytes(4).toString('hex');
  /** Wall-clock time of the last batch that carried records (for run-all's quiescence check). */
  lastActivityMs = Date.now();

  constructor(
    private readonly config: Config,
    private readonly definition: ProcessorDefinition,
    private readonly options: RuntimeOptions = {},
  ) {
    this.log = logger(`processor.${definition.name}`);
    this.kafka = createKafka(config, `${definition.name}-${this.instanceId}`);
    this.group = physicalName(config, `optflow.${definition.name}`);
    this.metrics = new ProcessMetrics({ processor: definition.name, instance: this.instanceId });
    const mm = this.metrics;
    this.m = {
      recordsIn: mm.counter('optflow_records_in_total', 'input records processed', ['topic']),
      recordsOut: mm.counter('optflow_records_out_total', 'output records committed'),
      outputFlags: mm.counter('optflow_output_flags_total', 'output records per flag they carry (emitted; an aborted transaction re-emits)', ['topic', 'flag']),
      late: mm.counter('optflow_late_total', 'records later than allowed lateness, sent to the late topic'),
      dlq: mm.counter('optflow_dlq_total', 'poison records sent to the DLQ', ['reason']),
      replayed: mm.counter('optflow_replayed_total', 'records replayed to restore state'),
      aborts: mm.counter('optflow_transaction_aborts_total', 'aborted transactions'),
      commits: mm.counter('optflow_transactions_total', 'committed transactions'),
      watermark: mm.gauge('optflow_watermark_seconds', 'task event-time watermark, Unix seconds', ['partition']),
      watermarkLag: mm.gauge('optflow_watermark_lag_seconds', 'wall clock minus task watermark', ['partition']),
      consumerLag: mm.gauge('optflow_consumer_lag', 'records behind the high watermark', ['topic', 'partition']),
      batchSeconds: mm.histogram('optflow_batch_seconds', 'processing time per fetched batch', [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5]),
    };
  }

  private physical(logical: string): string {
    return physicalName(this.config, logical);
  }

  get lateTopic(): string {
    return this.physical(`${this.definition.name}.late`);
  }

  get dlqTopic(): string {
    return this.physical(`${this.definition.name}.dlq`);
  }

  async start(): Promise<void> {
    const registry = createRegistry(this.config.schema_registry);
    for (const input of this.definition.inputs) {
      const topic = this.physical(input.topic);
      this.inputs.set(topic, { logical: input.topic, serde: await TopicSerde.forTopic(registry, topic, input.schema), eventTime: input.eventTime });
    }
    for (const output of this.definition.outputs) {
      const topic = this.physical(output.topic);
      this.outputs.set(topic, await TopicSerde.forTopic(registry, topic, output.schema));
      if (output.flags) this.outputFlags.set(topic, output.flags);
    }
    this.watermarked = this.watermarkedOutputs();
    this.deadLetters = await TopicSerde.forTopic<DeadLetter>(registry, this.dlqTopic, 'DeadLetter');
    await TopicSerde.forTopic<DeadLetter>(registry, this.lateTopic, 'DeadLetter');
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.loadTables(registry);
    this.metricsServer = await this.metrics.serve(this.config, this.options.metricsPort);

    this.consumer = this.kafka.consumer({
      groupId: this.group,
      partitionAssigners: [CoPartitionedAssigner],
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 200,
      readUncommitted: false,
      retry: { retries: 10 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.log.info('group_joined', { assignment: e.payload.memberAssignment });
      void this.exclusive(() => this.dropAllTasks('rebalance'));
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.log.error('consumer_crashed', { error: e.payload.error, restart: e.payload.restart });
      void this.exclusive(() => this.dropAllTasks('crash'));
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.inputs.keys()], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, heartbeat, isStale }) => {
        await this.exclusive(() => this.handleBatch(batch, isStale));
        await heartbeat();
      },
    });
    const period = this.options.punctuateMs ?? 500;
    this.timer = setInterval(() => void this.exclusive(() => this.punctuateAll()), period);
    this.log.info('started', { group: this.group, inputs: [...this.inputs.keys()], metrics_port: this.metricsServer?.port });
  }

  /**
   * Reads the declared table topics to their end before the group is joined, so that every task
   * starts with the whole table; later records reach the tasks between batches (see TableSpec).
   */
  private async loadTables(registry: ReturnType<typeof createRegistry>): Promise<void> {
    const specs = this.definition.tables ?? [];
    if (specs.length === 0) return;
    const bindings = [];
    for (const spec of specs) {
      const topic = this.physical(spec.topic);
      bindings.push({ topic, logical: spec.topic, serde: await TopicSerde.forTopic(registry, topic, spec.schema) });
    }
    this.tables = new GlobalTables(this.kafka, this.admin!, `${this.group}.table.${this.instanceId}`, this.log);
    await this.tables.load(bindings, (record) => this.exclusive(async () => this.applyTableRecord(record)));
  }

  private applyTableRecord(record: TableRecord): void {
    this.tables!.put(record);
    for (const handle of this.tasks.values()) handle.task.table(record);
  }

  /** Serialises batch handling, punctuation and rebalance handling. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.lock.then(work, work);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private async dropAllTasks(reason: string): Promise<void> {
    for (const [partition, handle] of this.tasks) {
      handle.task.close();
      await handle.producer.disconnect().catch(() => undefined);
      this.log.info('task_dropped', { partition, reason });
    }
    this.tasks.clear();
  }

  private async taskFor(partition: number): Promise<TaskHandle> {
    const existing = this.tasks.get(partition);
    if (existing) return existing;
    const producer = createProducer(this.kafka, {
      transactionalId: `${this.group}.task-${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    // Opening the first transaction initialises the transactional id: a previous owner of this task
    // is fenced and its open transaction aborted BEFORE the committed offsets are read below.
    const probe = await producer.transaction();
    await probe.abort();
    const committed = await this.committedState(partition);
    const empty = await this.seekToRestorePoints(partition, committed);
    const now = Date.now();
    const topics = [...this.inputs.keys()];
    const et = this.config.event_time;
    const task = new Task({
      partition,
      inputs: topics,
      processor: this.definition.create(this.config, { partition }),
      watermarks: new WatermarkTracker(topics, BigInt(et.max_out_of_orderness_ms) * 1_000_000n, et.idle_timeout_ms, now, this.processorOutputs()),
      stateHorizonNs: this.definition.stateHorizonNs(this.config),
      committed,
      encode: (topic, key, value) => this.encodeOutput(topic, key, value),
      lateTopic: this.lateTopic,
      dlqTopic: this.dlqTopic,
      deadLetter: (letter) => this.deadLetters!.encode(letter),
    });
    for (const topic of empty) task.fetched(topic, true);
    for (const record of this.tables?.records() ?? []) task.table(record);
    const handle = { task, producer, lateCounted: 0 };
    this.tasks.set(partition, handle);
    this.log.info('task_started', {
      partition,
      committed: Object.fromEntries([...committed].map(([t, c]) => [t, { restore_point: c.restorePoint, position: c.metadata?.position }])),
    });
    return handle;
  }

  /** Inputs written by a processor of the topology: they carry its watermark and are never idle. */
  private processorOutputs(): Set<string> {
    return new Set(PROCESSORS.flatMap((p) => p.outputs.map((o) => this.physical(o.topic))).filter((t) => this.inputs.has(t)));
  }

  /**
   * Outputs another processor reads: the task's watermark goes there as markers on partition p. They
   * are keyed by underlying like the inputs, so task p writes partition p (others, e.g. features keyed
   * by underlying|window, mix tasks in a partition and get none).
   */
  private watermarkedOutputs(): string[] {
    const read = new Set(PROCESSORS.flatMap((p) => p.inputs.map((i) => this.physical(i.topic))));
    return [...this.outputs.keys()].filter((t) => read.has(t));
  }

  private encodeOutput(logical: string, key: string, value: unknown): EncodedOutput {
    const topic = this.physical(logical);
    const serde = this.outputs.get(topic);
    if (!serde) throw new Error(`processor ${this.definition.name} emitted to undeclared topic ${logical}`);
    for (const flag of this.outputFlags.get(topic)?.(value) ?? []) this.m.outputFlags.inc({ topic: logical, flag });
    return { topic, message: { key, value: serde.encode(value) } };
  }

  private async committedState(partition: number): Promise<Map<string, { restorePoint: bigint; metadata?: CommitMetadata }>> {
    const fetched = await this.admin!.fetchOffsets({ groupId: this.group, topics: [...this.inputs.keys()] });
    const out = new Map<string, { restorePoint: bigint; metadata?: CommitMetadata }>();
    for (const t of fetched) {
      const p = t.partitions.find((x) => x.partition === partition);
      if (!p || p.offset === '-1') continue;
      out.set(t.topic, { restorePoint: BigInt(p.offset), metadata: decodeMetadata(p.metadata) });
    }
    return out;
  }

  /**
   * Positions every input partition of the task where its state must be rebuilt from; returns the
   * inputs with nothing to read there yet (the only ones that may be taken for idle before their
   * first batch: an input whose first batch waits behind the others' must not be).
   */
  private async seekToRestorePoints(partition: number, committed: Map<string, { restorePoint: bigint }>): Promise<Set<string>> {
    const empty = new Set<string>();
    for (const topic of this.inputs.keys()) {
      const offsets = (await this.admin!.fetchTopicOffsets(topic)).find((o) => o.partition === partition);
      const offset = committed.get(topic)?.restorePoint ?? BigInt(offsets?.low ?? '0');
      if (offset >= BigInt(offsets?.high ?? '0')) empty.add(topic);
      this.consumer!.seek({ topic, partition, offset: offset.toString() });
    }
    return empty;
  }

  private async handleBatch(batch: Batch, isStale: () => boolean): Promise<void> {
    if (this.stopping) return;
    const started = process.hrtime.bigint();
    const input = this.inputs.get(batch.topic)!;
    const handle = await this.taskFor(batch.partition);
    // A new task seeks its inputs to the restore point: batches fetched before that are skipped.
    if (isStale()) return;
    const { task } = handle;
    const before = { ...task.counters };
    if (batch.messages.length > 0) this.lastActivityMs = Date.now();
    for (const message of batch.messages) await this.handleMessage(task, batch.topic, input, message);
    task.fetched(batch.topic, batch.messages.length === 0 || BigInt(batch.lastOffset()) + 1n >= BigInt(batch.highWatermark));
    this.m.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
    this.m.recordsIn.inc({ topic: batch.topic }, task.counters.recordsIn - before.recordsIn);
    this.m.replayed.inc(task.counters.replayed - before.replayed);
    await this.commit(handle);
    this.m.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async handleMessage(task: Task, topic: string, input: InputBinding, message: KafkaMessage): Promise<void> {
    const offset = BigInt(message.offset);
    const key = message.key ? message.key.toString('utf8') : null;
    const now = Date.now();
    const marker = markerOf(message.value, message.headers);
    if (marker !== null) {
      task.marker(topic, offset, marker, now);
      return;
    }
    let value: unknown;
    try {
      value = await input.serde.decode(message.value);
    } catch (err) {
      if (!(err instanceof PoisonRecordError)) throw err;
      task.poison(topic, offset, key, message.value ?? Buffer.alloc(0), err.reason, err.message);
      this.m.dlq.inc({ reason: err.reason });
      this.log.warn('poison_record', { topic, partition: task.partition, offset, reason: err.reason, detail: err.message });
      return;
    }
    task.process(topic, { topic: input.logical, partition: task.partition, offset, key, value, eventTime: input.eventTime(value) }, message.value!, now);
  }

  private async punctuateAll(): Promise<void> {
    if (this.stopping) return;
    const now = Date.now();
    for (const handle of this.tasks.values()) {
      handle.task.punctuate(now);
      const wm = handle.task.watermark;
      if (wm > 0n) {
        this.m.watermark.set({ partition: String(handle.task.partition) }, Number(wm / 1_000_000n) / 1000);
        this.m.watermarkLag.set({ partition: String(handle.task.partition) }, (now * 1e6 - Number(wm)) / 1e9);
      }
      await this.commit(handle);
    }
  }

  /** One transaction: the task's outputs, then its input offsets (with restore metadata), then commit. */
  private async commit(handle: TaskHandle): Promise<void> {
    const { task, producer } = handle;
    if (!task.hasWork) return;
    const { outputs, offsets, watermark } = task.drain();
    const late = task.counters.late;
    const txn = await producer.transaction();
    try {
      const byTopic = new Map<string, Message[]>();
      for (const o of outputs) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o.message]);
      if (watermark !== null) {
        for (const topic of this.watermarked) byTopic.set(topic, [...(byTopic.get(topic) ?? []), ...markerMessages([task.partition], watermark)]);
      }
      if (byTopic.size > 0) {
        await txn.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      }
      await retryWhileConcurrent(() =>
        txn.sendOffsets({
          consumerGroupId: this.group,
          topics: offsets.map((o) => ({
            topic: o.topic,
            partitions: [{ partition: task.partition, offset: o.offset.toString(), metadata: encodeMetadata(o.metadata) }],
          })),
        }),
      );
      await txn.commit();
      this.m.commits.inc();
      this.m.recordsOut.inc(outputs.length);
      this.m.late.inc(late - handle.lateCounted);
      handle.lateCounted = late;
    } catch (err) {
      this.m.aborts.inc();
      await txn.abort().catch(() => undefined);
      // State has moved past what is committed: drop the task; it is rebuilt from the committed offsets.
      this.log.error('transaction_aborted', { partition: task.partition, error: err });
      this.tasks.delete(task.partition);
      task.close();
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  /** Graceful stop: finish the batch in hand, commit, leave the group. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.exclusive(async () => {
      for (const handle of this.tasks.values()) {
        handle.task.punctuate(Date.now());
        await this.commit(handle).catch(() => undefined);
      }
      this.stopping = true;
    });
    await this.consumer?.disconnect();
    await this.tables?.stop();
    await this.exclusive(() => this.dropAllTasks('shutdown'));
    await this.admin?.disconnect();
    await this.metricsServer?.close();
    this.log.info('stopped', {});
  }

  get metricsRegistry() {
    return this.metrics.registry;
  }
}

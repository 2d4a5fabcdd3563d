import { randomBytes } from 'node:crypto';
import { createRegistry, PoisonRecordError, TopicSerde } from '../../avro/serde';
import { Config, physicalName } from '../../config';
import { DeadLetter } from '../../domain/records';
import { Admin, createAdmin } from '../../kafka/client';
import { ConsumedRecord, KeyText, PartitionEnd, TopicPartitionOffset } from '../../kafka/consumer';
import { GlobalTables } from '../../kafka/global-table';
import { markerMessages, markerOf } from '../../kafka/markers';
import { GroupMember, TopicPartition } from '../../kafka/member';
import { ProcessMetrics } from '../../kafka/metrics';
import { OutgoingMessage, RecordProducer } from '../../kafka/producer';
import { requireTopics } from '../../kafka/topics';
import { buildTopology, processorSpec, ProcessorSpec, Topology } from '../../../topology/topology';
import { logger } from '../../util/log';
import { CommitMetadata, decodeMetadata, decodeVersion, encodeMetadata, latestVersion, OutputVersion } from './restore';
import { EncodedOutput, Task } from './task';
import { SchemaName } from '../../avro/types';
import { instantiate, OutputSpec, ProcessorDefinition, SchemaValues, TableRecord } from './types';
import { WatermarkTracker } from './watermarks';
import { balanceInputs, InputPosition } from './flow';
import { WorkerOffload } from './offload';

/**
 * Runs a processor as a member of its consumer group (src/kafka/member.ts): one task per input
 * partition number (librdkafka's range assignment keeps partition p of every input on one member),
 * event-time watermarks, exactly-once effect (each task commits its outputs and input offsets in one
 * Kafka transaction: a transactional id per task fences a zombie task, and the offsets carry the
 * member's group generation, so an evicted member cannot commit), state restore by replay
 * (restore.ts), poison records to the DLQ, metrics, graceful shutdown.
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
  producer: RecordProducer;
  /** task.counters.late already added to the late metric (late records count once committed). */
  lateCounted: number;
  lastCommitMs: number;
  /** The task's last transaction, settled or in flight: false once one aborted (the task is dropped). */
  committing: Promise<boolean>;
  /** Transactions requested and not yet settled. */
  commitsPending: number;
}

/** A task commits when this much time passed since its last commit, or this many outputs wait. */
const COMMIT_INTERVAL_MS = 100;
const COMMIT_OUTPUTS = 20_000;
/** Processing waits for a task's transaction in flight only once this many outputs wait behind it. */
const COMMIT_OUTPUTS_BEHIND = 4 * COMMIT_OUTPUTS;
/** Processing waits for the offload workers once this many computed outputs wait for them (each holds its inputs). */
const OFFLOADED_BEHIND = 256;

function tpLabel(p: TopicPartition): string {
  return `${p.topic}[${p.partition}]`;
}

export class ProcessorRuntime {
  private readonly log;
  private readonly group: string;
  private readonly inputs = new Map<string, InputBinding>();
  private readonly outputs = new Map<string, TopicSerde<unknown>>();
  /** Outputs that carry the task's watermark as markers (derived once at start). */
  private watermarked: string[] = [];
  private deadLetters?: TopicSerde<DeadLetter>;
  private member?: GroupMember;
  private admin?: Admin;
  private tables?: GlobalTables;
  private readonly tasks = new Map<number, TaskHandle>();
  private readonly keys = new KeyText();
  /** Where the tasks' emitComputed jobs run (worker threads, started on first use). */
  private readonly offload = new WorkerOffload();
  private readonly metrics: ProcessMetrics;
  private metricsServer?: { port: number; close(): Promise<void> };
  private readonly meters;
  readonly instanceId = randomBytes(4).toString('hex');
  private readonly topology: Topology;
  private readonly spec: ProcessorSpec;
  private readonly createdMs = Date.now();

  constructor(
    private readonly config: Config,
    private readonly definition: ProcessorDefinition,
    private readonly options: RuntimeOptions = {},
  ) {
    this.log = logger(`processor.${definition.name}`);
    this.topology = buildTopology(config);
    this.spec = processorSpec(this.topology, definition.name);
    this.group = this.spec.consumerGroup;
    this.metrics = new ProcessMetrics({ processor: definition.name, instance: this.instanceId });
    const mm = this.metrics;
    this.meters = {
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
      held: mm.gauge('optflow_inputs_held', 'input partitions held back because they run ahead of their task\'s watermark'),
      holds: mm.counter('optflow_input_holds_total', 'times an input partition was held back for running ahead'),
    };
  }

  private physical(logical: string): string {
    return physicalName(this.config, logical);
  }

  get lateTopic(): string {
    return this.spec.lateTopic;
  }

  get dlqTopic(): string {
    return this.spec.dlqTopic;
  }

  async start(): Promise<void> {
    this.admin = createAdmin(this.config, `${this.definition.name}-${this.instanceId}-admin`);
    await this.admin.connect();
    const declared = [...this.definition.inputs, ...this.definition.outputs].map((t) => this.physical(t.topic));
    await requireTopics(this.admin, [...declared, this.dlqTopic, this.lateTopic]);
    const registry = createRegistry(this.config.schema_registry);
    for (const input of this.definition.inputs) {
      const topic = this.physical(input.topic);
      this.inputs.set(topic, { logical: input.topic, serde: await TopicSerde.forTopic(registry, topic, input.schema, input.reads), eventTime: input.eventTime });
    }
    for (const output of this.definition.outputs) {
      const topic = this.physical(output.topic);
      this.outputs.set(topic, await TopicSerde.forTopic(registry, topic, output.schema));
    }
    this.watermarked = this.watermarkedOutputs();
    this.deadLetters = await TopicSerde.forTopic<DeadLetter>(registry, this.dlqTopic, 'DeadLetter');
    await TopicSerde.forTopic<DeadLetter>(registry, this.lateTopic, 'DeadLetter');
    await this.loadTables(registry);
    this.metricsServer = await this.metrics.serve(this.config, this.options.metricsPort);
    this.member = new GroupMember(this.config, {
      group: this.group,
      topics: [...this.inputs.keys()],
      clientSuffix: `${this.definition.name}-${this.instanceId}`,
      tickMs: this.options.punctuateMs ?? 500,
    });
    await this.member.start({
      assigned: (partitions) => this.assigned(partitions),
      revoked: (partitions, lost) => this.revoked(partitions, lost),
      fetched: (records, ends) => this.fetched(records, ends),
      tick: (now) => this.punctuateAll(now),
    });
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
    this.tables = new GlobalTables(this.config, this.admin!, `${this.definition.name}-${this.instanceId}-tables`, this.log);
    // Later table records reach the tasks between batches: the member serialises them with its work.
    await this.tables.load(bindings, async (record) => {
      if (this.member) await this.member.exclusive(async () => this.applyTableRecord(record));
      else this.applyTableRecord(record);
    });
  }

  private applyTableRecord(record: TableRecord): void {
    this.tables!.put(record);
    for (const handle of this.tasks.values()) handle.task.table(record);
  }

  private async assigned(partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    const numbers = [...new Set(partitions.map((p) => p.partition))].sort((a, b) => a - b);
    this.log.info('group_joined', { partitions: numbers });
    const starts: TopicPartitionOffset[] = [];
    for (const partition of numbers) starts.push(...(await this.startTask(partition)));
    return starts;
  }

  private async revoked(partitions: TopicPartition[], lost: boolean): Promise<void> {
    for (const partition of new Set(partitions.map((p) => p.partition))) {
      const handle = this.tasks.get(partition);
      if (!handle) continue;
      if (lost) {
        await handle.committing;
        await this.dropTask(handle, 'lost');
        continue;
      }
      // An aborted final commit has dropped the task already; nothing is rebuilt on the way out.
      if (await this.commit(handle)) await this.dropTask(handle, 'revoked');
    }
  }

  /** Once per task: an aborted transaction drops it, and so may a revoke or a stop behind it. */
  private async dropTask(handle: TaskHandle, reason: string): Promise<void> {
    if (this.tasks.get(handle.task.partition) !== handle) return;
    this.tasks.delete(handle.task.partition);
    handle.task.close();
    await handle.producer.disconnect();
    this.log.info('task_dropped', { partition: handle.task.partition, reason });
  }

  /** Creates task p (fencing its previous owner), restores its committed state; returns where its inputs start. */
  private async startTask(partition: number): Promise<TopicPartitionOffset[]> {
    // Initialising the transactional id fences a previous owner of this task and aborts its open
    // transaction BEFORE the committed offsets are read below.
    const producer = await RecordProducer.connect(this.config, {
      clientSuffix: `${this.definition.name}-${this.instanceId}-task-${partition}`,
      transactionalId: `${this.group}.task-${partition}`,
    });
    const committed = await this.committedState(partition);
    const { starts, empty } = await this.restorePoints(partition, committed);
    const now = Date.now();
    const topics = [...this.inputs.keys()];
    const et = this.config.event_time;
    const task = new Task({
      partition,
      inputs: topics,
      processor: instantiate(this.definition, this.config, { partition }),
      watermarks: new WatermarkTracker(topics, BigInt(et.max_out_of_orderness_ms) * 1_000_000n, et.idle_timeout_ms, now, this.processorOutputs()),
      stateHorizonNs: this.definition.stateHorizonNs(this.config),
      committed,
      // The version a reprocess set (or the one carried by the last commit): all inputs hold the same.
      version: latestVersion([...committed.values()].map((c) => c.version)),
      encode: (output, key, value) => this.encodeOutput(output, key, value),
      lateTopic: this.lateTopic,
      dlqTopic: this.dlqTopic,
      deadLetter: (letter) => this.deadLetters!.encode(letter),
      offload: this.offload,
    });
    for (const topic of empty) task.fetched(topic, true);
    for (const record of this.tables?.records() ?? []) task.table(record);
    this.tasks.set(partition, { task, producer, lateCounted: 0, lastCommitMs: now, committing: Promise.resolve(true), commitsPending: 0 });
    this.log.info('task_started', {
      partition,
      generation: task.version.generation,
      committed: Object.fromEntries([...committed].map(([t, c]) => [t, { restore_point: c.restorePoint, position: c.metadata?.position }])),
    });
    return starts;
  }

  /** Inputs written by a processor of the topology: they carry its watermark and are never idle. */
  private processorOutputs(): Set<string> {
    return new Set(this.topology.processors.flatMap((p) => p.outputs).filter((t) => this.inputs.has(t)));
  }

  /**
   * Outputs another processor reads: the task's watermark goes there as markers on partition p. They
   * are co-partitioned with the inputs (task p writes partition p of every output). Outputs nobody
   * reads get none (features is compacted: a null-value marker would be a tombstone).
   */
  private watermarkedOutputs(): string[] {
    const read = new Set(this.topology.processors.flatMap((p) => p.inputs));
    return [...this.outputs.keys()].filter((t) => read.has(t));
  }

  private encodeOutput<S extends SchemaName>(output: OutputSpec<S>, key: string, value: SchemaValues[S]): EncodedOutput {
    const topic = this.physical(output.topic);
    const serde = this.outputs.get(topic);
    if (!serde) throw new Error(`processor ${this.definition.name} emitted to undeclared topic ${output.topic}`);
    for (const flag of output.flags?.(value) ?? []) this.meters.outputFlags.inc({ topic: output.topic, flag });
    return { topic, key, value: serde.encode(value) };
  }

  private async committedState(partition: number): Promise<Map<string, { restorePoint: bigint; metadata?: CommitMetadata; version: OutputVersion }>> {
    const fetched = await this.member!.consumer.committed([...this.inputs.keys()].map((topic) => ({ topic, partition })));
    const out = new Map<string, { restorePoint: bigint; metadata?: CommitMetadata; version: OutputVersion }>();
    for (const c of fetched) {
      if (c.offset === null) continue;
      out.set(c.topic, { restorePoint: c.offset, metadata: decodeMetadata(c.metadata), version: decodeVersion(c.metadata) });
    }
    return out;
  }

  /**
   * Where every input partition of the task starts (its state is rebuilt from there), and the inputs
   * with nothing to read there yet (the only ones that may be taken for idle before their first
   * batch: an input whose first batch waits behind the others' must not be).
   */
  private async restorePoints(partition: number, committed: Map<string, { restorePoint: bigint }>): Promise<{ starts: TopicPartitionOffset[]; empty: Set<string> }> {
    const empty = new Set<string>();
    const starts: TopicPartitionOffset[] = [];
    for (const topic of this.inputs.keys()) {
      const { low, high } = await this.member!.consumer.queryOffsets(topic, partition);
      const offset = committed.get(topic)?.restorePoint ?? low;
      if (offset >= high) empty.add(topic);
      starts.push({ topic, partition, offset });
    }
    return { starts, empty };
  }

  private async fetched(records: Iterable<ConsumedRecord>, ends: PartitionEnd[]): Promise<void> {
    const started = process.hrtime.bigint();
    // One wall-clock reading per batch (a batch takes milliseconds): it only dates idleness and punctuation.
    const fetchedMs = Date.now();
    const touched = new Set<TaskHandle>();
    const before = new Map<TaskHandle, { recordsIn: number; replayed: number }>();
    // Counted per batch, and per run of one partition within it (a batch comes in such runs): a
    // labelled prom-client inc per record cost 3% of greeks' time, and map updates per record 1–2%.
    const recordsIn = new Map<string, number>();
    let run: { topic: string; partition: number; handle: TaskHandle | undefined; input: InputBinding; count: number } | undefined;
    const endRun = (): void => {
      if (run && run.count > 0) recordsIn.set(run.topic, (recordsIn.get(run.topic) ?? 0) + run.count);
    };
    for (const record of records) {
      if (run === undefined || record.partition !== run.partition || record.topic !== run.topic) {
        endRun();
        const handle = this.tasks.get(record.partition);
        run = { topic: record.topic, partition: record.partition, handle, input: this.inputs.get(record.topic)!, count: 0 };
        if (handle) {
          if (!before.has(handle)) before.set(handle, { recordsIn: handle.task.counters.recordsIn, replayed: handle.task.counters.replayed });
          touched.add(handle);
        }
      }
      const handle = run.handle;
      if (!handle) continue;
      const waiting = this.handleRecord(handle.task, run.input, record, fetchedMs);
      if (waiting) await waiting;
      handle.task.fetched(record.topic, false);
      run.count++;
      // A rebuilt task (an aborted transaction) may have replaced this one while the record waited.
      if (waiting && this.tasks.get(record.partition) !== handle) {
        endRun();
        run = undefined;
      }
    }
    endRun();
    for (const [topic, n] of recordsIn) this.meters.recordsIn.inc({ topic }, n);
    for (const end of ends) {
      const handle = this.tasks.get(end.partition);
      if (!handle) continue;
      handle.task.fetched(end.topic, true);
      touched.add(handle);
      this.meters.consumerLag.set({ topic: end.topic, partition: String(end.partition) }, 0);
    }
    for (const [handle, b] of before) this.meters.replayed.inc(handle.task.counters.replayed - b.replayed);
    const now = Date.now();
    for (const handle of touched) if (this.commitDue(handle, now)) this.commitInBackground(handle);
    // Bounded: a task whose outputs pile up behind a slow transaction waits for it.
    await Promise.all([...touched].filter((h) => h.task.pendingOutputs >= COMMIT_OUTPUTS_BEHIND).map((h) => h.committing));
    await this.offload.below(OFFLOADED_BEHIND);
    this.balanceInputs();
    this.meters.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Holds back input partitions that lead their task's watermark too far, and releases them once it catches up (flow.ts). */
  private balanceInputs(): void {
    const member = this.member!;
    const positions: InputPosition[] = [];
    const now = Date.now();
    for (const { task } of this.tasks.values()) {
      for (const [topic, lead] of task.inputLeads(now)) positions.push({ topic, partition: task.partition, lead, held: member.isHeld(topic, task.partition) });
    }
    const decision = balanceInputs(positions);
    if (decision.hold.length + decision.release.length > 0) this.log.debug('inputs_balanced', { hold: decision.hold.map(tpLabel), release: decision.release.map(tpLabel), watermarks: [...this.tasks.values()].map((h) => `${h.task.partition}:${h.task.watermark}`) });
    member.hold(decision.hold);
    member.release(decision.release);
    this.meters.holds.inc(decision.hold.length);
    this.meters.held.set(decision.held);
  }

  private commitDue(handle: TaskHandle, now: number): boolean {
    if (handle.commitsPending > 0) return false;
    return handle.task.pendingOutputs >= COMMIT_OUTPUTS || now - handle.lastCommitMs >= COMMIT_INTERVAL_MS;
  }

  /** Synchronous unless the record's writer schema must first be fetched from the registry. */
  private handleRecord(task: Task, input: InputBinding, record: ConsumedRecord, nowMs: number): Promise<void> | undefined {
    const marker = markerOf(record.value, record.headers);
    if (marker !== null) {
      task.marker(record.topic, record.offset, marker, nowMs);
      return undefined;
    }
    let value: unknown;
    try {
      value = input.serde.decodeKnown(record.value);
    } catch (err) {
      return this.poison(task, record, err);
    }
    if (value === undefined) {
      return input.serde.decode(record.value).then(
        (decoded) => this.processValue(task, input, record, decoded, Date.now()),
        (err: unknown) => this.poison(task, record, err),
      );
    }
    this.processValue(task, input, record, value, nowMs);
    return undefined;
  }

  private processValue(task: Task, input: InputBinding, record: ConsumedRecord, value: unknown, nowMs: number): void {
    const key = record.key ? this.keys.of(record.key) : null;
    task.process(record.topic, { topic: input.logical, partition: task.partition, offset: record.offset, key, value, eventTime: input.eventTime(value) }, record.value!, nowMs);
  }

  private poison(task: Task, record: ConsumedRecord, err: unknown): undefined {
    if (!(err instanceof PoisonRecordError)) throw err;
    const { topic, offset } = record;
    task.poison(topic, offset, record.key ? record.key.toString('utf8') : null, record.value ?? Buffer.alloc(0), err.reason, err.message);
    this.meters.dlq.inc({ reason: err.reason });
    this.log.warn('poison_record', { topic, partition: task.partition, offset, reason: err.reason, detail: err.message });
    return undefined;
  }

  private async punctuateAll(now: number): Promise<void> {
    for (const handle of this.tasks.values()) {
      handle.task.punctuate(now);
      const wm = handle.task.watermark;
      if (wm > 0n) {
        this.meters.watermark.set({ partition: String(handle.task.partition) }, Number(wm / 1_000_000n) / 1000);
        this.meters.watermarkLag.set({ partition: String(handle.task.partition) }, (now * 1e6 - Number(wm)) / 1e9);
      }
    }
    for (const handle of this.tasks.values()) if (handle.commitsPending === 0) this.commitInBackground(handle);
    this.balanceInputs();
  }

  /**
   * The task's next transaction, after the one in flight (one at a time per task). It takes what
   * the task holds when it starts: records processed while the previous one commits go into it.
   * False when it or an earlier one aborted: the task has been dropped.
   */
  private commit(handle: TaskHandle): Promise<boolean> {
    handle.commitsPending += 1;
    const next = handle.committing.then((ok) => ok && this.transact(handle)).finally(() => (handle.commitsPending -= 1));
    handle.committing = next;
    return next;
  }

  /**
   * Commits while the member goes on with the next batch: waiting for each transaction kept the
   * thread idle about a sixth of the time. An aborted task is rebuilt from its committed offsets.
   */
  private commitInBackground(handle: TaskHandle): void {
    this.commit(handle).then(
      (ok) => ok || this.rebuildLater(handle.task.partition),
      (err: unknown) => this.member!.fail(err),
    );
  }

  /**
   * Rebuilds task p between batches, unless the group moved it elsewhere meanwhile or a new
   * assignment started it again. Records of p delivered before then found no task; the member
   * re-reads them from the new task's restore points.
   */
  private rebuildLater(partition: number): void {
    const member = this.member!;
    member
      .exclusive(async () => {
        if (this.tasks.has(partition) || !member.ownsPartition(partition)) return;
        member.reposition(await this.startTask(partition));
      })
      .catch((err: unknown) => member.fail(err));
  }

  /**
   * One transaction: the task's outputs, then its input offsets (with restore metadata), then commit.
   * False when it aborted: the task is dropped, its state having moved past what is committed.
   */
  private async transact(handle: TaskHandle): Promise<boolean> {
    const { task, producer } = handle;
    if (!task.hasWork) return true;
    const { outputs: queued, offsets, watermark } = task.drain();
    const late = task.counters.late;
    handle.lastCommitMs = Date.now();
    // A computed output that fails rejects here, outside the transaction: the member fails.
    const outputs = await queued;
    const messages: OutgoingMessage[] = outputs;
    if (watermark !== null) {
      for (const topic of this.watermarked) messages.push(...markerMessages(topic, [task.partition], watermark));
    }
    try {
      await producer.inTransaction(messages, {
        consumer: this.member!.consumer.client,
        offsets: offsets.map((o) => ({ topic: o.topic, partition: task.partition, offset: o.offset, metadata: encodeMetadata(o.metadata) })),
      });
      this.meters.commits.inc();
      this.meters.recordsOut.inc(outputs.length);
      this.meters.late.inc(late - handle.lateCounted);
      handle.lateCounted = late;
    } catch (err) {
      this.meters.aborts.inc();
      // State has moved past what is committed: the task goes (see rebuildLater).
      this.log.error('transaction_aborted', { partition: task.partition, error: (err as Error).message });
      await this.dropTask(handle, 'aborted');
      return false;
    }
    return true;
  }

  /** Graceful stop: finish the batch in hand, commit, leave the group. */
  async stop(): Promise<void> {
    await this.member?.stop();
    await this.tables?.stop();
    for (const handle of [...this.tasks.values()]) {
      await handle.committing;
      await this.dropTask(handle, 'shutdown');
    }
    await this.offload.close();
    await this.admin?.disconnect();
    await this.metricsServer?.close();
    this.log.info('stopped', {});
  }

  /** Settles once the member stopped: null after stop(), or the error that stopped it. */
  get stopped(): Promise<Error | null> {
    return this.member?.stopped ?? Promise.resolve(null);
  }

  /** Wall-clock time of the last batch that carried records (run-all's quiet check). */
  get lastActivityMs(): number {
    return this.member?.lastRecordsMs ?? this.createdMs;
  }

  get metricsRegistry() {
    return this.metrics.registry;
  }
}

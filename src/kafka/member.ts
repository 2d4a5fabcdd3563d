import { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { Config } from '../config';
import { logger } from '../util/log';
import { ConsumedBatch, ConsumedRecord, LowLevelConsumer, PartitionEnd, TopicPartitionOffset, tpKey } from './consumer';

/**
 * One member of a consumer group: the loop every processor and sink runs. It owns the lifecycle
 * (start, assignment, graceful stop), hands its user whole batches, and serialises batches, ticks and
 * rebalances, so its user never sees two of them at once.
 *
 * Assignment is librdkafka's `range` (eager): with equal partition counts it gives partition p of
 * every subscribed topic to the same member, which is what co-partitioned tasks need. The user
 * chooses where each assigned partition starts (restore points, seals); records fetched before an
 * assignment changed are discarded and re-read from the user's positions. Heartbeats run in
 * librdkafka's own thread: a long batch does not get the member evicted (max.poll.interval governs).
 * The user may hold partitions back (flow control): a held partition is paused, so its records wait
 * in Kafka instead of in memory.
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface MemberUser {
  /** Partitions just assigned; returns where each starts (a missing one starts at its low offset). */
  assigned(partitions: TopicPartition[]): Promise<TopicPartitionOffset[]>;
  /** Partitions about to be revoked (lost: the group moved on already, nothing may be committed). */
  revoked(partitions: TopicPartition[], lost: boolean): Promise<void>;
  /**
   * Records in offset order per partition, and partitions that reached their end. The records are
   * read once, in order: each is made as it is read. (A property, so that the compiler refuses a
   * user that expects an array.)
   */
  fetched: (records: Iterable<ConsumedRecord>, ends: PartitionEnd[]) => Promise<void>;
  /** Time-driven work (punctuation, idle flushes, commits). */
  tick(nowMs: number): Promise<void>;
}

export interface MemberOptions {
  group: string;
  topics: string[];
  clientSuffix: string;
  tickMs?: number;
  maxBatch?: number;
  sessionTimeoutMs?: number;
}

/**
 * Messages asked of each consume() (one is in flight while the batch before is processed). bench:processors,
 * 3 runs each: greeks through the broker 87-91k records/s at 5,000, 93-103k at 10,000, 94k at 20,000;
 * features 60-75k and 64-72k either way.
 */
const DEFAULT_MAX_BATCH = 10_000;
const ASSIGN = -175;

export class GroupMember {
  readonly consumer: LowLevelConsumer;
  private readonly log;
  private lock: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private loopDone?: Promise<void>;
  private timer?: NodeJS.Timeout;
  /** Wall-clock time of the last batch that carried records (run-all's quiet check). */
  lastRecordsMs = Date.now();
  /** Bumped by every assignment change: a batch fetched across one is discarded. */
  private epoch = 0;
  /** Next offset the user expects per assigned partition. */
  private readonly next = new Map<string, TopicPartitionOffset>();
  /** The consumer may be fetching from elsewhere than `next` (a dropped batch, a reposition): assign before the next request. */
  private displaced = false;
  /** Partitions the user holds back, by tpKey: paused, and paused again after every assign. */
  private readonly held = new Map<string, TopicPartition>();
  /** Whether anything was ever held (members that never hold skip the periodic resume). */
  private everHeld = false;
  private user?: MemberUser;
  private failure: Error | null = null;
  private settle: (failure: Error | null) => void = () => undefined;
  /**
   * Settles once the member has stopped: null after stop(), or the error that stopped it. A role
   * whose member failed cannot go on; its process exits non-zero so that a supervisor restarts it
   * (the committed offsets and seals say where the new member resumes).
   */
  readonly stopped: Promise<Error | null> = new Promise((resolve) => (this.settle = resolve));

  constructor(
    config: Pick<Config, 'kafka'>,
    private readonly options: MemberOptions,
  ) {
    this.log = logger(`member.${options.clientSuffix}`);
    this.consumer = new LowLevelConsumer(config, options.clientSuffix, {
      'group.id': options.group,
      'partition.assignment.strategy': 'range',
      'session.timeout.ms': options.sessionTimeoutMs ?? 10_000,
      'heartbeat.interval.ms': 1_000,
      'max.poll.interval.ms': 300_000,
      rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[]) => this.onRebalance(err, assignment),
    });
  }

  /** Serialises batches, ticks and rebalances. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.lock.then(work, work);
    this.lock = next.catch(() => undefined);
    return next;
  }

  async start(user: MemberUser): Promise<void> {
    this.user = user;
    await this.consumer.connect();
    this.consumer.client.subscribe(this.options.topics);
    this.loopDone = this.loop();
    const tickMs = this.options.tickMs ?? 500;
    this.timer = setInterval(() => void this.exclusive(() => (this.stopping ? Promise.resolve() : this.tick(user))).catch((err) => this.fail(err)), tickMs);
  }

  private async tick(user: MemberUser): Promise<void> {
    this.resumeUnheld();
    await user.tick(Date.now());
  }

  /**
   * Resumes every assigned partition that is not held. librdkafka drops a pause or resume request
   * that crosses a newer operation on the partition (an assign's restart of its fetcher), so a
   * released partition could stay paused; resuming one that is not paused costs a lock and nothing else.
   */
  private resumeUnheld(): void {
    if (this.held.size === 0 && !this.everHeld) return;
    this.consumer.resume([...this.next.values()].filter((p) => !this.held.has(tpKey(p.topic, p.partition))));
  }

  /** Stops the member for good: its user hit an error it cannot go on from. */
  fail(err: unknown): void {
    if (this.stopping) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.log.error('member_failed', { error: this.failure.message });
    void this.stop();
  }

  private onRebalance(err: LibrdKafkaError, assignment: TopicPartition[]): void {
    this.epoch += 1;
    const partitions = assignment.map((a) => ({ topic: a.topic, partition: a.partition }));
    if (err.code === ASSIGN) {
      void this.exclusive(async () => {
        const starts = await this.user!.assigned(partitions);
        const byKey = new Map(starts.map((s) => [tpKey(s.topic, s.partition), s]));
        const positions = partitions.map((p) => byKey.get(tpKey(p.topic, p.partition)) ?? { ...p, offset: -2n });
        this.next.clear();
        for (const p of positions) this.next.set(tpKey(p.topic, p.partition), p);
        this.epoch += 1;
        this.displaced = false;
        this.held.clear();
        this.consumer.assign(positions);
        // A pause may outlive an assignment in librdkafka: a new assignment starts with nothing held.
        this.consumer.resume(partitions);
        this.log.info('assigned', { partitions: partitions.length });
      }).catch((e) => this.fail(e));
    } else {
      const lost = this.consumer.assignmentLost();
      void this.exclusive(async () => {
        await this.user!.revoked(partitions, lost);
        this.next.clear();
        this.epoch += 1;
        this.displaced = false;
        this.held.clear();
        this.consumer.unassign();
        this.log.info('revoked', { partitions: partitions.length, lost });
      }).catch((e) => this.fail(e));
    }
  }

  /**
   * One consume is in flight while a batch is processed: librdkafka's binding gathers the next batch
   * in a worker thread (one at a time, the thread idled for every gather: ~30% of greeks' time). A
   * batch is tagged with the epoch at which it was requested. One gathered across an assignment
   * change may hold records past what was delivered, and so may the batches requested after it:
   * it is dropped, and with nothing in flight the consumer is sent back to the delivered positions
   * before the next request.
   */
  private async loop(): Promise<void> {
    let next = this.fetch();
    while (!this.stopping) {
      const { batch, epoch } = await next;
      if (this.stopping) break;
      if (epoch !== this.epoch) {
        if (batch && batch.count > 0) this.displaced = true;
        await this.exclusive(async () => this.seekToDelivered());
        next = this.fetch();
        continue;
      }
      next = this.fetch();
      if (!batch || (batch.count === 0 && batch.ends.length === 0)) continue;
      await this.exclusive(() => this.deliver(batch, epoch)).catch((err) => this.fail(err));
    }
    await next;
  }

  private async fetch(): Promise<{ batch: ConsumedBatch | null; epoch: number }> {
    const epoch = this.epoch;
    try {
      return { batch: await this.consumer.consume(this.options.maxBatch ?? DEFAULT_MAX_BATCH), epoch };
    } catch (err) {
      this.log.warn('consume_failed', { error: (err as Error).message });
      await new Promise((r) => setTimeout(r, 200));
      return { batch: null, epoch };
    }
  }

  /**
   * Sends the consumer back to the delivered positions, once per change: two assigns in quick
   * succession can abort the process in librdkafka 2.15 (a second FETCH_STOP for a partition whose
   * first is still pending trips `rktp->rktp_started`, confluentinc/librdkafka#5573, fixed after
   * 2.15.1). test/integration/member.test.ts hit it when every reposition assigned twice.
   */
  private seekToDelivered(): void {
    if (!this.displaced || this.next.size === 0 || this.stopping) return;
    this.displaced = false;
    this.consumer.assign([...this.next.values()]);
    this.consumer.pause([...this.held.values()]);
  }

  /** Records in offset order per partition, from the user's positions on, to the user. */
  private async deliver(batch: ConsumedBatch, epoch: number): Promise<void> {
    // The assignment changed after the batch was checked: the loop re-seeks before the next request.
    if (this.stopping || epoch !== this.epoch) return;
    if (batch.count > 0) this.lastRecordsMs = Date.now();
    const ends = batch.ends.filter((e) => this.next.has(tpKey(e.topic, e.partition)));
    await this.user!.fetched(this.deliverable(batch.records), ends);
  }

  /** The records the user has not had yet, each moving its partition's position as it is handed over. */
  private *deliverable(records: Iterable<ConsumedRecord>): Generator<ConsumedRecord, void, undefined> {
    // A batch comes in runs of one partition: its position is looked up once a run.
    let next: TopicPartitionOffset | undefined;
    for (const r of records) {
      if (next === undefined || r.partition !== next.partition || r.topic !== next.topic) next = this.next.get(tpKey(r.topic, r.partition));
      if (!next || (next.offset >= 0n && r.offset < next.offset)) continue;
      next.offset = r.offset + 1n;
      yield r;
    }
  }

  /**
   * Holds assigned partitions back until released. librdkafka purges what it queued for a paused
   * partition and resumes it after the last record it returned to this member, so a hold skips
   * nothing (records returned twice are dropped by offset). A batch already in flight may still
   * carry records of a partition just held.
   */
  hold(partitions: readonly TopicPartition[]): void {
    const fresh = partitions.filter((p) => this.next.has(tpKey(p.topic, p.partition)) && !this.held.has(tpKey(p.topic, p.partition)));
    for (const p of fresh) this.held.set(tpKey(p.topic, p.partition), { topic: p.topic, partition: p.partition });
    if (fresh.length > 0) this.everHeld = true;
    this.consumer.pause(fresh);
  }

  /** Fetches held partitions again. */
  release(partitions: readonly TopicPartition[]): void {
    const heldNow = partitions.filter((p) => this.held.delete(tpKey(p.topic, p.partition)));
    this.consumer.resume(heldNow);
  }

  isHeld(topic: string, partition: number): boolean {
    return this.held.has(tpKey(topic, partition));
  }

  /** Whether partition p of some subscribed topic is assigned here, and not lost. */
  ownsPartition(partition: number): boolean {
    if (this.consumer.assignmentLost()) return false;
    for (const p of this.next.values()) if (p.partition === partition) return true;
    return false;
  }

  /**
   * Restarts assigned partitions from the given offsets (a task rebuilt after an aborted transaction).
   * The request in flight is now stale: the loop drops its batch and assigns the new positions then.
   */
  reposition(starts: readonly TopicPartitionOffset[]): void {
    for (const s of starts) if (this.next.has(tpKey(s.topic, s.partition))) this.next.set(tpKey(s.topic, s.partition), { ...s });
    this.epoch += 1;
    this.displaced = true;
  }

  /**
   * Graceful stop: the user's revoke (final commits) runs when the group is left. After a failure the
   * partitions are revoked as lost: nothing more is committed.
   */
  async stop(): Promise<void> {
    if (this.stopping) return this.stopped.then(() => undefined);
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.loopDone?.catch(() => undefined);
    await this.exclusive(async () => undefined);
    const assigned = [...this.next.values()].map((p) => ({ topic: p.topic, partition: p.partition }));
    if (assigned.length > 0) await this.exclusive(() => this.user!.revoked(assigned, this.failure !== null)).catch(() => undefined);
    this.next.clear();
    await this.consumer.disconnect().catch(() => undefined);
    this.settle(this.failure);
  }
}

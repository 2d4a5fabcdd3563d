/**
 * Live Massive WebSocket feed → the market topics (DESIGN 2, 3, 4).
 *
 * socket reader ──(sync parse)──▶ BoundedBuffer ──(drain loop)──▶ idempotent Kafka producer
 *
 * - Records are Avro (Confluent wire format), keyed by underlying; rejected events go to
 *   `<topic>.dlq` as DeadLetter (frames whose topic is unknown: `equity.trades.dlq`).
 * - The buffer never blocks the reader: on overflow the event is dropped, counted
 *   (optflow_ws_dropped_total) and warned about (at most once per 10 s).
 * - Idempotent, not transactional: live data has no replay source to be exactly-once against.
 *   A reconnect duplicates nothing, since the server does not re-send frames delivered on an
 *   earlier connection (it resumes with new events, which is why gaps are counted instead); a
 *   broker retry is deduplicated by the idempotent producer. Should a duplicate ever arise,
 *   downstream can drop it with the dedupe key (ticker, sip_timestamp, sequence/id, price, size).
 * - Heartbeat: every heartbeat_ms, for each partition number whose (max event time produced to it
 *   − watermark_lag_ms) advanced, a watermark marker (null value, header `watermark`) goes to that
 *   partition of the feed's two market topics (watermark.ts). Markers are sent by the drain loop
 *   between batches, so a marker never precedes a record it covers.
 */
import { createRegistry, TopicSerde } from '../../avro/serde';
import { physicalName, type Config } from '../../config';
import type { DeadLetter } from '../../domain/records';
import { Admin, createAdmin } from '../../kafka/client';
import { OutgoingMessage, RecordProducer } from '../../kafka/producer';
import { ProcessMetrics } from '../../kafka/metrics';
import { markerMessages, topicPartitions } from '../../kafka/markers';
import { partitionOf } from '../../kafka/partitioner';
import { logger } from '../../util/log';
import { requireTopics } from '../../kafka/topics';
import { BoundedBuffer } from './buffer';
import { FALLBACK_DLQ_TOPIC, FEED_TOPICS, type Feed, type FrameItem, type MarketTopic, type RecordEvent, type Rejection, type WsRecord } from './frames';
import { SequenceTracker } from './sequence';
import { MassiveSession } from './session';
import { PartitionHeartbeats } from './watermark';

const log = logger('ws.producer');
const DROP_WARN_INTERVAL_MS = 10_000;

type Item = RecordEvent | Rejection;

export interface WebSocketProducerOptions {
  feed: Feed;
  /** Overrides config.websocket.subscriptions[feed]. */
  subscriptions?: string;
  apiKey: string;
  metricsPort?: number;
}

export class WebSocketProducer {
  readonly metrics: ProcessMetrics;
  private readonly meters;
  private readonly buffer: BoundedBuffer<Item>;
  private readonly sequences = new SequenceTracker();
  private readonly heartbeats: PartitionHeartbeats;
  private readonly universe: Set<string> | null;
  private admin!: Admin;
  private producer!: RecordProducer;
  private session!: MassiveSession;
  private readonly serdes = new Map<MarketTopic, TopicSerde<WsRecord>>();
  private readonly dlqSerdes = new Map<MarketTopic, TopicSerde<DeadLetter>>();
  private partitions = new Map<string, number[]>();
  private stopping = false;
  private fatal: Error | null = null;
  private lastDropWarn = 0;
  private heartbeatDue = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private drained: Promise<void> | null = null;
  private metricsServer: { close(): Promise<void> } | undefined;

  constructor(
    private readonly config: Config,
    private readonly options: WebSocketProducerOptions,
  ) {
    this.buffer = new BoundedBuffer<Item>(config.websocket.buffer_records);
    this.heartbeats = new PartitionHeartbeats(config.websocket.watermark_lag_ms);
    const u = config.universe.underlyings;
    this.universe = u.includes('*') ? null : new Set(u);
    this.metrics = new ProcessMetrics({ process: `ws-${options.feed}` });
    const m = this.metrics;
    this.meters = {
      records: m.counter('optflow_ws_records_total', 'records produced', ['topic']),
      dlq: m.counter('optflow_dlq_total', 'events sent to the DLQ', ['reason']),
      dropped: m.counter('optflow_ws_dropped_total', 'events dropped because the buffer was full'),
      filtered: m.counter('optflow_ws_filtered_total', 'events outside the universe'),
      ignored: m.counter('optflow_ws_ignored_total', 'events of types other than T and Q', ['ev']),
      gaps: m.counter('optflow_ws_sequence_gaps_total', 'per-symbol sequence gaps'),
      missing: m.counter('optflow_ws_sequence_missing_total', 'sequence numbers skipped in gaps'),
      regressions: m.counter('optflow_ws_sequence_regressions_total', 'sequence numbers at or below the last seen'),
      reconnects: m.counter('optflow_ws_connects_total', 'WebSocket connection attempts'),
      buffered: m.gauge('optflow_ws_buffer_records', 'events waiting for Kafka'),
      watermark: m.gauge('optflow_ws_watermark_ns', 'last heartbeat watermark sent per partition (ns, as a double)', ['partition']),
    };
  }

  get stats(): { dropped: number; gaps: number; regressions: number; buffered: number; connects: number } {
    return {
      dropped: this.buffer.dropped, gaps: this.sequences.gaps, regressions: this.sequences.regressions,
      buffered: this.buffer.size, connects: this.session?.stats.connects ?? 0,
    };
  }

  /** Sets up topics, schemas and the producer, then connects. Returns once running. */
  async start(): Promise<void> {
    const config = this.config;
    const topics = FEED_TOPICS[this.options.feed];
    this.admin = createAdmin(config, `ws-${this.options.feed}-admin`);
    await this.admin.connect();
    const registry = createRegistry(config.schema_registry);
    const dlqTopics = [...new Set([...topics, FALLBACK_DLQ_TOPIC])];
    const wanted = [...topics.map((t) => physicalName(config, t)), ...dlqTopics.map((t) => physicalName(config, `${t}.dlq`))];
    await requireTopics(this.admin, wanted);
    for (const t of topics) this.serdes.set(t, await TopicSerde.forTopic<WsRecord>(registry, physicalName(config, t), schemaOf(t)));
    for (const t of dlqTopics) this.dlqSerdes.set(t, await TopicSerde.forTopic<DeadLetter>(registry, physicalName(config, `${t}.dlq`), 'DeadLetter'));
    this.partitions = await topicPartitions(this.admin, topics.map((t) => physicalName(config, t)));
    this.producer = await RecordProducer.connect(config, { clientSuffix: `ws-${this.options.feed}` });
    this.metricsServer = await this.metrics.serve(config, this.options.metricsPort);
    const ws = config.websocket;
    this.session = new MassiveSession({
      feed: this.options.feed,
      url: this.options.feed === 'stocks' ? ws.url_stocks : ws.url_options,
      apiKey: this.options.apiKey,
      subscriptions: this.options.subscriptions ?? ws.subscriptions[this.options.feed],
      rootMap: config.universe.roots,
      backoff: { initialMs: ws.initial_backoff_ms, maxMs: ws.max_backoff_ms },
      onItem: (item) => this.onItem(item),
      onFatal: (err) => {
        this.fatal = err;
        this.stopping = true;
        this.buffer.wake();
      },
    });
    this.heartbeatTimer = setInterval(() => {
      this.heartbeatDue = true;
    }, ws.heartbeat_ms);
    this.drained = this.drainLoop();
    this.session.start();
    this.meters.reconnects.inc();
  }

  /** Resolves when the producer stopped (stop() or a fatal error); rejects with the fatal error. */
  async finished(): Promise<void> {
    await this.drained;
    if (this.fatal) throw this.fatal;
  }

  /** Graceful: disconnect the socket, produce everything buffered, send a last marker, close. */
  async stop(): Promise<void> {
    await this.session?.stop();
    this.stopping = true;
    this.buffer.wake();
    await this.drained?.catch(() => undefined);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    await this.metricsServer?.close();
    log.info('stopped', this.stats);
  }

  /** Socket reader side: synchronous, never waits. */
  private onItem(item: Exclude<FrameItem, { kind: 'status' }>): void {
    if (item.kind === 'ignored') {
      this.meters.ignored.inc({ ev: item.ev });
      return;
    }
    if (item.kind === 'record') {
      const verdict = this.sequences.observe(item.stream, item.record.sequence_number);
      if (verdict.kind === 'gap') {
        this.meters.gaps.inc();
        this.meters.missing.inc(Number(verdict.missing));
        log.debug('sequence_gap', { stream: item.stream, missing: verdict.missing });
      } else if (verdict.kind === 'regression') this.meters.regressions.inc();
      if (this.universe && !this.universe.has(item.key)) {
        this.meters.filtered.inc();
        return;
      }
    }
    if (!this.buffer.push(item)) {
      this.meters.dropped.inc();
      const now = Date.now();
      if (now - this.lastDropWarn >= DROP_WARN_INTERVAL_MS) {
        this.lastDropWarn = now;
        log.warn('buffer_full_dropping', { capacity: this.buffer.capacity, dropped_total: this.buffer.dropped });
      }
    }
  }

  private async drainLoop(): Promise<void> {
    const batch = this.config.websocket.batch_records;
    for (;;) {
      if (this.buffer.size === 0) {
        if (this.stopping) break;
        if (this.heartbeatDue) await this.sendHeartbeat();
        await this.buffer.wait(Math.min(this.config.websocket.heartbeat_ms, 250));
        continue;
      }
      const items = this.buffer.take(batch);
      this.meters.buffered.set(this.buffer.size);
      await this.sendWithRetry(items);
      if (this.heartbeatDue) await this.sendHeartbeat();
    }
    this.heartbeatDue = true;
    await this.sendHeartbeat().catch((err: Error) => log.warn('final_marker_failed', { error: err.message }));
  }

  /** A batch the client could not deliver after its own retries is retried until it is (or we stop). */
  private async sendWithRetry(items: Item[]): Promise<void> {
    const messages = this.encode(items);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.producer.send(messages);
        break;
      } catch (err) {
        if (this.stopping && attempt >= 2) {
          log.error('send_failed_giving_up', { records: items.length, error: (err as Error).message });
          return;
        }
        log.warn('send_failed_retrying', { records: items.length, error: (err as Error).message });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    for (const item of items) {
      if (item.kind === 'record') {
        this.heartbeats.observe(this.partitionOf(item.topic, item.key), item.record.sip_timestamp);
        this.meters.records.inc({ topic: item.topic });
      } else this.meters.dlq.inc({ reason: item.reason });
    }
  }

  private encode(items: Item[]): OutgoingMessage[] {
    const out: OutgoingMessage[] = [];
    const add = (topic: string, message: Omit<OutgoingMessage, 'topic'>): void => {
      out.push({ topic, ...message });
    };
    for (const item of items) {
      if (item.kind === 'record') {
        const serde = this.serdes.get(item.topic)!;
        add(serde.topic, { key: item.key, value: serde.encode(item.record), partition: this.partitionOf(item.topic, item.key) });
      } else {
        const serde = this.dlqSerdes.get(item.topic) ?? this.dlqSerdes.get(FALLBACK_DLQ_TOPIC)!;
        const letter: DeadLetter = {
          reason: item.reason, detail: item.detail, origin: item.origin, position: item.position,
          partition: null, event_time: null, raw: Buffer.from(item.raw, 'utf8'), recorded_at_ms: BigInt(Date.now()),
        };
        log.debug('dead_letter', { reason: item.reason, detail: item.detail });
        add(serde.topic, { key: item.key ?? item.origin, value: serde.encode(letter) });
      }
    }
    return out;
  }

  /** The partition the default partitioner gives the key: heartbeats must know it before sending. */
  private partitionOf(topic: MarketTopic, key: string): number {
    return partitionOf(key, this.partitions.get(physicalName(this.config, topic))!.length);
  }

  private async sendHeartbeat(): Promise<void> {
    this.heartbeatDue = false;
    const due = this.heartbeats.due();
    if (due.size === 0) return;
    const messages = [...this.partitions.keys()].flatMap((topic) => [...due].flatMap(([partition, wm]) => markerMessages(topic, [partition], wm)));
    try {
      await this.producer.send(messages);
      for (const [partition, wm] of due) {
        this.heartbeats.sent(partition, wm);
        this.meters.watermark.set({ partition: String(partition) }, Number(wm));
      }
    } catch (err) {
      log.warn('marker_failed', { error: (err as Error).message });
    }
  }
}

function schemaOf(topic: MarketTopic): 'EquityTrade' | 'EquityQuote' | 'OptionTrade' | 'OptionQuote' {
  return ({ 'equity.trades': 'EquityTrade', 'equity.quotes': 'EquityQuote', 'option.trades': 'OptionTrade', 'option.quotes': 'OptionQuote' } as const)[topic];
}

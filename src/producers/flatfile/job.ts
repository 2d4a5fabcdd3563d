/**
 * `optflow produce flatfile`: plan days from the listing, ingest each file (ingest.ts) with a
 * transactional producer whose transactional.id is stable per job (a restarted job fences its dead
 * predecessor and aborts its open transaction before reading the checkpoints), send end-of-day
 * watermark markers once a day's files are all in, and with --follow poll for new and re-published days.
 */
import { setFlagsFromString } from 'node:v8';
import { createRegistry, TopicSerde } from '../../avro/serde';
import { physicalName, type Config } from '../../config';
import type { DeadLetter } from '../../domain/records';
import { Admin, createAdmin } from '../../kafka/client';
import { OutgoingMessage, RecordProducer } from '../../kafka/producer';
import { markerMessages, topicPartitions } from '../../kafka/markers';
import { ProcessMetrics } from '../../kafka/metrics';
import { durabilityOf, requireTopics } from '../../kafka/topics';
import { logger } from '../../util/log';
import { dayKey, fileAction, sameFiles, type DayCheckpoint, type FileAction, type FileCheckpoint } from './ingest/checkpoint';
import type { Dataset } from './datasets';
import { commitFailure, CorruptFileError, disposeDay, produceDay, readDayFile, readTradeTimes, type DayFile, READ_AHEAD_TAG, type DayReduction, type IngestPorts, type IngestSettings } from './ingest/day';
import { QuoteReduction, type TradeTimes } from './ingest/quote-reduction';
import { EncodingPool } from './encode/encoding-pool';
import { encodeInline, type EncodingSpec } from './encode/file-encoding';
import type { MarketRecord } from './parse/normalise';
import { listingRequests, planDays, type PlannedDay, type PlannedFile } from './ingest/planner';
import { newFileProgress, summaryRow, type FileProgress, type SummaryRow } from './ingest/progress';
import { ProgressView } from './ingest/progress-view';
import { LocalSource, massiveCredentials, S3Source, type FlatFileSource } from './ingest/source';
import { ensureStateTopics, loadPriorHashes, loadState, stateTopics, type LoadedState, type StateTopics } from './ingest/state';
import { dayWatermarkNs } from './ingest/watermark';

const log = logger('flatfile');

/**
 * The old generation may triple between full collections (V8's default grows it by its own estimate,
 * here about 1.2×). The producer keeps a small live heap and moves gigabytes through it, so the old
 * generation filled every ~100 ms and most of its collections marked nothing new. Measured on
 * bench:flatfile's pipeline: 13.4 → 10.6 s of CPU, 10.0 → 8.4 s of wall; on the real-size day, about
 * 5 s of CPU and 2–3 s of wall. V8 reads the flag at each collection, so setting it here takes effect.
 */
const HEAP_GROWING = '--heap-growing-percent=200';

export interface FlatfileJobOptions {
  from: string;
  to: string;
  datasets: readonly Dataset[];
  follow: boolean;
  localDir?: string;
  metricsPort?: number;
  /** Names the transactional id; two jobs with the same name fence each other. */
  jobName: string;
  progress: 'tty' | 'log';
  signal?: AbortSignal;
}

export interface FlatfileJobReport {
  rows: SummaryRow[];
  failed: string[];
}

type Metrics = ReturnType<typeof createMetrics>;

function createMetrics(m: ProcessMetrics) {
  return {
    rowsRead: m.counter('optflow_flatfile_rows_read_total', 'data lines read', ['dataset']),
    bytesRead: m.counter('optflow_flatfile_bytes_read_total', 'compressed bytes read', ['dataset']),
    recordsOut: m.counter('optflow_records_out_total', 'records committed', ['topic']),
    filtered: m.counter('optflow_flatfile_filtered_total', 'rows outside the universe', ['dataset']),
    dlq: m.counter('optflow_dlq_total', 'rows sent to the DLQ', ['reason']),
    duplicates: m.counter('optflow_flatfile_duplicates_total', 'items of a re-published file already produced', ['dataset']),
    quotesSkipped: m.counter('optflow_flatfile_option_quotes_skipped_total', 'option quotes no trade of the day can see, not sent (massive.reduce_option_quotes)', ['dataset']),
    files: m.counter('optflow_flatfile_files_total', 'files finished', ['status']),
    transactions: m.counter('optflow_transactions_total', 'committed transactions'),
    watermark: m.gauge('optflow_flatfile_watermark_seconds', 'last end-of-day watermark sent, Unix seconds'),
  };
}

export function createSource(config: Config, localDir: string | undefined): FlatFileSource {
  const dir = localDir ?? (config.massive.local_dir || undefined);
  if (dir) return new LocalSource(dir);
  return new S3Source({ endpoint: config.massive.endpoint, bucket: config.massive.bucket, region: config.massive.region, ...massiveCredentials(process.env) });
}

export class FlatfileJob {
  private admin!: Admin;
  private producer!: RecordProducer;
  private state!: LoadedState;
  private readonly topics: StateTopics;
  private readonly serdes = new Map<string, TopicSerde<MarketRecord>>();
  private readonly dlqSerdes = new Map<string, TopicSerde<DeadLetter>>();
  private readonly metrics = new ProcessMetrics({ process: 'flatfile' });
  private readonly meters: Metrics;
  private readonly view: ProgressView;
  /** file key + ETag that failed in this process: a --follow poll does not retry them every cycle. */
  private readonly failedHere = new Set<string>();
  private readonly results = new Map<string, FileProgress>();
  /** Partitions of each market topic, for markers. */
  private partitions = new Map<string, number[]>();
  /** The day that failed in this process: no later day is produced after it. */
  private failedDay: string | null = null;
  private readonly encodingPool: EncodingPool | null;

  constructor(private readonly config: Config, private readonly source: FlatFileSource, private readonly options: FlatfileJobOptions) {
    this.topics = stateTopics(config);
    this.meters = createMetrics(this.metrics);
    this.view = new ProgressView(options.progress, log);
    this.encodingPool = config.massive.encoding_threads > 0 ? new EncodingPool(config.massive.encoding_threads) : null;
  }

  async run(): Promise<FlatfileJobReport> {
    setFlagsFromString(HEAP_GROWING);
    const server = await this.metrics.serve(this.config, this.options.metricsPort);
    if (server) log.info('metrics', { port: server.port });
    await this.connect();
    this.view.start();
    try {
      for (;;) {
        await this.cycle();
        if (!this.options.follow || this.aborted()) break;
        await this.sleep(this.config.massive.poll_seconds * 1000);
        if (this.aborted()) break;
      }
    } finally {
      this.view.stop();
      await this.producer.disconnect().catch(() => undefined);
      await this.admin.disconnect().catch(() => undefined);
      await server?.close();
      this.source.close();
      await this.encodingPool?.close();
    }
    const now = Date.now();
    const rows = [...this.results.values()].filter((p) => p.phase !== 'skipped').map((p) => summaryRow(p, now));
    return { rows, failed: [...this.results.values()].filter((p) => p.phase === 'failed').map((p) => p.key) };
  }

  private aborted(): boolean {
    return this.options.signal?.aborted ?? false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.options.signal;
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done);
    });
  }

  private async connect(): Promise<void> {
    this.admin = createAdmin(this.config, 'flatfile-admin');
    await this.admin.connect();
    const registry = createRegistry(this.config.schema_registry);
    const wanted = this.options.datasets.flatMap((d) => [physicalName(this.config, d.topic), physicalName(this.config, `${d.topic}.dlq`)]);
    await requireTopics(this.admin, wanted);
    for (const d of this.options.datasets) {
      this.serdes.set(d.id, await TopicSerde.forTopic<MarketRecord>(registry, physicalName(this.config, d.topic), d.kind));
      this.dlqSerdes.set(d.id, await TopicSerde.forTopic<DeadLetter>(registry, physicalName(this.config, `${d.topic}.dlq`), 'DeadLetter'));
    }
    await ensureStateTopics(this.admin, this.topics, this.config.massive.dedupe_retention_days, durabilityOf(this.config));
    this.partitions = await topicPartitions(this.admin, this.options.datasets.map((d) => physicalName(this.config, d.topic)));
    // Initialising the transactional id fences a dead predecessor and aborts its open transaction,
    // so the checkpoints read next are exactly what is committed.
    this.producer = await RecordProducer.connect(this.config, {
      clientSuffix: 'flatfile',
      transactionalId: physicalName(this.config, `optflow.flatfile.${this.options.jobName}`),
      transactionTimeoutMs: 120_000,
    });
    this.state = await loadState(this.config, this.topics);
    log.info('state_loaded', { files: this.state.files.size, days: this.state.days.size });
  }

  private async cycle(): Promise<void> {
    const days = await this.plan();
    for (const [index, day] of days.entries()) {
      if (this.aborted() || this.failedDay !== null) return;
      if (this.options.follow && day.missing.length > 0 && index === days.length - 1) {
        // Its other datasets may still be publishing; a later day's arrival says they are not coming.
        log.info('day_waiting', { date: day.date, missing: day.missing });
        return;
      }
      await this.ingestDay(day, index, days.length);
    }
    this.view.show(null);
  }

  private async plan(): Promise<PlannedDay[]> {
    const { from, to, datasets } = this.options;
    const template = this.config.massive.key_template;
    const listed = [];
    for (const request of listingRequests(template, datasets, from, to)) listed.push(...(await this.source.list(request.prefix)));
    const days = planDays(template, datasets, from, to, listed);
    log.info('planned', { source: this.source.description, days: days.length, files: days.reduce((n, d) => n + d.files.length, 0) });
    return days;
  }

  private async ingestDay(day: PlannedDay, index: number, count: number): Promise<void> {
    const progress = day.files.map((f) => newFileProgress(f.key, f.dataset.shortName, f.size, Date.now()));
    this.view.show({ date: day.date, index, count, files: progress });
    const read: DayFile[] = [];
    const slots: (DayFile | null)[] = day.files.map(() => null);
    // Trade times are gathered only for a day whose option quotes they reduce.
    const reduce = this.config.massive.reduce_option_quotes && day.files.some((f) => f.dataset.kind === 'OptionQuote');
    const trades = day.files.find((f) => f.dataset.kind === 'OptionTrade');
    let tradeTimes: TradeTimes | null = null;
    try {
      // Option trades are read before option quotes: the quotes' reduction needs the day's trades.
      const order = [...day.files.keys()].sort((a, b) => Number(day.files[a].dataset.kind === 'OptionQuote') - Number(day.files[b].dataset.kind === 'OptionQuote'));
      for (const i of order) {
        const file = day.files[i];
        if (this.aborted()) return;
        let dayReduction: DayReduction | null = null;
        if (reduce && trades !== undefined && file.dataset.kind === 'OptionQuote') {
          tradeTimes ??= await readTradeTimes(trades, this.source, this.settings());
          dayReduction = { by: `${trades.key}@${trades.etag}${READ_AHEAD_TAG}`, reduction: new QuoteReduction(tradeTimes), readAhead: true };
        }
        const collectTrades = reduce && file === trades;
        const result = await this.readWithRetries(file, progress[i], day.files.length, { collectTrades, dayReduction });
        if (progress[i].phase !== 'skipped' || !this.results.has(file.key)) this.results.set(file.key, progress[i]);
        if (result === 'failed') {
          this.failedDay = day.date;
          log.error('day_failed', { date: day.date, file: file.key, note: 'nothing of this day is produced, nor any later day; a re-publication of the file is picked up by the next run, or start after it with --from' });
          return;
        }
        if (result !== 'skipped') {
          slots[i] = result;
          read.push(result);
          if (collectTrades) tradeTimes = result.read.tradeTimes;
        }
      }
      if (read.length > 0) await this.produce(slots.filter((f): f is DayFile => f !== null));
    } finally {
      await disposeDay(read);
    }
    await this.maybeSendMarkers(day);
  }

  private decide(file: PlannedFile): (etag: string) => FileAction {
    return (etag) => fileAction(this.state.files.get(file.key), etag, !this.failedHere.has(`${file.key}\n${etag}`));
  }

  private async readWithRetries(file: PlannedFile, progress: FileProgress, filesInDay: number, options: Parameters<typeof readDayFile>[5]): Promise<DayFile | 'skipped' | 'failed'> {
    if (this.decide(file)(file.etag).kind === 'skip') {
      progress.phase = 'skipped';
      return 'skipped';
    }
    for (let attempt = 1; ; attempt++) {
      try {
        log.info('file_start', { file: file.key, etag: file.etag, bytes: file.size });
        progress.startedAtMs = progress.phaseStartedAtMs = Date.now();
        const reader = {
          source: this.source, schemaId: this.serdes.get(file.dataset.id)!.schemaId, decide: this.decide(file), priorHashes: this.ports().priorHashes,
          encoding: (spec: EncodingSpec) => this.encodingPool?.encode(spec) ?? encodeInline(spec),
        };
        const result = await readDayFile(file, reader, this.settings(), progress, filesInDay, options);
        if (!('skipped' in result)) return result;
        progress.phase = 'skipped';
        return 'skipped';
      } catch (err) {
        const retriable = !(err instanceof CorruptFileError) && attempt < 3 && !this.aborted();
        if (!retriable) {
          await this.fileFailed(file, progress, err as Error);
          return 'failed';
        }
        log.warn('file_retry', { file: file.key, attempt, error: (err as Error).message });
        Object.assign(progress, newFileProgress(file.key, file.dataset.shortName, file.size, Date.now()));
        await this.sleep(1000 * attempt);
      }
    }
  }

  private async produce(files: DayFile[]): Promise<void> {
    const results = await produceDay(files, this.settings(), this.ports());
    for (const [i, { vanished }] of results.entries()) {
      const { file, progress } = files[i];
      progress.phase = 'done';
      progress.finishedAtMs = Date.now();
      this.countFile(file.dataset, progress);
      if (vanished > 0) {
        log.warn('republished_rows_vanished', { file: file.key, count: vanished, note: 'they stay downstream; no retraction is emitted' });
      }
      log.info('file_done', { file: file.key, produced: progress.produced, dead_letters: progress.deadLetters, duplicates: progress.duplicates, quotes_skipped: progress.quotesSkipped, seconds: (progress.finishedAtMs - progress.startedAtMs) / 1000 });
    }
  }

  private settings(): IngestSettings {
    const c = this.config;
    return {
      universe: c.universe.underlyings.includes('*') ? '*' : c.universe.underlyings,
      rootMap: c.universe.roots,
      sortMemoryRecords: c.massive.sort_memory_records,
      spillDir: c.massive.spill_dir || undefined,
      transactionRecords: c.massive.transaction_records,
    };
  }

  private ports(): IngestPorts {
    return {
      producer: this.producer,
      stateTopics: this.topics,
      serdeFor: (d) => this.serdes.get(d.id)!,
      deadLetterSerdeFor: (d) => this.dlqSerdes.get(d.id)!,
      priorHashes: (key, generation) => loadPriorHashes(this.config, this.topics, key, generation),
      markerPartitions: this.partitions,
      onCommit: (checkpoints) => {
        for (const c of checkpoints) this.state.files.set(c.key, { ...c });
        this.meters.transactions.inc();
      },
    };
  }

  private countFile(dataset: Dataset, p: FileProgress): void {
    this.meters.rowsRead.inc({ dataset: dataset.shortName }, p.rowsRead);
    this.meters.bytesRead.inc({ dataset: dataset.shortName }, p.bytesRead);
    this.meters.filtered.inc({ dataset: dataset.shortName }, p.filtered);
    this.meters.duplicates.inc({ dataset: dataset.shortName }, p.duplicates);
    if (p.quotesSkipped > 0) this.meters.quotesSkipped.inc({ dataset: dataset.shortName }, p.quotesSkipped);
    this.meters.recordsOut.inc({ topic: dataset.topic }, p.produced);
    for (const [reason, n] of Object.entries(p.invalid)) if (n) this.meters.dlq.inc({ reason }, n);
    this.meters.files.inc({ status: p.phase });
  }

  private async fileFailed(file: PlannedFile, progress: FileProgress, err: Error): Promise<void> {
    progress.phase = 'failed';
    progress.error = err.message;
    progress.finishedAtMs = Date.now();
    this.meters.files.inc({ status: 'failed' });
    this.view.note(`FAILED ${file.key}: ${err.message}`);
    log.error('file_failed', { file: file.key, error: err.message, note: 'nothing from this file was produced past its last checkpoint' });
    if (!(err instanceof CorruptFileError)) throw err;
    this.failedHere.add(`${file.key}\n${file.etag}`);
    const previous = this.state.files.get(file.key);
    const failed: FileCheckpoint = {
      key: file.key, etag: file.etag, status: 'failed', generation: previous?.generation ?? 0, position: 0, producedRecords: 0,
      deadLetters: 0, priorEmitted: previous?.priorEmitted ?? 0, error: err.message, updatedAtMs: Date.now(),
    };
    // A failed new version keeps the earlier versions' accounting so a later fix still dedupes.
    if (previous && previous.etag !== file.etag) {
      failed.generation = previous.generation + 1;
      failed.priorEmitted = previous.priorEmitted + previous.producedRecords + previous.deadLetters;
    }
    await commitFailure(this.ports(), failed);
    this.state.files.set(file.key, failed);
  }

  /** Watermark markers to every partition of the day's market topics, once all its files are in. */
  private async maybeSendMarkers(day: PlannedDay): Promise<void> {
    const checkpoints = day.files.map((f) => this.state.files.get(f.key));
    const complete = checkpoints.every((c, i) => c?.status === 'done' && c.etag === day.files[i].etag);
    if (!complete) {
      log.warn('day_incomplete', { date: day.date, note: 'no watermark markers for this day until all its files are in' });
      return;
    }
    if (this.options.follow && day.missing.length > 0) {
      log.info('day_waiting', { date: day.date, missing: day.missing });
      return;
    }
    const files = Object.fromEntries(day.files.map((f) => [f.key, f.etag]));
    const previous = this.state.days.get(day.date);
    if (previous && sameFiles(previous.files, files)) return;
    const maxEvent = checkpoints.reduce<bigint | null>((m, c) => {
      const t = c?.maxEventTimeNs ? BigInt(c.maxEventTimeNs) : null;
      return t !== null && (m === null || t > m) ? t : m;
    }, null);
    const watermark = dayWatermarkNs(day.date, maxEvent);
    await this.sendMarkers(watermark, { date: day.date, watermarkNs: watermark.toString(), files });
    if (day.missing.length > 0) log.warn('day_partial', { date: day.date, missing: day.missing, note: 'markers sent for the datasets present' });
  }

  private async sendMarkers(watermark: bigint, checkpoint: DayCheckpoint): Promise<void> {
    const topics = [...this.partitions.keys()];
    const messages: OutgoingMessage[] = [...this.partitions].flatMap(([topic, partitions]) => markerMessages(topic, partitions, watermark));
    messages.push({ topic: this.topics.progress, key: dayKey(checkpoint.date), value: Buffer.from(JSON.stringify(checkpoint)) });
    await this.producer.inTransaction(messages);
    this.state.days.set(checkpoint.date, checkpoint);
    this.meters.watermark.set(Number(watermark / 1_000_000n) / 1000);
    log.info('watermark_markers', { date: checkpoint.date, watermark_ns: watermark.toString(), topics });
  }
}

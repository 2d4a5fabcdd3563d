import { createRegistry } from '../avro/serde';
import { Config } from '../config';
import { createAdmin } from '../kafka/client';
import { applyTopology } from '../../topology/apply';
import { ProcessorRuntime } from '../processors/runtime/runtime';
import { ParquetSink } from '../sinks/parquet/parquet-sink';
import { logger } from '../util/log';
import { PROCESSORS } from '../../topology/processors';
import { buildTopology } from '../../topology/topology';
import { loadConfig } from '../config';
import { createSource, FlatfileJob } from '../producers/flatfile/job';
import { DATASETS } from '../producers/flatfile/datasets';
import { summaryTable } from '../producers/flatfile/ingest/progress';
import { parseFlags, stringFlag, UsageError } from './args';
import { firstFailure, untilStopped } from './lifetime';

const log = logger('run-all');

/** The processors and sinks of the topology in one process (single-machine use, the demo). */
export class TopologyRunner {
  readonly runtimes: ProcessorRuntime[];
  readonly sinks: ParquetSink[];

  constructor(private readonly config: Config, options: { processors: string[]; out: string | null }) {
    this.runtimes = PROCESSORS.filter((p) => options.processors.includes(p.name)).map((def) => new ProcessorRuntime(config, def));
    const topology = buildTopology({ topics: { ...config.topics, prefix: '' } });
    this.sinks =
      options.out === null
        ? []
        : topology.sinks.map((s) => new ParquetSink(config, topology.topics.find((t) => t.name === s.topic)!.schema, { topic: s.topic, out: options.out! }));
  }

  /** Applies the topology (idempotent: topics, schemas), then starts every processor and sink. */
  async start(): Promise<void> {
    const admin = createAdmin(this.config, 'run-all');
    await admin.connect();
    try {
      await applyTopology(this.config, admin, createRegistry(this.config.schema_registry), buildTopology(this.config));
    } finally {
      await admin.disconnect();
    }
    await Promise.all([...this.runtimes.map((r) => r.start()), ...this.sinks.map((s) => s.start())]);
    log.info('started', { processors: this.runtimes.length, sinks: this.sinks.length });
  }

  /** Milliseconds since any component last saw a record or published a file. */
  idleMs(): number {
    const last = Math.max(...this.runtimes.map((r) => r.lastActivityMs), ...this.sinks.map((s) => s.lastActivityMs));
    return Date.now() - last;
  }

  /** The first component that stopped by a failure, or null once all stopped cleanly. */
  get stopped(): Promise<Error | null> {
    return firstFailure([...this.runtimes, ...this.sinks].map((c) => c.stopped));
  }

  /** Graceful: processors commit and leave, then sinks publish their open segments. */
  async stop(): Promise<void> {
    await Promise.all(this.runtimes.map((r) => r.stop()));
    await Promise.all(this.sinks.map((s) => s.stop()));
  }
}

const USAGE =
  'usage: optflow run-all [--processors greeks,features] [--out <dir|s3://...> | --no-sinks]\n' +
  '                       [--from YYYY-MM-DD [--to YYYY-MM-DD] [--local <dir>] [--follow]]';

/** `optflow run-all`: processors, sinks and (optionally) the flatfile producer in one process, until SIGTERM. */
export async function runAllCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    processors: { type: 'string' },
    out: { type: 'string' },
    'no-sinks': { type: 'boolean' },
    from: { type: 'string' },
    to: { type: 'string' },
    local: { type: 'string' },
    follow: { type: 'boolean' },
  });
  if (flags.positionals.length > 0) throw new UsageError(USAGE);
  const config = loadConfig();
  const processors = (stringFlag(flags, 'processors') ?? 'greeks,features').split(',');
  const runner = new TopologyRunner(config, { processors, out: flags.values['no-sinks'] ? null : (stringFlag(flags, 'out') ?? config.sink.out) });
  await runner.start();
  const controller = new AbortController();
  process.once('SIGTERM', () => controller.abort());
  process.once('SIGINT', () => controller.abort());
  const exit = untilStopped(runner, 'run-all');
  void runner.stopped.then((failure) => failure && controller.abort());
  const from = stringFlag(flags, 'from');
  if (from) {
    const job = new FlatfileJob(config, createSource(config, stringFlag(flags, 'local')), {
      from,
      to: stringFlag(flags, 'to') ?? from,
      datasets: [...DATASETS],
      follow: flags.values.follow === true,
      localDir: stringFlag(flags, 'local'),
      jobName: 'run-all',
      progress: process.stderr.isTTY ? 'tty' : 'log',
      signal: controller.signal,
    });
    const report = await job.run();
    if (report.rows.length > 0) process.stdout.write(summaryTable(report.rows));
  }
  return exit;
}

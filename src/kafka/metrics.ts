import * as http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Config } from '../config';
import { logger } from '../util/log';

const log = logger('metrics');

/** Prometheus metrics of one process role, served on /metrics (127.0.0.1 by default). */
export class ProcessMetrics {
  readonly registry = new Registry();

  constructor(readonly labels: Record<string, string>) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  gauge(name: string, help: string, labelNames: string[] = []): Gauge<string> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  histogram(name: string, help: string, buckets: number[], labelNames: string[] = []): Histogram<string> {
    return new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }

  /**
   * Starts /metrics: on `portOverride` or metrics.port when set (a taken port is an error), else on
   * the port of this process's role (metricsPort). A role port already taken on this host (a second
   * member) moves up by 100 a few times, then to any free port: metrics never stop a process.
   * metrics.base_port = 0 turns derived ports off. Returns the bound port, or undefined when off.
   */
  async serve(config: Pick<Config, 'metrics'>, portOverride?: number): Promise<{ port: number; close(): Promise<void> } | undefined> {
    const fixed = portOverride ?? config.metrics.port;
    const role = roleOf(this.labels);
    if (!fixed && (!config.metrics.base_port || !role)) return undefined;
    const candidates = fixed ? [fixed] : [0, 1, 2, 3, 4].map((n) => metricsPort(config, role!) + 100 * n).concat(0);
    const server = http.createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    for (const port of candidates) {
      const error = await listen(server, port, config.metrics.host);
      if (!error) break;
      if (error.code !== 'EADDRINUSE' || fixed) throw error;
    }
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : 0;
    log.info('metrics_listening', { role, url: `http://${config.metrics.host}:${bound}/metrics` });
    return { port: bound, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }
}

function listen(server: http.Server, port: number, host: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException) => resolve(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(undefined);
    });
  });
}

/**
 * Each role's offset from metrics.base_port, so that Prometheus can scrape a fixed list of ports
 * whether the topology runs as separate processes or in one (run-all serves each role's port).
 */
export const METRICS_ROLES: Record<string, number> = {
  'producer:flatfile': 0,
  'processor:greeks': 1,
  'processor:features': 2,
  'processor:trade-counts': 3,
  'producer:ws-stocks': 4,
  'producer:ws-options': 5,
  'sink:equity.trades': 10,
  'sink:equity.quotes': 11,
  'sink:option.trades': 12,
  'sink:option.quotes': 13,
  'sink:option.trades.enriched': 14,
  'sink:features': 15,
};

export function metricsPort(config: Pick<Config, 'metrics'>, role: string): number {
  return config.metrics.base_port + (METRICS_ROLES[role] ?? 50);
}

/** The role named by a process's metric labels; sink topics may carry the configured topic prefix. */
export function roleOf(labels: Record<string, string>): string | undefined {
  if (labels.processor) return `processor:${labels.processor}`;
  if (labels.process) return `producer:${labels.process}`;
  if (labels.sink && labels.topic) {
    const known = Object.keys(METRICS_ROLES).filter((r) => r.startsWith('sink:') && labels.topic.endsWith(r.slice(5)));
    return known.sort((a, b) => b.length - a.length)[0] ?? `sink:${labels.topic}`;
  }
  return undefined;
}

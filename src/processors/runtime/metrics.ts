import * as http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Config } from '../../config';

/** Prometheus metrics of one process, served on /metrics (127.0.0.1 by default) when a port is set. */
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

  /** Starts the /metrics endpoint if config.metrics.port > 0; returns the bound port or undefined. */
  async serve(config: Pick<Config, 'metrics'>, portOverride?: number): Promise<{ port: number; close(): Promise<void> } | undefined> {
    const port = portOverride ?? config.metrics.port;
    if (!port) return undefined;
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
    await new Promise<void>((resolve) => server.listen(port, config.metrics.host, resolve));
    const address = server.address();
    return {
      port: typeof address === 'object' && address ? address.port : port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}

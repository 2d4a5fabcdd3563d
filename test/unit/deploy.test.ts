import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadConfig, projectRoot } from '../../src/config';
import { METRICS_ROLES } from '../../src/kafka/metrics';
import { buildTopology } from '../../topology/topology';

/**
 * No Docker engine here, so what can be checked without one is: the compose file's wiring (services,
 * profiles, commands, addresses), the scrape config against the metric ports, and the Dockerfile's
 * stages. The commands themselves run as-is against a real broker in test/integration/deploy.test.ts.
 */

const ROOT = projectRoot();

interface Service {
  image?: string;
  build?: string;
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { replicas?: number };
  volumes?: string[];
}

export function composeServices(): Record<string, Service> {
  const doc = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.kafka.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  return doc.services;
}

const services = composeServices();
const topologyServices = Object.entries(services).filter(([, s]) => s.profiles?.includes('topology') && s.build);

describe('docker-compose.kafka.yml: the topology profile', () => {
  it('runs greeks and features with two members each and one service per declared sink', () => {
    expect(services.greeks).toMatchObject({ command: ['process', 'greeks'], deploy: { replicas: 2 } });
    expect(services.features).toMatchObject({ command: ['process', 'features'], deploy: { replicas: 2 } });
    const sinkTopics = buildTopology(loadConfig({ env: {} })).sinks.map((s) => s.topic);
    const sinkCommands = topologyServices.filter(([, s]) => s.command?.[0] === 'sink').map(([, s]) => s.command);
    expect(sinkCommands).toEqual(sinkTopics.map((t) => ['sink', 'parquet', '--topic', t, '--out', '/data']));
  });

  it('points every optflow service at the compose Kafka and registry, after the topology is applied', () => {
    const kafka = services.kafka.environment!;
    const internal = /INTERNAL:\/\/([^,]+)/.exec(String(kafka.KAFKA_ADVERTISED_LISTENERS))![1];
    const registryPort = /:(\d+)$/.exec(String(services['schema-registry'].environment!.SCHEMA_REGISTRY_LISTENERS))![1];
    expect(topologyServices.length).toBe(9);
    for (const [name, s] of topologyServices) {
      expect(s.environment).toMatchObject({ KAFKA_BROKERS: internal, SCHEMA_REGISTRY_URL: `http://schema-registry:${registryPort}` });
      expect(s.image).toBe('optflow:local');
      if (name === 'topology-apply') expect(s.depends_on).toMatchObject({ kafka: { condition: 'service_healthy' } });
      else expect(s.depends_on).toEqual({ 'topology-apply': { condition: 'service_completed_successfully' } });
    }
  });

  it('publishes host ports on loopback only', () => {
    const ports = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(ports.length).toBeGreaterThan(4);
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('scrapes each member on its role port, and mounts the Grafana dashboard', () => {
    const prometheus = parse(fs.readFileSync(path.join(ROOT, 'deploy', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { dns_sd_configs?: { names: string[]; port: number }[]; static_configs?: { targets: string[] }[] }[];
    };
    const base = loadConfig({ env: {} }).metrics.base_port;
    const targets = prometheus.scrape_configs.flatMap((c) => [
      ...(c.dns_sd_configs ?? []).flatMap((d) => d.names.map((n) => [n, d.port] as const)),
      ...(c.static_configs ?? []).flatMap((s) => s.targets.map((t) => [t.split(':')[0], Number(t.split(':')[1])] as const)),
    ]);
    expect(targets).toHaveLength(8);
    for (const [service, port] of targets) {
      const command = services[service].command!;
      const role = command[0] === 'process' ? `processor:${command[1]}` : `sink:${command[3]}`;
      expect(port).toBe(base + METRICS_ROLES[role]);
    }
    expect(services.grafana.volumes).toContain('./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro');
    expect(fs.existsSync(path.join(ROOT, 'deploy', 'grafana', 'dashboards', 'optflow.json'))).toBe(true);
  });
});

describe('Dockerfile', () => {
  const text = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const stages = lines.filter((l) => l.startsWith('FROM '));
  const runtime = lines.slice(lines.indexOf(stages[stages.length - 1]));

  it('is multi-stage, on the Node LTS line CI tests, and runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const node = /ARG NODE_IMAGE=node:(\d+)-/.exec(text)![1];
    // CI's Node: bin/env.sh (sourced by .ci/run) brings this major when the machine's Node is older than 22
    expect(fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')).toContain('. bin/env.sh');
    expect(fs.readFileSync(path.join(ROOT, 'bin', 'env.sh'), 'utf8')).toContain(`OPTFLOW_NODE_MAJOR=${node}\n`);
    const user = runtime.filter((l) => l.startsWith('USER ')).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER (root|0)\b/);
  });

  it('has the optflow CLI as entry point, and copies only what exists', () => {
    expect(runtime).toContain('ENTRYPOINT ["node", "bin/optflow.js"]');
    expect(fs.existsSync(path.join(ROOT, 'bin', 'optflow.js'))).toBe(true);
    const sources = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).map((l) => l.split(/\s+/).slice(1, -1));
    for (const src of sources.flat()) expect(fs.existsSync(path.join(ROOT, src))).toBe(true);
  });
});

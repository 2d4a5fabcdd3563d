import { KafkaJS } from '@confluentinc/kafka-javascript';
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../../src/config';
import { buildTopology } from '../../topology/topology';
import { connectTestKafka, metricsBasePort, TestKafka, uniqueName } from './helpers';
import { spawnCli, until, waitExit } from './kafka-io';

/**
 * The compose `topology` profile's command lines, run as-is outside Docker (the image's entry point is
 * the same `optflow` CLI) against the test broker. Only what Docker would provide is translated: the
 * broker and registry addresses, and the `/data` volume. Each service runs as many members as its
 * replicas, and every consumer group must come up with exactly that many members.
 */

interface Service {
  profiles?: string[];
  build?: string;
  command?: string[];
  deploy?: { replicas?: number };
}

const services = (parse(fs.readFileSync(path.join(projectRoot(), 'docker-compose.kafka.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> }).services;
const topologyServices = Object.entries(services).filter(([, s]) => s.profiles?.includes('topology') && s.build);

describe('compose topology profile: the container command lines run as-is', () => {
  let t: TestKafka;
  let env: Record<string, string>;
  const lake = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-lake-'));
  const members: ChildProcess[] = [];

  beforeAll(async () => {
    const prefix = `${uniqueName('dep')}.`;
    t = await connectTestKafka({ topics: { prefix } });
    env = {
      KAFKA_BROKERS: t.config.kafka.brokers.join(','),
      SCHEMA_REGISTRY_URL: t.config.schema_registry.url,
      OPTFLOW__TOPICS__PREFIX: prefix,
      OPTFLOW__METRICS__BASE_PORT: String(metricsBasePort()),
    };
  });

  afterAll(async () => {
    for (const m of members) if (m.exitCode === null) m.kill('SIGKILL');
    await t.close();
    fs.rmSync(lake, { recursive: true, force: true });
  });

  const asIs = (command: string[]) => command.map((arg) => (arg === '/data' ? lake : arg));

  it('topology-apply, then every processor and sink member joins its group and stops cleanly on SIGTERM', async () => {
    const apply = topologyServices.find(([name]) => name === 'topology-apply')![1];
    expect(await waitExit(spawnCli(asIs(apply.command!), env))).toBe(0);

    const topology = buildTopology(t.config);
    const expected = new Map<string, number>();
    for (const [name, s] of topologyServices) {
      if (name === 'topology-apply') continue;
      const command = s.command!;
      const group =
        command[0] === 'process'
          ? topology.processors.find((p) => p.name === command[1])!.consumerGroup
          : topology.sinks.find((k) => k.topic === `${env.OPTFLOW__TOPICS__PREFIX}${command[3]}`)!.consumerGroup;
      const replicas = s.deploy?.replicas ?? 1;
      expected.set(group, replicas);
      for (let i = 0; i < replicas; i += 1) members.push(spawnCli(asIs(command), env));
    }
    expect([...expected.values()].reduce((a, b) => a + b, 0)).toBe(10);

    await until(
      'every group Stable with its replicas as members',
      async () => {
        const { groups } = await t.admin.describeGroups([...expected.keys()]);
        return groups.every((g) => g.state === KafkaJS.ConsumerGroupStates.STABLE && g.members.length === expected.get(g.groupId));
      },
      120_000,
    );
    for (const m of members) m.kill('SIGTERM');
    expect(await Promise.all(members.map(waitExit))).toEqual(members.map(() => 0));
  });
});

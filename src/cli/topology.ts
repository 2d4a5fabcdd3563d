import { createRegistry } from '../avro/serde';
import { loadConfig } from '../config';
import { createAdmin } from '../kafka/client';
import { applyTopology } from '../../topology/apply';
import { describeTopology } from '../../topology/describe';
import { buildTopology } from '../../topology/topology';
import { UsageError } from './args';

export async function topologyCommand(argv: string[]): Promise<number> {
  const config = loadConfig();
  const topology = buildTopology(config);
  if (argv[0] === 'describe') {
    process.stdout.write(describeTopology(topology));
    return 0;
  }
  if (argv[0] !== 'apply') throw new UsageError('usage: optflow topology apply|describe');
  const admin = createAdmin(config);
  await admin.connect();
  try {
    const report = await applyTopology(config, admin, createRegistry(config.schema_registry), topology);
    process.stdout.write(
      `topics: ${report.created.length} created, ${report.updated.length} updated, ${report.unchanged.length} unchanged\n` +
        report.schemas.map((s) => `  ${s.subject.padEnd(34)} schema id ${s.id}`).join('\n') +
        '\n',
    );
    for (const u of report.underReplicated) {
      process.stderr.write(
        `WARNING ${u.topic} has ${u.replicas} replica(s), configured ${u.wanted}: not changed; raise it with a partition reassignment (kafka-reassign-partitions)\n`,
      );
    }
  } finally {
    await admin.disconnect();
  }
  return 0;
}

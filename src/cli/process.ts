import { loadConfig } from '../config';
import { ProcessorRuntime } from '../processors/runtime/runtime';
import { LocalStack } from '../stack/stack';
import { processorByName, PROCESSORS } from '../../topology/processors';
import { buildTopology } from '../../topology/topology';
import { parseFlags, stringFlag, UsageError } from './args';

/** `optflow process <name>`: one member of the processor's consumer group, until SIGTERM/SIGINT. */
export async function processCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { 'metrics-port': { type: 'string' } });
  const name = flags.positionals[0];
  if (!name) throw new UsageError(`usage: optflow process <${PROCESSORS.map((p) => p.name).join('|')}> [--metrics-port N]`);
  const config = loadConfig();
  const port = stringFlag(flags, 'metrics-port');
  const runtime = new ProcessorRuntime(config, processorByName(name), { metricsPort: port ? Number(port) : undefined });
  await runtime.start();
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
      runtime.stop().then(resolve, resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}

/**
 * `optflow reset --group <group|processor> --to-earliest | --to-datetime <iso>`: rewinds a stopped
 * consumer group with Kafka's own tool. The next run replays from there and, with no restore metadata,
 * rebuilds its state from the records it reads.
 */
export async function resetCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    group: { type: 'string' },
    'to-earliest': { type: 'boolean' },
    'to-datetime': { type: 'string' },
    'dry-run': { type: 'boolean' },
  });
  const config = loadConfig();
  const groupArg = stringFlag(flags, 'group');
  const datetime = stringFlag(flags, 'to-datetime');
  if (!groupArg || (!flags.values['to-earliest'] === !datetime)) {
    throw new UsageError('usage: optflow reset --group <group|processor> (--to-earliest | --to-datetime 2025-03-07T14:30:00Z) [--dry-run]');
  }
  const topology = buildTopology(config);
  const group = topology.processors.find((p) => p.name === groupArg)?.consumerGroup ?? groupArg;
  const target = datetime ? ['--to-datetime', kafkaDatetime(datetime)] : ['--to-earliest'];
  const args = ['--bootstrap-server', config.kafka.brokers.join(','), '--group', group, '--reset-offsets', '--all-topics', ...target];
  args.push(flags.values['dry-run'] ? '--dry-run' : '--execute');
  return new LocalStack(config).runKafkaTool('consumer-groups', args);
}

/** Kafka's tool wants 'YYYY-MM-DDTHH:mm:SS.sss' with an optional zone; accept any ISO instant. */
function kafkaDatetime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) throw new UsageError(`not a date-time: ${iso}`);
  return t.toISOString().replace('Z', '+00:00');
}

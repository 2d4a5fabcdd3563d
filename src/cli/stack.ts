import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { ALL_SERVICES, Layout, LocalStack, ServiceName, ServiceStatus } from '../stack/stack';
import { UsageError } from './args';

function services(names: string[]): ServiceName[] {
  for (const n of names) if (!ALL_SERVICES.includes(n as ServiceName)) throw new UsageError(`unknown service '${n}' (kafka, registry, s3)`);
  return names.length > 0 ? (names as ServiceName[]) : ALL_SERVICES;
}

const USAGE = 'usage: optflow stack up [--brokers N] [--secure] | down | status [kafka|registry|s3 ...]';

export async function stackCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const stack = new LocalStack(loadConfig());
  switch (action) {
    case 'up': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { brokers: { type: 'string' }, secure: { type: 'boolean' } } });
      const requested: Partial<Layout> = {};
      if (values.brokers !== undefined) {
        const n = Number(values.brokers);
        if (!Number.isInteger(n) || n < 1 || n > 5) throw new UsageError('--brokers takes 1 to 5');
        requested.brokers = n;
      }
      if (values.secure) requested.secure = true;
      await stack.up(services(positionals), requested);
      await printStatus(stack);
      return 0;
    }
    case 'down':
      await stack.down(services(rest));
      return 0;
    case 'status': {
      const all = await printStatus(stack);
      return all ? 0 : 3;
    }
    default:
      throw new UsageError(USAGE);
  }
}

function stateOf(s: ServiceStatus): string {
  if (s.takenBy) return 'taken';
  return s.serving ? 'serving' : s.running ? 'starting' : 'stopped';
}

/** One line per process (each Kafka node); `serving` only for a process of the service that `stack down` stops. */
async function printStatus(stack: LocalStack): Promise<boolean> {
  const status = await stack.status();
  for (const s of status) {
    const pid = s.pid && s.running ? `  pid ${s.pid}` : '';
    const taken = s.takenBy ? `  by ${s.takenBy}, not managed by optflow` : '';
    const exposed = s.exposed.length > 0 ? `  WARNING listens beyond loopback on ${s.exposed.join(', ')}: restart it (stack down, stack up)` : '';
    process.stdout.write(`${s.name.padEnd(9)} ${stateOf(s).padEnd(9)} ${s.address}${pid}${taken}${exposed}\n`);
  }
  const layout = stack.layout();
  if (layout.brokers > 1) process.stdout.write(`kafka cluster: ${layout.brokers} nodes (RF ${Math.min(layout.brokers, 3)}, min ISR ${layout.brokers >= 3 ? 2 : 1} for internal topics); bootstrap ${stack.address('kafka')}\n`);
  if (layout.secure) {
    const m = stack.secureMaterial();
    process.stdout.write(`secure: SASL_SSL, SCRAM-SHA-512, CA ${m.caFile}\n  clients: OPTFLOW_CONFIG=${m.clientConfigFile} and the variables in ${m.credentialsFile}\n`);
  }
  return status.every((s) => s.serving);
}

import { loadConfig } from '../config';
import { ALL_SERVICES, LocalStack, ServiceName, ServiceStatus } from '../stack/stack';
import { UsageError } from './args';

function services(names: string[]): ServiceName[] {
  for (const n of names) if (!ALL_SERVICES.includes(n as ServiceName)) throw new UsageError(`unknown service '${n}' (kafka, registry, s3)`);
  return names.length > 0 ? (names as ServiceName[]) : ALL_SERVICES;
}

export async function stackCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const stack = new LocalStack(loadConfig());
  switch (action) {
    case 'up':
      await stack.up(services(rest));
      await printStatus(stack);
      return 0;
    case 'down':
      await stack.down(services(rest));
      return 0;
    case 'status': {
      const all = await printStatus(stack);
      return all ? 0 : 3;
    }
    default:
      throw new UsageError('usage: optflow stack up|down|status [kafka|registry|s3 ...]');
  }
}

function stateOf(s: ServiceStatus): string {
  if (s.takenBy) return 'taken';
  return s.serving ? 'serving' : s.running ? 'starting' : 'stopped';
}

/** One line per service; `serving` only for a process of the service that `stack down` stops. */
async function printStatus(stack: LocalStack): Promise<boolean> {
  const status = await stack.status();
  for (const s of status) {
    const pid = s.pid && s.running ? `  pid ${s.pid}` : '';
    const taken = s.takenBy ? `  by ${s.takenBy}, not managed by optflow` : '';
    const exposed = s.exposed.length > 0 ? `  WARNING listens beyond loopback on ${s.exposed.join(', ')}: restart it (stack down, stack up)` : '';
    process.stdout.write(`${s.name.padEnd(9)} ${stateOf(s).padEnd(9)} ${s.address}${pid}${taken}${exposed}\n`);
  }
  return status.every((s) => s.serving);
}

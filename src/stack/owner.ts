import { commandLine, isLoopback, listenersOn, portOwners } from './ports';
import { portOpen } from './process';

/**
 * Who serves a stack service's ports. `ours`: that service's process of this stack (recognised by
 * its command line), which `stack down` stops whatever pid file it was started with. `foreign`: something else,
 * which the stack must neither report as serving nor try to replace. `unknown`: the port answers but
 * its process is not visible (another user's). `free`: nothing listens.
 */
export type Owner =
  | { kind: 'free' }
  | { kind: 'ours'; pid: number; command: string }
  | { kind: 'foreign'; pid: number; command: string }
  | { kind: 'unknown' };

export async function ownerOf(ports: number[], isOurs: (command: string) => boolean): Promise<Owner> {
  const pids = [...new Set(ports.flatMap((p) => portOwners(p)))];
  const described = pids.map((pid) => ({ pid, command: commandLine(pid) ?? '' })).filter((p) => p.command !== '');
  const ours = described.find((p) => isOurs(p.command));
  if (ours) return { kind: 'ours', ...ours };
  if (described.length > 0) return { kind: 'foreign', ...described[0] };
  const open = await Promise.all(ports.map((p) => portOpen(p)));
  return open.some(Boolean) ? { kind: 'unknown' } : { kind: 'free' };
}

/** Local addresses on these ports that are not loopback (the stack must never listen there). */
export function exposedAddresses(ports: number[]): string[] {
  return ports.flatMap((p) => listenersOn(p).filter((l) => !isLoopback(l.address)).map((l) => (l.address.includes(':') ? `[${l.address}]:${p}` : `${l.address}:${p}`)));
}

export function describeOwner(owner: Owner): string {
  if (owner.kind === 'ours' || owner.kind === 'foreign') return `pid ${owner.pid} (${owner.command.slice(0, 120)})`;
  return owner.kind === 'unknown' ? 'a process of another user' : 'nothing';
}

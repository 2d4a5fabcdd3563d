import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * Who really listens on a TCP port, read from the operating system rather than from a pid file.
 * A pid file only says which process was started; after a failed start (EADDRINUSE) it names a dead
 * child while an older process keeps serving. Linux: /proc/net/tcp{,6} and /proc/<pid>/fd; elsewhere
 * `lsof`. Only the current user's processes are visible, which is all the stack can stop anyway.
 */

export interface Listener {
  /** The local address, e.g. 127.0.0.1, ::1, ::ffff:127.0.0.1, 0.0.0.0 or ::. */
  address: string;
  port: number;
  /** The socket's inode (Linux only). */
  inode?: number;
}

const LISTEN = '0A';

/** Decodes a /proc/net/tcp address: 32-bit words in host (little-endian) byte order. */
export function decodeProcAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [6, 4, 2, 0].map((i) => parseInt(w.slice(i, i + 2), 16)));
  if (bytes.length === 4) return bytes.join('.');
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

function procListeners(file: string): Listener[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length > 9 && cols[3] === LISTEN)
    .map((cols) => {
      const [addr, port] = cols[1].split(':');
      return { address: decodeProcAddress(addr), port: parseInt(port, 16), inode: Number(cols[9]) };
    });
}

const hasProc = (): boolean => fs.existsSync('/proc/net/tcp');

/** Every listening socket on `port`, with its local address. */
export function listenersOn(port: number): Listener[] {
  if (hasProc()) return [...procListeners('/proc/net/tcp'), ...procListeners('/proc/net/tcp6')].filter((l) => l.port === port);
  const out = spawnSync('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fn'], { encoding: 'utf8' });
  return (out.stdout ?? '')
    .split('\n')
    .filter((l) => l.startsWith('n'))
    .map((l) => ({ address: l.slice(1, l.lastIndexOf(':')).replace(/^\[|\]$/g, '').replace(/^\*$/, '0.0.0.0'), port }));
}

function pidsHoldingInodes(inodes: Set<number>): number[] {
  const pids = new Set<number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      const target = readLink(`/proc/${entry}/fd/${fd}`);
      const m = target && /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(Number(m[1]))) pids.add(Number(entry));
    }
  }
  return [...pids];
}

function readLink(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}

/** The pids of the processes listening on `port` (empty when none, or when they belong to another user). */
export function portOwners(port: number): number[] {
  if (hasProc()) {
    const inodes = new Set(listenersOn(port).map((l) => l.inode ?? 0));
    return inodes.size === 0 ? [] : pidsHoldingInodes(inodes);
  }
  const out = spawnSync('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-t'], { encoding: 'utf8' });
  return [...new Set((out.stdout ?? '').split('\n').filter(Boolean).map(Number))];
}

/** The command line of a process, or undefined when it is gone. */
export function commandLine(pid: number): string | undefined {
  if (hasProc()) {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      return undefined;
    }
  }
  const out = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** A background service of the local stack: a detached process with a pid file and a log file. */
export interface ServiceFiles {
  pidFile: string;
  logFile: string;
}

export function serviceFiles(dir: string, name: string): ServiceFiles {
  return { pidFile: path.join(dir, `${name}.pid`), logFile: path.join(dir, `${name}.log`) };
}

export function readPid(files: ServiceFiles): number | undefined {
  if (!fs.existsSync(files.pidFile)) return undefined;
  const pid = Number(fs.readFileSync(files.pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function startDetached(files: ServiceFiles, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  fs.mkdirSync(path.dirname(files.logFile), { recursive: true });
  const out = fs.openSync(files.logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env });
  fs.closeSync(out);
  if (!child.pid) throw new Error(`could not start ${command}`);
  child.unref();
  writePid(files, child.pid);
  return child.pid;
}

/** Stops one process: SIGTERM, then SIGKILL after the grace period. Returns false when it was not running. */
export async function stopPid(pid: number | undefined, graceMs = 30_000): Promise<boolean> {
  if (!pid || !isAlive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
  return true;
}

export function writePid(files: ServiceFiles, pid: number): void {
  fs.mkdirSync(path.dirname(files.pidFile), { recursive: true });
  fs.writeFileSync(files.pidFile, String(pid));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Polls `check` until it returns true; fails with the tail of the log when the process dies or time runs out. */
export async function waitUntil(what: string, check: () => Promise<boolean>, files: ServiceFiles, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    if (!isAlive(readPid(files))) break;
    await sleep(300);
  }
  const tail = fs.existsSync(files.logFile) ? fs.readFileSync(files.logFile, 'utf8').split('\n').slice(-25).join('\n') : '';
  throw new Error(`${what} did not become ready (log ${files.logFile}):\n${tail}`);
}

/**
 * Bench support: optflow CLI commands as supervised child processes (chaos, soak). Kafka is only
 * reached through the CLI, so these harnesses do not depend on the Kafka client library.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';

const CLI = resolve(__dirname, '..', '..', 'bin', 'optflow.js');

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs `optflow <args>` to completion; resolves with its exit code and stdout. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, logFile?: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => log?.write(c));
    child.on('error', reject);
    child.on('close', (code) => {
      log?.end();
      resolvePromise({ code, stdout: Buffer.concat(out).toString('utf8') });
    });
  });
}

export type ExitCause = 'kill9' | 'sigterm' | 'unexpected' | 'finished' | 'stopped';

/**
 * One long-running CLI process (a producer, a processor member, a sink member), restarted after it
 * exits unless it finished (exit 0 of a finite command) or the run is stopping. Its stderr goes to
 * `<logDir>/<name>.log`, appended across restarts.
 */
/** Every started process, so that an interrupted harness (Ctrl-C, SIGTERM) leaves none behind. */
const live = new Set<ChildProcess>();
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const cleanup = (signal: NodeJS.Signals): void => {
    for (const child of live) child.kill('SIGKILL');
    process.stderr.write(`interrupted (${signal}): ${live.size} child process(es) killed\n`);
    process.exit(130);
  };
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
}

export class Supervised {
  child: ChildProcess | null = null;
  starts = 0;
  unexpectedExits = 0;
  finished = false;
  private pendingCause: ExitCause | null = null;
  private stopping = false;
  private readonly log: WriteStream;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    logDir: string,
    /** A finite command (the flat-file producer): exit 0 means done, no restart. */
    private readonly finite = false,
    private readonly onExit: (p: Supervised, cause: ExitCause, code: number | null, signal: string | null) => void = () => undefined,
  ) {
    this.log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  }

  get running(): boolean {
    return this.child !== null;
  }

  start(): void {
    if (this.child || this.finished || this.stopping) return;
    this.starts += 1;
    this.log.write(`--- start ${this.starts} at ${new Date().toISOString()}\n`);
    installCleanup();
    const child = spawn(process.execPath, [CLI, ...this.args], { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => this.log.write(c));
    this.child = child;
    live.add(child);
    child.once('exit', (code, signal) => {
      live.delete(child);
      this.child = null;
      const cause: ExitCause = this.stopping ? 'stopped' : (this.pendingCause ?? (this.finite && code === 0 ? 'finished' : 'unexpected'));
      this.pendingCause = null;
      if (cause === 'finished') this.finished = true;
      if (cause === 'unexpected') this.unexpectedExits += 1;
      this.log.write(`--- exit code=${code} signal=${signal} cause=${cause} at ${new Date().toISOString()}\n`);
      this.onExit(this, cause, code, signal);
    });
  }

  /** Sends `signal`; the exit is attributed to the fault, not counted as unexpected. */
  kill(signal: 'SIGKILL' | 'SIGTERM'): boolean {
    if (!this.child) return false;
    this.pendingCause = signal === 'SIGKILL' ? 'kill9' : 'sigterm';
    this.child.kill(signal);
    return true;
  }

  async stop(timeoutMs = 60_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) {
      this.log.end();
      return;
    }
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    this.log.end();
  }
}

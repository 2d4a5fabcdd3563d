import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Pure functions the runtime may run off a task's thread, in worker threads: a window close whose
 * statistics take longer than the records that filled it. A task's records are processed in order on
 * one thread, so a hot partition (SPY) can use one core only; its window closes are independent of the
 * records that follow and can run on another core while the task goes on (README, "Window closes off
 * the task's thread").
 *
 * A worker loads the function by module path and export name, so it must be a top-level export of a
 * compiled module, pure, and take and return structured-cloneable values (typed arrays move, not copy).
 */
export interface Offloadable<A, R> {
  /** Absolute path of the module that exports it (`require.resolve`). */
  readonly module: string;
  readonly name: string;
  readonly fn: (args: A) => R;
  /** The buffers of `args` to move to the worker instead of copying (the caller gives them up). */
  readonly transfer?: (args: A) => ArrayBuffer[];
}

export function offloadable<A, R>(module: string, name: string, fn: (args: A) => R, transfer?: (args: A) => ArrayBuffer[]): Offloadable<A, R> {
  return { module, name, fn, transfer };
}

/** Runs offloadable functions: a result now (inline) or later (a worker). */
export interface Offload {
  run<A, R>(job: Offloadable<A, R>, args: A): R | Promise<R>;
  /** Jobs handed over and not yet settled. */
  readonly backlog: number;
  /** Settles once the backlog is at most `limit`. */
  below(limit: number): Promise<void>;
  close(): Promise<void>;
}

/** On the caller's thread (the in-memory driver, and TypeScript sources under jest, which a worker cannot load). */
export const INLINE: Offload = {
  run: (job, args) => job.fn(args),
  backlog: 0,
  below: async () => undefined,
  close: async () => undefined,
};

/** The worker: requires the job's module once, runs the export, posts the result or the error. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const functions = new Map();
parentPort.on('message', ({ id, module, name, args }) => {
  try {
    let fn = functions.get(module + '#' + name);
    if (fn === undefined) {
      fn = require(module)[name];
      if (typeof fn !== 'function') throw new TypeError(module + ' exports no function ' + name);
      functions.set(module + '#' + name, fn);
    }
    parentPort.postMessage({ id, result: fn(args) });
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.stack || err.message : String(err) });
  }
});
`;

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
  worker: PooledWorker;
}

interface PooledWorker {
  worker: Worker;
  running: number;
}

/**
 * Worker threads, started as jobs need them: a job goes to an idle worker, else to a new one up to
 * `size`, else to the least busy. A job's error rejects its promise; a worker that dies rejects all of
 * its jobs (the runtime then fails: a close that cannot be computed must not be skipped). A worker with
 * no job does not keep the process alive.
 */
export class WorkerOffload implements Offload {
  private readonly workers: PooledWorker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private waiters: { limit: number; resolve: () => void }[] = [];

  /** Default: one worker per core beyond the task's own, at least one, at most four. */
  constructor(private readonly size = Math.min(4, Math.max(1, availableParallelism() - 1))) {}

  get backlog(): number {
    return this.pending.size;
  }

  run<A, R>(job: Offloadable<A, R>, args: A): R | Promise<R> {
    if (!job.module.endsWith('.js')) return job.fn(args);
    const pooled = this.leastBusy();
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject, worker: pooled });
      if (pooled.running++ === 0) pooled.worker.ref();
      pooled.worker.postMessage({ id, module: job.module, name: job.name, args }, job.transfer?.(args) ?? []);
    });
  }

  below(limit: number): Promise<void> {
    if (this.pending.size <= limit) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ limit, resolve }));
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  private leastBusy(): PooledWorker {
    const idle = this.workers.find((w) => w.running === 0);
    if (idle) return idle;
    if (this.workers.length < this.size) return this.start();
    return this.workers.reduce((a, b) => (b.running < a.running ? b : a));
  }

  private start(): PooledWorker {
    const pooled: PooledWorker = { worker: new Worker(WORKER_SOURCE, { eval: true }), running: 0 };
    pooled.worker.on('message', (reply: { id: number; result?: unknown; error?: string }) => {
      if (reply.error !== undefined) this.settle(reply.id, (p) => p.reject(new Error(`offloaded job failed: ${reply.error}`)));
      else this.settle(reply.id, (p) => p.resolve(reply.result));
    });
    pooled.worker.on('error', (err) => this.fail(pooled, err));
    pooled.worker.on('exit', (code) => this.fail(pooled, new Error(`offload worker exited with code ${code}`)));
    this.workers.push(pooled);
    return pooled;
  }

  private settle(id: number, how: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (--p.worker.running === 0) p.worker.worker.unref();
    how(p);
    this.waiters = this.waiters.filter((w) => (this.pending.size <= w.limit ? (w.resolve(), false) : true));
  }

  private fail(pooled: PooledWorker, err: Error): void {
    const i = this.workers.indexOf(pooled);
    if (i >= 0) this.workers.splice(i, 1);
    for (const [id, p] of this.pending) if (p.worker === pooled) this.settle(id, (q) => q.reject(err));
  }
}

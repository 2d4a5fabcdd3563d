/**
 * Spilled runs of frames sorted and written on a thread of their own. Writing a run gathers its frames
 * into sorted order: a random read a frame (a cache miss each), for as long as the run is large. On
 * the file's reading thread that, and the sort, stopped the reading for the whole write. The held
 * frames are handed over (transferred), not copied; the caller keeps no view of them.
 */
import { join, resolve } from 'node:path';
import { workerScript } from '../../../util/worker-script';
import { columnBuffers, type KeyColumns } from './key-columns';
import * as threads from 'node:worker_threads';
import { ReplyingWorker } from '../../../util/replying-worker';

/** Node ≥ 21's check for memory of Node's shared pool (the installed types predate it). */
const { isMarkedAsUntransferable } = threads as unknown as { isMarkedAsUntransferable(value: object): boolean };

/** A run to sort and write: the first `held` records of `columns`, whose frames are in `chunks`. */
export interface SpillJob {
  path: string;
  chunks: Uint8Array[];
  columns: KeyColumns;
  held: number;
  rank: Int32Array;
}

export type SpillReply = { bytes: number } | { error: string };

/** The compiled worker (util/worker-script.ts). */
function ownScript(): string {
  return workerScript([join(__dirname, 'spill-worker.js'), resolve(__dirname, '../../../../dist/src/producers/flatfile/sort/spill-worker.js')]);
}

/**
 * The job's memory to transfer: a chunk that is the whole of its memory moves (a worker's batch);
 * any other (a view into memory something else may still read, or Node's shared pool) is copied.
 */
function transferList(job: SpillJob): ArrayBuffer[] {
  const moving = new Set<ArrayBuffer>();
  job.chunks = job.chunks.map((chunk) => {
    const memory = chunk.buffer as ArrayBuffer;
    const whole = chunk.byteOffset === 0 && chunk.byteLength === memory.byteLength && !isMarkedAsUntransferable(memory);
    const moved = whole && !moving.has(memory) ? chunk : new Uint8Array(chunk);
    moving.add(moved.buffer as ArrayBuffer);
    return moved;
  });
  for (const memory of [...columnBuffers(job.columns), job.rank.buffer as ArrayBuffer]) moving.add(memory);
  return [...moving];
}

/** Writes a run; resolves with its bytes. The job's memory belongs to the thread from here on. */
class SpillThread {
  private readonly worker = new ReplyingWorker<SpillJob, SpillReply>(ownScript(), {
    name: 'spill thread',
    errorOf: (reply) => ('error' in reply ? new Error(`spill thread: ${reply.error}`) : null),
    idleUnref: true, // holds the process open only while it owes a run
  });

  get dead(): boolean {
    return this.worker.dead;
  }

  async write(job: SpillJob): Promise<number> {
    const reply = await this.worker.send(job, transferList(job));
    return 'bytes' in reply ? reply.bytes : 0;
  }
}

let shared: SpillThread | null = null;

/** The process's spill thread (a new one if the last died). */
export function spillThread(): SpillThread {
  if (shared === null || shared.dead) shared = new SpillThread();
  return shared;
}

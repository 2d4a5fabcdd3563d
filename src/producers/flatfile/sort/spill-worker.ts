/** Thread of spill-thread.ts: sorts and writes each run it is given, one after another, as FileRun reads it back. */
import { parentPort } from 'node:worker_threads';
import { asBuffer } from '../../../util/transferred';
import { RunWriter } from './order';
import { sortedIndices } from './key-columns';
import type { SpillJob, SpillReply } from './spill-thread';

async function writeRun(job: SpillJob): Promise<number> {
  const chunks = job.chunks.map(asBuffer);
  const { chunk, offset, length, order } = job.columns;
  const out = new RunWriter(job.path);
  for (const i of sortedIndices(job.columns, job.held, job.rank)) {
    out.addFrom(order[i], chunks[chunk[i]], offset[i], offset[i] + length[i]);
    if (out.needsDrain) await out.drain();
  }
  await out.end();
  return out.bytes;
}

/** Runs in the order they came. */
let previous: Promise<void> = Promise.resolve();

parentPort!.on('message', (job: SpillJob) => {
  previous = previous.then(async () => {
    let reply: SpillReply;
    try {
      reply = { bytes: await writeRun(job) };
    } catch (err) {
      reply = { error: (err as Error).message };
    }
    parentPort!.postMessage(reply);
  });
});

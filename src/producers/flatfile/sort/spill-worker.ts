/** Thread of spill-thread.ts: sorts and writes each run it is given, in order, as FileRun reads it back. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { FRAME_HEADER, putFrameHeader } from './order';
import { sortedIndices } from './key-columns';
import type { SpillJob, SpillReply } from './spill-thread';

const BLOCK_BYTES = 1 << 20;
const block = Buffer.allocUnsafeSlow(BLOCK_BYTES);

function writeRun(job: SpillJob): number {
  const chunks = job.chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  const sorted = sortedIndices(job.columns, job.held, job.rank);
  const { chunk, offset, length, order } = job.columns;
  const fd = openSync(job.path, 'w');
  let used = 0;
  let bytes = 0;
  const flush = (): void => {
    for (let at = 0; at < used; ) at += writeSync(fd, block, at, used - at);
    used = 0;
  };
  try {
    for (const i of sorted) {
      const size = FRAME_HEADER + length[i];
      if (used + size > BLOCK_BYTES) flush();
      const source = chunks[chunk[i]];
      if (size > BLOCK_BYTES) {
        const frame = Buffer.allocUnsafe(size);
        putFrameHeader(frame, 0, length[i], order[i]);
        source.copy(frame, FRAME_HEADER, offset[i], offset[i] + length[i]);
        for (let at = 0; at < size; ) at += writeSync(fd, frame, at, size - at);
      } else {
        putFrameHeader(block, used, length[i], order[i]);
        source.copy(block, used + FRAME_HEADER, offset[i], offset[i] + length[i]);
        used += size;
      }
      bytes += size;
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return bytes;
}

parentPort!.on('message', (job: SpillJob) => {
  let reply: SpillReply;
  try {
    reply = { bytes: writeRun(job) };
  } catch (err) {
    reply = { error: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});

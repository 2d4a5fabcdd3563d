/**
 * Worker thread of an EncodingPool (encoding-pool.ts): encodes blocks of whole lines of the file it
 * was last given, in the order they arrive, and hands each back as packed frames.
 */
import { parentPort } from 'node:worker_threads';
import { asBuffer } from '../../../util/transferred';
import { datasetOf } from '../datasets';
import { RowEncoder } from './file-encoding';
import type { ToWorker, FromWorker, BlockCounts } from './encoding-protocol';
import { QuoteReduction, TradeTimes } from '../ingest/quote-reduction';
import { REJECT_REASONS } from '../parse/fields';
import type { ParseStats } from '../parse/flat-file-parser';

let encoder: RowEncoder | null = null;

function counts(before: ParseStats, after: ParseStats, lines: number): BlockCounts {
  const rejected: BlockCounts['rejected'] = {};
  for (const reason of REJECT_REASONS) if (after.rejected[reason] > before.rejected[reason]) rejected[reason] = after.rejected[reason] - before.rejected[reason];
  return { lines, accepted: after.accepted - before.accepted, filtered: after.filtered - before.filtered, rejected };
}

function snapshot(stats: ParseStats): ParseStats {
  return { ...stats, rejected: { ...stats.rejected } };
}

function onMessage(message: ToWorker): FromWorker {
  if (message.type === 'file') {
    const { spec } = message;
    const reduction = spec.reduction === null ? null : new QuoteReduction(TradeTimes.fromSealed(spec.reduction.tradeTimes), spec.reduction.lookbackNs);
    encoder = new RowEncoder({ ...spec, dataset: datasetOf(spec.dataset), reduction });
    encoder.push(Buffer.from(message.header));
    return { type: 'ready' };
  }
  if (encoder === null) throw new Error('encoding worker: block before file');
  const before = snapshot(encoder.parser.stats);
  encoder.parser.continueAt(message.firstLine - 1);
  const block = asBuffer(message.bytes);
  const batch = encoder.block(block);
  const lines = encoder.parser.stats.lines - (message.firstLine - 1);
  return { type: 'batch', ...batch, counts: counts(before, encoder.parser.stats, lines), block: message.bytes.buffer as ArrayBuffer };
}

function transferables(batch: Extract<FromWorker, { type: 'batch' }>): ArrayBuffer[] {
  const memory = [batch.frames.buffer as ArrayBuffer, batch.block];
  if (batch.readAhead !== null) memory.push(batch.readAhead.lastFrame.buffer as ArrayBuffer);
  return memory;
}

parentPort!.on('message', (message: ToWorker) => {
  let reply: FromWorker;
  try {
    reply = onMessage(message);
  } catch (err) {
    reply = { type: 'error', message: (err as Error).message, stack: (err as Error).stack ?? '' };
  }
  parentPort!.postMessage(reply, reply.type === 'batch' ? transferables(reply) : []);
});

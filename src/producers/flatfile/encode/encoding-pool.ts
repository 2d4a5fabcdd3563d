/**
 * Encoding on worker threads: the calling thread cuts the decompressed bytes into blocks of whole
 * lines and numbers them; workers parse and encode blocks round-robin; the batches come back in
 * block order, so the records, dead letters and counts are those of `encodeInline`, in the same
 * order. The calling thread is left to gunzip, sort and spill.
 */
import { join, resolve } from 'node:path';
import { workerScript } from '../../../util/worker-script';
import { ReplyingWorker } from '../../../util/replying-worker';
import { asBuffer } from '../../../util/transferred';
import type { EncodedBatch, EncodingSpec, FileEncoding } from './file-encoding';
import type { FromWorker, ToWorker, WireSpec } from './encoding-protocol';
import { REJECT_REASONS } from '../parse/fields';
import { FlatFileParser, type ParseStats } from '../parse/flat-file-parser';

type Reply = Extract<FromWorker, { type: 'batch' }>;

/** The compiled worker (util/worker-script.ts). */
function ownScript(): string {
  return workerScript([join(__dirname, 'encoding-worker.js'), resolve(__dirname, '../../../../dist/src/producers/flatfile/encode/encoding-worker.js')]);
}

/** One worker and the replies it owes, in the order it owes them. */
type EncodingWorker = ReplyingWorker<ToWorker, FromWorker>;

function encodingWorker(): EncodingWorker {
  return new ReplyingWorker(ownScript(), {
    name: 'encoding worker',
    errorOf: (reply) => (reply.type === 'error' ? new Error(`encoding worker: ${reply.message}\n${reply.stack}`) : null),
  });
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let p = buf.indexOf(10); p >= 0; p = buf.indexOf(10, p + 1)) n++;
  return n;
}

/** A copy in memory of its own (transferable), never a view of a chunk or of Node's pool. */
function ownedCopy(...parts: Buffer[]): Buffer {
  return copyInto(Buffer.allocUnsafeSlow(parts.reduce((n, p) => n + p.length, 0)), parts);
}

function copyInto(out: Buffer, parts: Buffer[]): Buffer {
  let pos = 0;
  for (const p of parts) pos += p.copy(out, pos);
  return out;
}

/** Room for a gunzip chunk (256 KiB) and the line carried into it. */
const BLOCK_BYTES = 320 * 1024;

/**
 * The memory blocks travel in, handed back by the workers with their replies: a block is one copy
 * of its bytes into memory already there, where it was a concat and a copy into a fresh ArrayBuffer
 * (the read phase alone: 4.09–4.23 s → 3.95–4.00 s).
 */
class BlockBuffers {
  private readonly free: ArrayBuffer[] = [];

  /** The parts, copied one after another into a buffer of its own (transferable). */
  filled(parts: Buffer[]): Buffer {
    const size = parts.reduce((n, p) => n + p.length, 0);
    let memory = this.free.pop();
    if (memory === undefined || memory.byteLength < size) memory = new ArrayBuffer(Math.max(size, BLOCK_BYTES));
    return copyInto(Buffer.from(memory, 0, size), parts);
  }

  giveBack(memory: ArrayBuffer): void {
    if (this.free.length < 16) this.free.push(memory);
  }
}

export class EncodingPool {
  private workers: EncodingWorker[] = [];
  private busy = false;

  constructor(readonly size: number) {
    if (size < 1) throw new Error('EncodingPool: size must be ≥ 1');
  }

  /** Encodes one file at a time (the job reads a day's files one after another). */
  encode(spec: EncodingSpec): FileEncoding {
    return new PooledFile(this, spec);
  }

  /** Live workers, replacing any that died (a failed file is retried on fresh ones). */
  acquire(): EncodingWorker[] {
    if (this.busy) throw new Error('EncodingPool: one file at a time');
    this.busy = true;
    this.workers = Array.from({ length: this.size }, (_, i) => {
      const worker = this.workers[i];
      return worker !== undefined && !worker.dead ? worker : encodingWorker();
    });
    return this.workers;
  }

  release(): void {
    this.busy = false;
  }

  async close(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

class PooledFile implements FileEncoding {
  readonly stats: ParseStats = { lines: 0, bytes: 0, accepted: 0, filtered: 0, rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as ParseStats['rejected'] };
  /** Reads and checks the header on this thread, as the inline parser would. */
  private readonly headerParser: FlatFileParser;
  private readonly blocks = new BlockBuffers();

  constructor(private readonly pool: EncodingPool, private readonly spec: EncodingSpec) {
    this.headerParser = new FlatFileParser({ dataset: spec.dataset, origin: spec.origin, universe: spec.universe, rootMap: spec.rootMap });
  }

  get header(): FlatFileParser['header'] {
    return this.headerParser.header;
  }

  async *batches(chunks: AsyncIterable<Buffer>): AsyncGenerator<EncodedBatch> {
    const workers = this.pool.acquire();
    try {
      yield* this.run(workers, chunks);
    } finally {
      this.pool.release();
    }
  }

  private async *run(workers: EncodingWorker[], chunks: AsyncIterable<Buffer>): AsyncGenerator<EncodedBatch> {
    const inFlight: Promise<FromWorker>[] = [];
    let carry: Buffer | null = null;
    let nextLine = 0;
    let blocks = 0;
    const dispatch = (bytes: Buffer, lines: number): void => {
      const worker = workers[blocks++ % workers.length];
      inFlight.push(worker.send({ type: 'block', firstLine: nextLine, bytes }, [bytes.buffer as ArrayBuffer]));
      nextLine += lines;
    };
    for await (const chunk of chunks) {
      this.stats.bytes += chunk.length;
      let bytes = chunk;
      if (nextLine === 0) {
        const joined = carry === null ? chunk : Buffer.concat([carry, chunk]);
        carry = null;
        const eol = joined.indexOf(10);
        if (eol < 0) {
          carry = ownedCopy(joined);
          continue;
        }
        await this.startFile(workers, joined.subarray(0, eol + 1));
        bytes = joined.subarray(eol + 1);
        nextLine = 2;
      }
      const head = carry === null ? [] : [carry];
      const last = bytes.lastIndexOf(10);
      if (last < 0) {
        carry = ownedCopy(...head, bytes);
        continue;
      }
      const block = this.blocks.filled([...head, bytes.subarray(0, last + 1)]);
      carry = last + 1 < bytes.length ? ownedCopy(bytes.subarray(last + 1)) : null;
      dispatch(block, countNewlines(block));
      while (inFlight.length >= 2 * workers.length) yield this.absorb(await inFlight.shift()!);
    }
    if (nextLine === 0) {
      // No newline in the whole file: at most a header.
      if (carry !== null) await this.startFile(workers, carry);
    } else if (carry !== null) {
      dispatch(carry, 1);
    }
    while (inFlight.length > 0) yield this.absorb(await inFlight.shift()!);
  }

  private async startFile(workers: EncodingWorker[], header: Buffer): Promise<void> {
    this.headerParser.push(header);
    this.headerParser.finish();
    this.stats.lines = 1;
    const { dataset, reduction, ...rest } = this.spec;
    const spec: WireSpec = { ...rest, dataset: dataset.id, reduction: reduction === null ? null : { tradeTimes: reduction.trades.sealedTimes, lookbackNs: reduction.lookbackNs } };
    await Promise.all(workers.map((w) => w.send({ type: 'file', spec, header: ownedCopy(header) })));
  }

  private absorb(reply: FromWorker): EncodedBatch {
    if (reply.type !== 'batch') throw new Error(`encoding worker: unexpected ${reply.type} reply`);
    const { counts } = reply as Reply;
    this.blocks.giveBack(reply.block);
    this.stats.lines += counts.lines;
    this.stats.accepted += counts.accepted;
    this.stats.filtered += counts.filtered;
    for (const reason of REJECT_REASONS) this.stats.rejected[reason] += counts.rejected[reason] ?? 0;
    const { readAhead } = reply;
    const edges = readAhead === null ? null : { ...readAhead, lastFrame: asBuffer(readAhead.lastFrame) };
    return { frames: asBuffer(reply.frames), count: reply.count, rejections: reply.rejections, maxEventTimeNs: reply.maxEventTimeNs, quotesSkipped: reply.quotesSkipped, readAhead: edges };
  }
}

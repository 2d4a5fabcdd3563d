import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateDay } from '../../../src/generator';
import { Prng } from '../../../src/generator/prng';
import { DATASETS, datasetOf, flatFileKey, type Dataset } from '../../../src/producers/flatfile/datasets';
import { unpackEncoded } from '../../../src/producers/flatfile/encode/encoded';
import { EncodingPool } from '../../../src/producers/flatfile/encode/encoding-pool';
import { encodeInline, type EncodingSpec, type FileEncoding } from '../../../src/producers/flatfile/encode/file-encoding';
import { QuoteReduction, ReadAhead, ReadAheadJoin, TradeTimes } from '../../../src/producers/flatfile/ingest/quote-reduction';
import type { ParseStats, Rejection } from '../../../src/producers/flatfile/parse/flat-file-parser';

/**
 * The pool (worker threads; needs the build's encoding-worker.js, as `npm test` makes it) against
 * encoding on this thread: the same records, bytes and order, the same dead letters with their line
 * numbers, the same counts, whatever the chunking of the decompressed bytes.
 */
interface Encoded {
  /** The records as packed frames: every field, bytes compared at once. */
  records: Buffer;
  count: number;
  rejections: Rejection[];
  maxEventTimeNs: bigint | null;
  quotesSkipped: number;
  stats: ParseStats;
  headerFound: boolean;
}

/** `bytes` in chunks of random sizes: single bytes at first (a header split across chunks), then up to 64 KiB. */
async function* chunked(bytes: Buffer, seed: number): AsyncGenerator<Buffer> {
  const rng = new Prng(seed);
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const size = i < 40 ? 1 : rng.int(1, 65_536);
    yield bytes.subarray(pos, pos + size);
    pos += size;
  }
}

/** Equal runs: the packed records byte for byte (jest compares a Buffer element by element), the rest deeply. */
function expectSame(actual: Encoded, expected: Encoded): void {
  expect(actual.records.equals(expected.records)).toBe(true);
  expect({ ...actual, records: null }).toEqual({ ...expected, records: null });
}

async function run(encoding: FileEncoding, chunks: AsyncIterable<Buffer>): Promise<Encoded> {
  const frames: Buffer[] = [];
  let count = 0;
  const out: Omit<Encoded, 'records' | 'count'> = { rejections: [], maxEventTimeNs: null, quotesSkipped: 0, stats: encoding.stats, headerFound: false };
  for await (const batch of encoding.batches(chunks)) {
    frames.push(batch.frames);
    count += batch.count;
    out.rejections.push(...batch.rejections);
    out.quotesSkipped += batch.quotesSkipped;
    if (batch.maxEventTimeNs !== null && (out.maxEventTimeNs === null || batch.maxEventTimeNs > out.maxEventTimeNs)) out.maxEventTimeNs = batch.maxEventTimeNs;
  }
  return { ...out, records: Buffer.concat(frames), count, stats: structuredClone(encoding.stats), headerFound: encoding.header !== null };
}

describe('EncodingPool', () => {
  const DATE = '2025-03-07';
  let dir: string;
  let pool: EncodingPool;
  const csv = new Map<Dataset, Buffer>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'optflow-encoding-'));
    await generateDay({ date: DATE, outDir: dir, seed: 9, scale: 'small', malformed: true });
    for (const dataset of DATASETS) csv.set(dataset, gunzipSync(readFileSync(join(dir, flatFileKey(dataset.id, DATE)))));
    pool = new EncodingPool(3);
  });

  afterAll(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const specOf = (dataset: Dataset, reduction: QuoteReduction | null = null): EncodingSpec => ({
    dataset, origin: flatFileKey(dataset.id, DATE), universe: ['SPY', 'QQQ'], rootMap: {}, schemaId: 7, reduction,
  });

  it.each(DATASETS.map((d) => [d.shortName]))('encodes %s as the calling thread does', async (name) => {
    const dataset = datasetOf(name);
    const bytes = csv.get(dataset)!;
    const inline = await run(encodeInline(specOf(dataset)), chunked(bytes, 1));
    const pooled = await run(pool.encode(specOf(dataset)), chunked(bytes, 2));
    expect(inline.count).toBeGreaterThan(1000);
    expect(inline.rejections.length).toBeGreaterThan(5); // the generator's malformed rows
    expectSame(pooled, inline);
  });

  it('applies the option-quote pre-filter in the workers as on the calling thread', async () => {
    const trades = await run(encodeInline(specOf(datasetOf('option-trades'))), chunked(csv.get(datasetOf('option-trades'))!, 3));
    const times = new TradeTimes();
    for (const t of unpackEncoded(trades.records)) times.add(t.ticker, t.time);
    const quotes = datasetOf('option-quotes');
    const inline = await run(encodeInline(specOf(quotes, new QuoteReduction(times))), chunked(csv.get(quotes)!, 4));
    const pooled = await run(pool.encode(specOf(quotes, new QuoteReduction(times))), chunked(csv.get(quotes)!, 5));
    expect(inline.quotesSkipped).toBeGreaterThan(0);
    expectSame(pooled, inline);
  });

  /** The frames, one Buffer each (length prefix included). */
  function framesOf(packed: Buffer): Buffer[] {
    const out: Buffer[] = [];
    for (let pos = 0; pos < packed.length; pos += 4 + packed.readUInt32LE(pos)) out.push(packed.subarray(pos, pos + 4 + packed.readUInt32LE(pos)));
    return out;
  }

  /** A file read under ReadAhead, its batches joined as the job joins them: the frames passed on and every quote dropped. */
  async function readAhead(encoding: FileEncoding, chunks: AsyncIterable<Buffer>, reduction: QuoteReduction): Promise<{ frames: Buffer; skipped: number; batches: number }> {
    const join = new ReadAheadJoin(reduction);
    const parts: Buffer[] = [];
    let skipped = 0;
    let batches = 0;
    for await (const batch of encoding.batches(chunks)) {
      expect(framesOf(batch.frames)).toHaveLength(batch.count);
      parts.push(...join.push(batch.frames, batch.readAhead));
      skipped += batch.quotesSkipped;
      batches++;
    }
    parts.push(...join.end());
    return { frames: Buffer.concat(parts), skipped: skipped + join.dropped, batches };
  }

  /** Every `every`-th row's bid price with a trailing zero: valid, but not the byte-level writer's plain text, so the parser writes it. */
  function withParsedRows(bytes: Buffer, every: number): Buffer {
    const lines = bytes.toString('latin1').split('\n');
    const bid = lines[0].split(',').indexOf('bid_price');
    expect(bid).toBeGreaterThan(0);
    let changed = 0;
    for (let i = 1; i < lines.length; i += every) {
      const fields = lines[i].split(',');
      if (fields.length <= bid || !fields[bid].includes('.')) continue;
      fields[bid] += '0';
      lines[i] = fields.join(',');
      changed++;
    }
    expect(changed).toBeGreaterThan(100);
    return Buffer.from(lines.join('\n'), 'latin1');
  }

  it.each([
    ['written by the byte-level writer', 0],
    ['with one row in 7 written by the parser', 7],
  ])('applies ReadAhead in batches, inline and in the workers, as over the whole file in order (rows %s)', async (_name, every) => {
    const trades = await run(encodeInline(specOf(datasetOf('option-trades'))), chunked(csv.get(datasetOf('option-trades'))!, 3));
    const times = new TradeTimes();
    for (const t of unpackEncoded(trades.records)) times.add(t.ticker, t.time);
    const reduction = new QuoteReduction(times);
    const quotes = datasetOf('option-quotes');
    const bytes = every === 0 ? csv.get(quotes)! : withParsedRows(csv.get(quotes)!, every);

    // The reference: the filter's frames, then ReadAhead over them one by one in file order.
    const filtered = await run(encodeInline(specOf(quotes, reduction)), chunked(bytes, 4));
    if (every > 0) expect(filtered.rejections.length).toBe((await run(encodeInline(specOf(quotes, reduction)), chunked(csv.get(quotes)!, 4))).rejections.length);
    const frames = framesOf(filtered.records);
    const rule = new ReadAhead(reduction);
    const dropped = new Set<number>();
    [...unpackEncoded(filtered.records)].forEach((q, i) => {
      if (rule.next(q.ticker, q.time)) dropped.add(i - 1);
    });
    const expected = Buffer.concat(frames.filter((_, i) => !dropped.has(i)));
    expect(dropped.size).toBeGreaterThan(frames.length / 10);

    const spec = { ...specOf(quotes, reduction), readAhead: true };
    for (const seed of [5, 6]) {
      const inline = await readAhead(encodeInline(spec), chunked(bytes, seed), reduction);
      const pooled = await readAhead(pool.encode(spec), chunked(bytes, seed + 10), reduction);
      for (const read of [inline, pooled]) {
        expect(read.batches).toBeGreaterThan(10);
        expect(read.frames.equals(expected)).toBe(true);
        expect(read.skipped).toBe(filtered.quotesSkipped + dropped.size);
      }
    }
  });

  it.each([
    ['CRLF line ends and no newline at the end', 'ticker,conditions,correction,exchange,price,sip_timestamp,size\r\nO:SPY250307C00570000,,0,4,1.1,1741357800000000000,100\r\nO:SPY250307C00570000,,0,4,x,1741357800000000001,100'],
    ['a header only', 'ticker,conditions,correction,exchange,price,sip_timestamp,size'],
    ['an empty file', ''],
    ['blank lines', 'ticker,conditions,correction,exchange,price,sip_timestamp,size\n\nO:SPY250307C00570000,,0,4,1.1,1741357800000000000,100\n\n'],
  ])('handles %s', async (_name, text) => {
    const dataset = datasetOf('option-trades');
    const bytes = Buffer.from(text, 'latin1');
    for (const seed of [1, 2, 3]) {
      expectSame(await run(pool.encode(specOf(dataset)), chunked(bytes, seed)), await run(encodeInline(specOf(dataset)), chunked(bytes, seed)));
    }
  });

  it('rejects a bad header as the calling thread does', async () => {
    const bytes = Buffer.from('nonsense,header\n1,2\n');
    await expect(run(pool.encode(specOf(datasetOf('stock-trades'))), chunked(bytes, 1))).rejects.toThrow(/missing|column/i);
    await expect(run(encodeInline(specOf(datasetOf('stock-trades'))), chunked(bytes, 1))).rejects.toThrow(/missing|column/i);
  });

  it('fails the file when a worker dies, and encodes the next file on fresh workers', async () => {
    const dataset = datasetOf('stock-quotes');
    const bytes = csv.get(dataset)!;
    const dying = new EncodingPool(2);
    try {
      let batches = 0;
      const encoding = dying.encode(specOf(dataset));
      await expect((async () => {
        for await (const batch of encoding.batches(chunked(bytes, 6))) {
          expect(batch.count).toBeGreaterThanOrEqual(0);
          if (++batches === 3) await (dying as unknown as { workers: { thread: { terminate(): Promise<number> } }[] }).workers[1].thread.terminate();
        }
      })()).rejects.toThrow(/exited/);
      expectSame(await run(dying.encode(specOf(dataset)), chunked(bytes, 7)), await run(encodeInline(specOf(dataset)), chunked(bytes, 7)));
    } finally {
      await dying.close();
    }
  });
});

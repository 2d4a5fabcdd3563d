import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EquityQuote, OptionTrade } from '../../../src/domain/records';
import { datasetOf } from '../../../src/producers/flatfile/datasets';
import { encodedRecordCodec as codec, encodeRecord, datasetValues, FrameWriter, packEncoded, type EncodedRecord } from '../../../src/producers/flatfile/encode/encoded';
import { FrameSorter } from '../../../src/producers/flatfile/sort/frame-sort';
import { ExternalSorter, compareKeys, MERGE_BATCH, sortKey, type SpillingSorter } from '../../../src/producers/flatfile/sort/order';
import { stableOrderByU64 } from '../../../src/producers/flatfile/sort/radix';
import { Prng } from '../../../src/generator/prng';

const values = datasetValues(datasetOf('option-trades'));
const encoded = (t: OptionTrade): EncodedRecord => encodeRecord(t, values.encode);
const decoded = (r: EncodedRecord): OptionTrade => values.decode(r.value) as OptionTrade;
/** Every field, read: a decoded frame reads its ticker, time and sequence only when asked. */
const fieldsOf = ({ group, time, roughTime, seq, ticker, value, hashHi, hashLo }: EncodedRecord) => ({ group, time, roughTime, seq, ticker, value, hashHi, hashLo });
let dir: string;

interface Limits {
  maxRecordsInMemory?: number;
  maxBytesInMemory?: number;
}

/** A sorter of encoded records under test, fed records in packs of random sizes (a spill may fall inside a pack). */
interface Subject {
  sorter: SpillingSorter<EncodedRecord>;
  add(records: readonly EncodedRecord[]): Promise<void>;
}

const SUBJECTS: [string, (limits: Limits) => Subject][] = [
  ['FrameSorter (the producer\'s)', (limits) => {
    const sorter = new FrameSorter({ maxRecordsInMemory: limits.maxRecordsInMemory ?? 250_000, maxBytesInMemory: limits.maxBytesInMemory, tmpDir: dir });
    return { sorter, add: (records) => sorter.addFrames(packEncoded(records)) };
  }],
  ['ExternalSorter', (limits) => {
    const sorter = new ExternalSorter<EncodedRecord>({ key: (r) => r, codec, tmpDir: dir, estimateBytes: () => 150, ...limits });
    return { sorter, add: async (records) => { for (const r of records) await sorter.add(r); } };
  }],
];

async function addAll(subject: Subject, input: readonly OptionTrade[], seed: number): Promise<void> {
  const rng = new Prng(seed);
  for (let i = 0; i < input.length; ) {
    const n = rng.int(1, 300);
    await subject.add(input.slice(i, i + n).map(encoded));
    i += n;
  }
}

function trade(rng: Prng, line: number): OptionTrade {
  const underlying = rng.pick(['SPY', 'QQQ', 'IWM']);
  return {
    ticker: `O:${underlying}250307C00570000`, underlying, root: underlying, expiration_date: '2025-03-07', right: 'C',
    // steps of 37 ns: most neighbours share a double (256 ns apart here), so the bigint tie-break decides
    strike: 570, sip_timestamp: 1741357800000000000n + BigInt(rng.int(0, 40)) * 37n, participant_timestamp: null,
    sequence_number: rng.chance(0.5) ? null : BigInt(rng.int(0, 3)), price: 1.25, size: BigInt(line % 7 + 1),
    exchange: 300, conditions: [209], correction: null, source: 'flatfile', origin: 'k', origin_offset: BigInt(line),
  };
}

/** Reference: a stable sort (Array.prototype.sort is stable) by time, underlying, sequence. */
function referenceOrder(input: OptionTrade[]): bigint[] {
  const cmpSeq = (a: bigint | null, b: bigint | null): number => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);
  return [...input]
    .sort((a, b) => (a.sip_timestamp < b.sip_timestamp ? -1 : a.sip_timestamp > b.sip_timestamp ? 1 : 0)
      || (a.underlying < b.underlying ? -1 : a.underlying > b.underlying ? 1 : 0)
      || cmpSeq(a.sequence_number, b.sequence_number))
    .map((t) => t.origin_offset);
}

describe.each(SUBJECTS)('%s of encoded records', (_name, subjectOf) => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'optflow-order-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('spills when input exceeds the limit and returns everything sorted, ties in file order', async () => {
    const rng = new Prng(17);
    const input = Array.from({ length: 2_345 }, (_, i) => trade(rng, i + 2));
    const { sorter, ...subject } = subjectOf({ maxRecordsInMemory: 200 });
    await addAll({ sorter, ...subject }, input, 1);
    expect(sorter.stats.runs).toBe(11);
    expect(readdirSync(dir)).toHaveLength(1);
    const out: OptionTrade[] = [];
    for await (const batch of sorter.batches()) out.push(...batch.map(decoded));
    expect(out.map((t) => t.origin_offset)).toEqual(referenceOrder(input));
    const byLine = (x: OptionTrade[]): OptionTrade[] => [...x].sort((p, q) => Number(p.origin_offset - q.origin_offset));
    expect(byLine(out)).toEqual(input);
    expect(sorter.stats.spilledRecords).toBe(2_200);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('respects a byte limit too, and sorts in memory without touching disk below the limits', async () => {
    const rng = new Prng(3);
    const input = Array.from({ length: 300 }, (_, i) => trade(rng, i));
    const bytesSubject = subjectOf({ maxBytesInMemory: 15_000 });
    const memorySubject = subjectOf({});
    await addAll(bytesSubject, input, 2);
    await addAll(memorySubject, input, 3);
    const bytes = bytesSubject.sorter;
    const memory = memorySubject.sorter;
    expect(bytes.stats.runs).toBeGreaterThanOrEqual(2);
    expect(memory.stats.runs).toBe(0);
    const a: bigint[] = [];
    const b: bigint[] = [];
    for await (const batch of bytes.batches()) a.push(...batch.map((r) => decoded(r).origin_offset));
    for await (const batch of memory.batches()) b.push(...batch.map((r) => decoded(r).origin_offset));
    expect(a).toEqual(referenceOrder(input));
    expect(b).toEqual(a);
  });

  it('keeps exact ns timestamps through the spill and removes temp files when abandoned early', async () => {
    const rng = new Prng(5);
    const subject = subjectOf({ maxRecordsInMemory: 10 });
    const { sorter } = subject;
    const odd = { ...trade(rng, 1), underlying: 'AAA', sip_timestamp: 1741357799123456789n };
    await subject.add([encoded(odd)]);
    await addAll(subject, Array.from({ length: 50 }, (_, i) => trade(rng, i + 2)), 4);
    const spillDir = join(dir, readdirSync(dir)[0]);
    for await (const [r] of sorter.batches()) {
      expect(decoded(r)).toEqual(odd);
      expect(fieldsOf(r)).toEqual(fieldsOf(encoded(odd))); // the spilled key, hash and value
      break;
    }
    expect(existsSync(spillDir)).toBe(false);
  });

  it('orders times that differ in every 16-bit digit, with many equal times, in memory and spilled', async () => {
    const rng = new Prng(29);
    const spans = [1n, 37n, 1n << 16n, 1n << 32n, 1n << 48n];
    const times = Array.from({ length: 300 }, () => 1741357800000000000n + BigInt(rng.int(0, 1000)) * rng.pick(spans));
    const input = Array.from({ length: 3_000 }, (_, i) => ({ ...trade(rng, i), sip_timestamp: rng.pick(times) }));
    for (const limit of [250_000, 700]) {
      const subject = subjectOf({ maxRecordsInMemory: limit });
      await addAll(subject, input, limit);
      const out: bigint[] = [];
      for await (const batch of subject.sorter.batches()) out.push(...batch.map((r) => decoded(r).origin_offset));
      expect(out).toEqual(referenceOrder(input));
    }
  });
});

describe('ExternalSorter', () => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'optflow-order-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands out batches of at most MERGE_BATCH, and frames larger than a write block survive the spill', async () => {
    const text = { encode: (r: string) => Buffer.from(r, 'utf8'), decode: (b: Buffer) => b.toString('utf8') };
    const sorter = new ExternalSorter<string>({ key: (r) => sortKey(r.slice(0, 3), BigInt(r.length % 5), null), codec: text, maxRecordsInMemory: 3_000, tmpDir: dir });
    const input = Array.from({ length: 10_000 }, (_, i) => `${String(i % 997).padStart(3, '0')}${i === 4_321 ? 'x'.repeat(1_500_000) : ''}`);
    for (const r of input) await sorter.add(r);
    expect(sorter.stats.runs).toBe(3);
    const out: string[] = [];
    for await (const batch of sorter.batches()) {
      expect(batch.length).toBeLessThanOrEqual(MERGE_BATCH);
      out.push(...batch);
    }
    const key = (r: string): ReturnType<typeof sortKey> => sortKey(r.slice(0, 3), BigInt(r.length % 5), null);
    expect(out).toEqual(input.map((r, i) => ({ r, i })).sort((a, b) => compareKeys(key(a.r), key(b.r)) || a.i - b.i).map((x) => x.r));
  });

  it('orders times 1 ns apart that round to the same double', () => {
    const t = 1741357800000000001n;
    expect(Number(t)).toBe(Number(t + 1n));
    expect(compareKeys(sortKey('A', t + 1n, null), sortKey('A', t, null))).toBe(1);
    expect(compareKeys(sortKey('B', t, null), sortKey('A', t + 1n, null))).toBe(-1);
    expect(compareKeys(sortKey('A', t, 2n), sortKey('A', t, null))).toBe(1);
  });
});

describe('stableOrderByU64', () => {
  it('orders unsigned 64-bit keys as bigint comparison does, equal keys in index order', () => {
    const rng = new Prng(41);
    const pool = Array.from({ length: 500 }, () => (BigInt(rng.int(0, 0xffff_ffff)) << 32n) | BigInt(rng.int(0, 0xffff_ffff)));
    pool.push(0n, 0xffff_ffff_ffff_ffffn, 1n << 63n, (1n << 63n) - 1n);
    const keys = Array.from({ length: 5_000 }, () => rng.pick(pool));
    const hi = Uint32Array.from(keys, (k) => Number(k >> 32n));
    const lo = Uint32Array.from(keys, (k) => Number(k & 0xffff_ffffn));
    const expected = keys.map((_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
    expect([...stableOrderByU64(hi, lo, keys.length)]).toEqual(expected);
    expect([...stableOrderByU64(hi, lo, 3)]).toEqual([0, 1, 2].sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b)));
    expect(stableOrderByU64(hi, lo, 0)).toHaveLength(0);
  });
});

describe('encoded records', () => {
  const quote: EquityQuote = {
    ticker: 'SPY', sip_timestamp: 1741357800123456789n, participant_timestamp: null, trf_timestamp: null, sequence_number: 0n,
    bid_price: 570.1, bid_size: 300n, bid_exchange: 11, ask_price: 570.12, ask_size: 100n, ask_exchange: 12, conditions: [], indicators: [],
    tape: 3, source: 'flatfile', origin: 'k', origin_offset: 7n,
  };

  it('carry the sort key, the Kafka key and the wire value; a stock\'s ticker is its group and survives the spill', () => {
    const stock = datasetValues(datasetOf('stock-quotes'));
    const r = encodeRecord(quote, stock.encode);
    expect(r).toMatchObject({ group: 'SPY', ticker: 'SPY', time: 1741357800123456789n, roughTime: Number(1741357800123456789n), seq: 0n });
    expect(r.value.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 0]));
    expect(stock.decode(r.value)).toEqual(quote);
    expect(fieldsOf(codec.decode(codec.encode(r)))).toEqual(fieldsOf(r));
    const noSeq = encodeRecord({ ...quote, sequence_number: null }, stock.encode);
    expect(codec.decode(codec.encode(noSeq)).seq).toBeNull();
  });

  it('read back, have the rough time Number(time) gives, rounding included, without making the bigint', () => {
    const rng = new Prng(11);
    const stock = datasetValues(datasetOf('stock-quotes'));
    // 2^60 + 128 and 2^60 + 384 are halfway between doubles (ulp 256 there): Number() rounds them to even.
    const times = [1n << 60n, (1n << 60n) + 128n, (1n << 60n) + 384n, (1n << 60n) + 129n, 4_102_444_799_999_999_999n, 946_684_800_000_000_000n];
    for (let i = 0; i < 200; i++) times.push(946_684_800_000_000_000n + BigInt(Math.floor(rng.next() * 2 ** 52)) * 700n + BigInt(Math.floor(rng.next() * 700)));
    for (const time of times) {
      const r = codec.decode(codec.encode(encodeRecord({ ...quote, sip_timestamp: time }, stock.encode)));
      expect([r.time, r.roughTime]).toEqual([time, Number(time)]);
    }
    expect(Number((1n << 60n) + 128n)).toBe(2 ** 60); // the halfway cases above are real ones
    expect(Number((1n << 60n) + 384n)).toBe(2 ** 60 + 512);
  });

  it('are written by FrameWriter as packEncoded packs encodeRecord\'s, across its buffer growing', () => {
    const rng = new Prng(11);
    const trades = Array.from({ length: 12_000 }, (_, i) => trade(rng, i));
    const writer = new FrameWriter(datasetOf('option-trades'), 5);
    const first = trades.slice(0, 7);
    for (const t of first) writer.add(t);
    expect(writer.count).toBe(7);
    const options = datasetValues(datasetOf('option-trades'), 5);
    expect(writer.take().equals(packEncoded(first.map((t) => encodeRecord(t, options.encode))))).toBe(true);
    for (const t of trades) writer.add(t);
    expect(writer.take().equals(packEncoded(trades.map((t) => encodeRecord(t, options.encode))))).toBe(true);
    const stocks = new FrameWriter(datasetOf('stock-quotes'), 5);
    stocks.add(quote);
    stocks.add({ ...quote, sequence_number: null, ticker: 'BRK.B' });
    const stock = datasetValues(datasetOf('stock-quotes'), 5);
    expect(stocks.take().equals(packEncoded([quote, { ...quote, sequence_number: null, ticker: 'BRK.B' }].map((q) => encodeRecord(q, stock.encode))))).toBe(true);
  });

  it('hash equal records equally and different ones differently', () => {
    const stock = datasetValues(datasetOf('stock-quotes'));
    const a = encodeRecord(quote, stock.encode);
    const b = encodeRecord({ ...quote, origin_offset: 8n }, stock.encode);
    const c = encodeRecord({ ...quote, ask_size: 101n }, stock.encode);
    expect([b.hashHi, b.hashLo]).toEqual([a.hashHi, a.hashLo]); // the dedupe key leaves the file position out
    expect([c.hashHi, c.hashLo]).not.toEqual([a.hashHi, a.hashLo]);
  });
});

describe('FrameSorter and the spill thread', () => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'optflow-order-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('moves a spilled run\'s whole frame buffers to the thread, copies views, and keeps the rest of a buffer a spill fell inside', async () => {
    const rng = new Prng(5);
    const input = Array.from({ length: 1_200 }, (_, i) => trade(rng, i));
    const sorter = new FrameSorter({ maxRecordsInMemory: 300, tmpDir: dir });
    const whole = [0, 250, 500, 750].map((from) => packEncoded(input.slice(from, from + 250).map(encoded)));
    const shared = packEncoded(input.slice(1_000).map(encoded));
    const half = frameEnd(shared, 100);
    const views = [shared.subarray(0, half), shared.subarray(half)];
    for (const pack of [...whole, ...views]) await sorter.addFrames(pack);
    await sorter.settled();
    expect(sorter.stats.runs).toBe(4); // at 300, 600, 900 (each inside a pack) and 1,200
    expect(whole.map((p) => p.length)).toEqual([0, 0, 0, 0]); // moved
    expect(shared.length).toBeGreaterThan(0); // its views were copied
    const out: OptionTrade[] = [];
    for await (const batch of sorter.batches()) out.push(...batch.map(decoded));
    expect(out.map((t) => t.origin_offset)).toEqual(referenceOrder(input));
  });
});

/** Where the first `n` frames of a packEncoded buffer end. */
function frameEnd(packed: Buffer, n: number): number {
  let pos = 0;
  for (let k = 0; k < n; k++) pos += 4 + packed.readUInt32LE(pos);
  return pos;
}

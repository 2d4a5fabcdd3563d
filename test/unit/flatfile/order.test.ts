import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { typeOf } from '../../../src/avro/types';
import type { OptionTrade } from '../../../src/domain/records';
import { ExternalSorter, avroCodec, compareKeys, marketSortKey, MERGE_BATCH, sortKey } from '../../../src/producers/flatfile/order';
import { Prng } from '../../../src/generator/prng';

const codec = avroCodec<OptionTrade>(typeOf('OptionTrade'));

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

describe('ExternalSorter', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'optflow-order-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('spills when input exceeds the limit and returns everything sorted, ties in file order', async () => {
    const rng = new Prng(17);
    const input = Array.from({ length: 2_345 }, (_, i) => trade(rng, i + 2));
    const sorter = new ExternalSorter<OptionTrade>({ key: marketSortKey, codec, maxRecordsInMemory: 200, tmpDir: dir });
    for (const t of input) await sorter.add(t);
    expect(sorter.stats.runs).toBe(11);
    expect(readdirSync(dir)).toHaveLength(1);
    const out: OptionTrade[] = [];
    for await (const batch of sorter.batches()) out.push(...batch);
    expect(out.map((t) => t.origin_offset)).toEqual(referenceOrder(input));
    const byLine = (x: OptionTrade[]): OptionTrade[] => [...x].sort((p, q) => Number(p.origin_offset - q.origin_offset));
    expect(byLine(out)).toEqual(input);
    expect(sorter.stats.spilledRecords).toBe(2_200);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('respects a byte limit too, and sorts in memory without touching disk below the limits', async () => {
    const rng = new Prng(3);
    const input = Array.from({ length: 300 }, (_, i) => trade(rng, i));
    const bytes = new ExternalSorter<OptionTrade>({ key: marketSortKey, codec, maxBytesInMemory: 10_000, estimateBytes: () => 100, tmpDir: dir });
    const memory = new ExternalSorter<OptionTrade>({ key: marketSortKey, codec, tmpDir: dir });
    for (const t of input) {
      await bytes.add(t);
      await memory.add(t);
    }
    expect(bytes.stats.runs).toBe(3);
    expect(memory.stats.runs).toBe(0);
    const a: bigint[] = [];
    const b: bigint[] = [];
    for await (const batch of bytes.batches()) a.push(...batch.map((t) => t.origin_offset));
    for await (const batch of memory.batches()) b.push(...batch.map((t) => t.origin_offset));
    expect(a).toEqual(referenceOrder(input));
    expect(b).toEqual(a);
  });

  it('keeps exact ns timestamps through the spill and removes temp files when abandoned early', async () => {
    const rng = new Prng(5);
    const sorter = new ExternalSorter<OptionTrade>({ key: marketSortKey, codec, maxRecordsInMemory: 10, tmpDir: dir });
    const odd = { ...trade(rng, 1), underlying: 'AAA', sip_timestamp: 1741357799123456789n };
    await sorter.add(odd);
    for (let i = 0; i < 50; i++) await sorter.add(trade(rng, i + 2));
    const spillDir = join(dir, readdirSync(dir)[0]);
    for await (const [t] of sorter.batches()) {
      expect(t).toEqual(odd);
      break;
    }
    expect(existsSync(spillDir)).toBe(false);
  });

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

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../../src/config';
import type { FeatureRecord } from '../../../src/domain/features/window-features';
import type { EnrichedOptionTrade } from '../../../src/domain/records';
import { DEFAULT_UNDERLYINGS, generateRealDay } from '../../../src/generator';
import { partitionOf } from '../../../src/kafka/partitioner';
import { fileAction } from '../../../src/producers/flatfile/ingest/checkpoint';
import { DATASETS, flatFileKey } from '../../../src/producers/flatfile/datasets';
import { HashMultiset } from '../../../src/producers/flatfile/ingest/dedupe';
import { encodeInline } from '../../../src/producers/flatfile/encode/file-encoding';
import { datasetValues } from '../../../src/producers/flatfile/encode/encoded';
import { daySequence, disposeDay, READ_AHEAD_TAG, readDayFile, type DayFile } from '../../../src/producers/flatfile/ingest/day';
import { recordKey } from '../../../src/producers/flatfile/local-day';
import type { MarketRecord } from '../../../src/producers/flatfile/parse/normalise';
import { newFileProgress } from '../../../src/producers/flatfile/ingest/progress';
import { QuoteReduction, type TradeTimes } from '../../../src/producers/flatfile/ingest/quote-reduction';
import { LocalSource } from '../../../src/producers/flatfile/ingest/source';
import { features } from '../../../src/processors/features';
import { greeks } from '../../../src/processors/greeks';
import { ProcessorDriver, type DrivenOutput } from '../../../src/processors/runtime/driver';

/**
 * The option-quote reduction is lossless (issue 13): a generated three-underlying day with densely
 * quoted contracts, read and merged by the producer's own code (readDayFile with the spill sort,
 * daySequence's k-way merge) with the reduction on and off, each partition's records piped in that
 * order through the greeks processor (with a watermark marker per 1,000 records sent, as the
 * producer's transactions carry), its output with the partition's stock trades through the features
 * processor: every enriched trade and every window byte-identical, in the same order.
 */

const DATE = '2025-03-07';
const UNIVERSE = ['SPY', 'QQQ', 'IWM'];
const PARTITIONS = 6;
const END_OF_DAY = BigInt(Date.UTC(2025, 2, 8, 5)) * 1_000_000n;
const MARKER_EVERY = 1000;

interface Run {
  enriched: DrivenOutput[];
  windows: DrivenOutput[];
  sent: number;
  /** Option quotes sent, and skipped as items of the merged sequence (the rest were dropped at read time). */
  quotesSent: number;
  skipped: number;
}

/** off: every quote sent; merge: the exact rule on the merged stream only; read-ahead: also one quote ahead at read (the product's way). */
type Reducing = 'off' | 'merge' | 'read-ahead';

async function readDay(dir: string, reducing: Reducing): Promise<DayFile[]> {
  const reduce = reducing !== 'off';
  const source = new LocalSource(dir);
  const settings = { universe: UNIVERSE, rootMap: {}, sortMemoryRecords: 40_000, transactionRecords: 1000 };
  const files: DayFile[] = [];
  let trades: TradeTimes | null = null;
  // As the job does: option trades first (they collect the trade times), then the quotes reduced by them.
  for (const dataset of DATASETS) {
    const key = flatFileKey(dataset.id, DATE);
    const planned = { dataset, date: DATE, key, etag: 'e', size: 0 };
    const reader = { source, schemaId: 0, encoding: encodeInline, decide: (etag: string) => fileAction(undefined, etag, true), priorHashes: async () => new HashMultiset(16) };
    const isQuotes = dataset.kind === 'OptionQuote';
    const dayReduction = reduce && isQuotes ? { by: 'trades@e', reduction: new QuoteReduction(trades!), readAhead: reducing === 'read-ahead' } : null;
    const collectTrades = reduce && dataset.kind === 'OptionTrade';
    const read = await readDayFile(planned, reader, settings, newFileProgress(key, dataset.shortName, 0, 0), DATASETS.length, { collectTrades, dayReduction });
    if ('skipped' in read) throw new Error('unexpected skip');
    if (collectTrades) trades = read.read.tradeTimes;
    files.push(read);
  }
  return files;
}

async function runPipeline(dir: string, reducing: Reducing, config: Config): Promise<Run> {
  const files = await readDay(dir, reducing);
  const greeksOf = new Map<number, ProcessorDriver>();
  const stockTrades = new Map<number, MarketRecord[]>();
  let sent = 0;
  let quotesSent = 0;
  let skipped = 0;
  try {
    for await (const batch of daySequence(files)) for (const item of batch) {
      if (item.kind === 'dead') continue;
      if (item.skip) {
        skipped++;
        continue;
      }
      const record = datasetValues(files[item.file].file.dataset).decode(item.record.value);
      const partition = partitionOf(recordKey(record), PARTITIONS);
      let driver = greeksOf.get(partition);
      if (!driver) greeksOf.set(partition, (driver = new ProcessorDriver(greeks, config)));
      driver.pipe(files[item.file].file.dataset.topic, record, recordKey(record));
      if (files[item.file].file.dataset.kind === 'OptionQuote') quotesSent++;
      if (files[item.file].file.dataset.topic === 'equity.trades') (stockTrades.get(partition) ?? stockTrades.set(partition, []).get(partition)!).push(record);
      if (++sent % MARKER_EVERY === 0) for (const d of greeksOf.values()) d.advanceWatermark(record.sip_timestamp - 1n);
    }
  } finally {
    await disposeDay(files);
  }
  const enriched: DrivenOutput[] = [];
  const windows: DrivenOutput[] = [];
  for (const partition of [...greeksOf.keys()].sort()) {
    const g = greeksOf.get(partition)!;
    g.advanceWatermark(END_OF_DAY);
    const out = g.drain();
    enriched.push(...out);
    const f = new ProcessorDriver(features, config);
    const arrivals = [
      ...out.map((o) => ({ topic: o.topic, record: o.value as EnrichedOptionTrade })),
      ...(stockTrades.get(partition) ?? []).map((record) => ({ topic: 'equity.trades', record })),
    ].sort((a, b) => (a.record.sip_timestamp < b.record.sip_timestamp ? -1 : a.record.sip_timestamp > b.record.sip_timestamp ? 1 : 0));
    for (const a of arrivals) f.pipe(a.topic, a.record, recordKey(a.record as MarketRecord));
    f.advanceWatermark(END_OF_DAY);
    windows.push(...f.drain());
  }
  return { enriched, windows, sent, quotesSent, skipped };
}

describe('option-quote reduction through greeks and features', () => {
  let dir: string;
  let on: Run;
  let mergeOnly: Run;
  let off: Run;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'optflow-reduce-'));
    await generateRealDay({ date: DATE, outDir: dir, seed: 7, fraction: 0.0015, underlyings: DEFAULT_UNDERLYINGS, contractsPerUnderlying: 200 });
    const config = loadConfig({ env: { NODE_ENV: 'test' }, overrides: { universe: { underlyings: UNIVERSE }, topics: { partitions: PARTITIONS } } });
    on = await runPipeline(dir, 'read-ahead', config);
    mergeOnly = await runPipeline(dir, 'merge', config);
    off = await runPipeline(dir, 'off', config);
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('skips most option quotes', () => {
    expect(off.skipped).toBe(0);
    expect(on.skipped).toBeGreaterThan(0); // decided on the sorted stream, besides those dropped at read time
    expect(on.quotesSent).toBeLessThan(0.5 * off.quotesSent);
    expect(off.sent - on.sent).toBe(off.quotesSent - on.quotesSent);
  });

  it('sends the same quotes deciding most of them at read, one quote ahead, as on the merged stream alone', () => {
    expect(on.quotesSent).toBe(mergeOnly.quotesSent);
    expect(on.sent).toBe(mergeOnly.sent);
    expect(on.skipped).toBeLessThan(0.5 * mergeOnly.skipped);
  });

  it.each(['read-ahead', 'merge'] as const)('gives byte-identical enriched trades and feature windows, in the same order (%s)', (reducing) => {
    const run = reducing === 'read-ahead' ? on : mergeOnly;
    expect(run.enriched.length).toBe(off.enriched.length);
    expect(run.enriched.filter((o) => o.topic !== 'option.trades.enriched')).toEqual([]); // nothing late, no dead letters
    for (let i = 0; i < off.enriched.length; i++) expect(run.enriched[i].bytes.equals(off.enriched[i].bytes)).toBe(true);
    expect(run.windows.length).toBe(off.windows.length);
    expect(run.windows.filter((o) => o.topic !== 'features')).toEqual([]);
    for (let i = 0; i < off.windows.length; i++) expect(run.windows[i].bytes.equals(off.windows[i].bytes)).toBe(true);
    expect(new Set(off.windows.map((w) => (w.value as FeatureRecord).underlying))).toEqual(new Set(UNIVERSE));
  });

  /** Positions count items of the sequence: a file interrupted by a run without ReadAhead resumes without it. */
  it('resumes a quote file interrupted before ReadAhead without it: the same sequence as that run', async () => {
    const source = new LocalSource(dir);
    const settings = { universe: UNIVERSE, rootMap: {}, sortMemoryRecords: 40_000, transactionRecords: 1000 };
    const tradesDataset = DATASETS.find((d) => d.kind === 'OptionTrade')!;
    const quotesDataset = DATASETS.find((d) => d.kind === 'OptionQuote')!;
    const planned = (dataset: typeof tradesDataset) => ({ dataset, date: DATE, key: flatFileKey(dataset.id, DATE), etag: 'e', size: 0 });
    const reader = (decide: (etag: string) => ReturnType<typeof fileAction>) => ({ source, schemaId: 0, encoding: encodeInline, decide, priorHashes: async () => new HashMultiset(16) });
    const tradesRead = await readDayFile(planned(tradesDataset), reader((etag) => fileAction(undefined, etag, true)), settings, newFileProgress('t', 'option-trades', 0, 0), 2, { collectTrades: true });
    if ('skipped' in tradesRead) throw new Error('unexpected skip');
    const offered = { by: `trades@e${READ_AHEAD_TAG}`, reduction: new QuoteReduction(tradesRead.read.tradeTimes!), readAhead: true };
    const interrupted = (): ReturnType<typeof fileAction> => ({
      kind: 'ingest', generation: 0, priorEmitted: 0, resumeFrom: 10, resumed: { producedRecords: 10, deadLetters: 0 }, reducedBy: 'trades@e', dedupe: false,
    });
    const quotesRead = await readDayFile(planned(quotesDataset), reader(interrupted), settings, newFileProgress('q', 'option-quotes', 0, 0), 2, { dayReduction: offered });
    if ('skipped' in quotesRead) throw new Error('unexpected skip');
    try {
      expect(quotesRead.reducedBy).toBe('trades@e');
      expect(quotesRead.read.records.stats.records).toBe(mergeOnly.quotesSent + mergeOnly.skipped);
    } finally {
      await disposeDay([tradesRead, quotesRead]);
    }
  });

  it('covers the cases that matter: BUY/SELL for most trades, INSIDE, stale quotes (UNKNOWN with an age) and no quote', () => {
    const trades = on.enriched.map((o) => o.value as EnrichedOptionTrade);
    const side = (s: string) => trades.filter((t) => t.aggressor_side === s).length;
    expect((side('BUY') + side('SELL')) / trades.length).toBeGreaterThan(0.6);
    expect(side('INSIDE')).toBeGreaterThan(0);
    const staleness = 1_000_000_000n;
    expect(trades.some((t) => t.aggressor_side === 'UNKNOWN' && t.quote_age_ns !== null && t.quote_age_ns > staleness)).toBe(true);
    expect(trades.some((t) => t.quote_age_ns === null)).toBe(true);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDay } from '../../../src/generator';
import { partitionOf } from '../../../src/kafka/partitioner';
import { fileAction } from '../../../src/producers/flatfile/ingest/checkpoint';
import { DATASETS, flatFileKey } from '../../../src/producers/flatfile/datasets';
import { encodeInline } from '../../../src/producers/flatfile/encode/file-encoding';
import { datasetValues } from '../../../src/producers/flatfile/encode/encoded';
import { daySequence, disposeDay, readDayFile, type DayFile } from '../../../src/producers/flatfile/ingest/day';
import { HashMultiset } from '../../../src/producers/flatfile/ingest/dedupe';
import { recordKey } from '../../../src/producers/flatfile/local-day';
import { newFileProgress } from '../../../src/producers/flatfile/ingest/progress';
import { LocalSource } from '../../../src/producers/flatfile/ingest/source';

/** The order the producer sends a day in, without Kafka: what every partition receives. */
describe('a day\'s output sequence', () => {
  const DATE = '2025-03-07';
  const UNIVERSE = ['SPY', 'QQQ', 'IWM'];
  let dir: string;
  let files: DayFile[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'optflow-dayorder-'));
    await generateDay({ date: DATE, outDir: dir, seed: 2, scale: 'small' });
    const source = new LocalSource(dir);
    const settings = { universe: UNIVERSE, rootMap: {}, sortMemoryRecords: 20_000, transactionRecords: 1000 };
    files = [];
    for (const dataset of DATASETS) {
      const key = flatFileKey(dataset.id, DATE);
      const planned = { dataset, date: DATE, key, etag: 'e', size: 0 };
      const reader = { source, schemaId: 0, encoding: encodeInline, decide: (etag: string) => fileAction(undefined, etag, true), priorHashes: async () => new HashMultiset(16) };
      const read = await readDayFile(planned, reader, settings, newFileProgress(key, dataset.shortName, 0, 0), DATASETS.length);
      if ('skipped' in read) throw new Error('unexpected skip');
      files.push(read);
    }
  });

  afterAll(async () => {
    await disposeDay(files);
    rmSync(dir, { recursive: true, force: true });
  });

  it('interleaves underlyings and datasets in event time, so each partition is in event-time order; dead letters last', async () => {
    expect(files.some((f) => f.read.records.stats.runs > 0)).toBe(true); // the merge reads spilled runs too
    const lastByPartition = new Map<number, bigint>();
    const seenPerPartition = new Map<number, Set<string>>();
    let records = 0;
    let deadLetters = 0;
    let switches = 0;
    let previousTopic = -1;
    for await (const batch of daySequence(files)) for (const item of batch) {
      if (item.kind === 'dead') {
        deadLetters++;
        continue;
      }
      expect(deadLetters).toBe(0);
      records++;
      const record = datasetValues(files[item.file].file.dataset).decode(item.record.value);
      expect(item.record.group).toBe(recordKey(record));
      expect(item.record.time).toBe(record.sip_timestamp);
      const partition = partitionOf(recordKey(record), 6);
      const last = lastByPartition.get(partition);
      if (last !== undefined) expect(record.sip_timestamp >= last).toBe(true);
      lastByPartition.set(partition, record.sip_timestamp);
      const seen = seenPerPartition.get(partition) ?? new Set<string>();
      seen.add(recordKey(record));
      seenPerPartition.set(partition, seen);
      if (item.file !== previousTopic) switches++;
      previousTopic = item.file;
    }
    expect(records).toBe(files.reduce((n, f) => n + f.read.records.stats.records, 0));
    expect(deadLetters).toBe(files.reduce((n, f) => n + f.read.deadLetters.stats.records, 0));
    expect(seenPerPartition.get(partitionOf('SPY', 6))).toEqual(new Set(['SPY', 'QQQ']));
    expect(switches).toBeGreaterThan(10_000); // datasets interleave, not one file after another
  });
});

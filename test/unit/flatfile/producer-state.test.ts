import { datasetOf, DATASETS } from '../../../src/producers/flatfile/datasets';
import { decodeCheckpoint, encodeCheckpoint, fileAction, type FileCheckpoint } from '../../../src/producers/flatfile/ingest/checkpoint';
import { dedupeKey, hash64, HashMultiset, PackedHashes, RepublishFilter } from '../../../src/producers/flatfile/ingest/dedupe';
import { keyParser, monthPrefix, renderKey } from '../../../src/producers/flatfile/ingest/keys';
import { listingRequests, monthsBetween, planDays } from '../../../src/producers/flatfile/ingest/planner';
import { bar, eta, formatDuration, summaryTable } from '../../../src/producers/flatfile/ingest/progress';
import { endOfNewYorkDayNs } from '../../../src/domain/new-york';
import { dayWatermarkNs } from '../../../src/producers/flatfile/ingest/watermark';
import type { OptionTrade } from '../../../src/domain/records';

const TEMPLATE = '{dataset}/{yyyy}/{mm}/{date}.csv.gz';
const trades = datasetOf('option-trades');
const stocks = datasetOf('stock-trades');

describe('keys', () => {
  test('render, month prefix and parse round-trip', () => {
    expect(renderKey(TEMPLATE, trades, '2025-03-07')).toBe('us_options_opra/trades_v1/2025/03/2025-03-07.csv.gz');
    expect(monthPrefix(TEMPLATE, trades, '2025', '03')).toBe('us_options_opra/trades_v1/2025/03/');
    const parse = keyParser(TEMPLATE);
    expect(parse('us_options_opra/trades_v1/2025/03/2025-03-07.csv.gz')).toEqual({ dataset: trades, date: '2025-03-07' });
    expect(parse('us_options_opra/trades_v1/2025/04/2025-03-07.csv.gz')).toBeNull();
    expect(parse('us_options_opra/trades_v1/2025/03/2025-03-07.csv')).toBeNull();
    expect(parse('other/2025/03/2025-03-07.csv.gz')).toBeNull();
  });
});

describe('planner', () => {
  test('months across a year boundary; one listing per dataset and month', () => {
    expect(monthsBetween('2024-11-29', '2025-01-03').map((m) => `${m.yyyy}-${m.mm}`)).toEqual(['2024-11', '2024-12', '2025-01']);
    expect(listingRequests(TEMPLATE, [stocks, trades], '2025-03-30', '2025-04-01').map((r) => r.prefix)).toEqual([
      'us_stocks_sip/trades_v1/2025/03/', 'us_stocks_sip/trades_v1/2025/04/', 'us_options_opra/trades_v1/2025/03/', 'us_options_opra/trades_v1/2025/04/',
    ]);
    expect(() => monthsBetween('2025-02-30', '2025-03-01')).toThrow(/calendar date/);
    expect(() => monthsBetween('2025-03-02', '2025-03-01')).toThrow(/after/);
  });

  test('days come from the listing: holidays are simply absent; out-of-range and foreign keys ignored', () => {
    const listed = [
      { key: renderKey(TEMPLATE, trades, '2025-03-07'), etag: 'a', size: 1 },
      { key: renderKey(TEMPLATE, stocks, '2025-03-07'), etag: 'b', size: 2 },
      { key: renderKey(TEMPLATE, trades, '2025-03-10'), etag: 'c', size: 3 },
      { key: renderKey(TEMPLATE, trades, '2025-03-11'), etag: 'd', size: 3 },
      { key: 'us_options_opra/trades_v1/2025/03/README.txt', etag: 'e', size: 3 },
    ];
    const days = planDays(TEMPLATE, [stocks, trades], '2025-03-01', '2025-03-10', listed);
    expect(days.map((d) => d.date)).toEqual(['2025-03-07', '2025-03-10']);
    expect(days[0].files.map((f) => f.dataset.shortName)).toEqual(['stock-trades', 'option-trades']);
    expect(days[0].missing).toEqual([]);
    expect(days[1].missing).toEqual(['stock-trades']);
  });
});

function checkpoint(over: Partial<FileCheckpoint>): FileCheckpoint {
  return { key: 'k', etag: 'e1', status: 'done', generation: 0, position: 10, producedRecords: 8, deadLetters: 2, priorEmitted: 0, updatedAtMs: 0, ...over };
}

describe('checkpoints', () => {
  test('new file → ingest from 0; done same ETag → skip; in progress → resume with its counts', () => {
    expect(fileAction(undefined, 'e1', true)).toMatchObject({ kind: 'ingest', generation: 0, resumeFrom: 0, dedupe: false });
    expect(fileAction(checkpoint({}), 'e1', true)).toEqual({ kind: 'skip', reason: 'done' });
    expect(fileAction(checkpoint({ status: 'in_progress', position: 4, producedRecords: 4, deadLetters: 0 }), 'e1', true)).toMatchObject({
      kind: 'ingest', generation: 0, resumeFrom: 4, resumed: { producedRecords: 4, deadLetters: 0 }, dedupe: false,
    });
  });

  test('new ETag → next generation deduplicated against everything emitted before', () => {
    const action = fileAction(checkpoint({ generation: 1, priorEmitted: 7 }), 'e2', true);
    expect(action).toMatchObject({ kind: 'ingest', generation: 2, priorEmitted: 17, resumeFrom: 0, dedupe: true });
    const cut = fileAction(checkpoint({ status: 'in_progress', generation: 0, producedRecords: 3, deadLetters: 0 }), 'e2', true);
    expect(cut).toMatchObject({ generation: 1, priorEmitted: 3, dedupe: true });
  });

  test('failed: retried on a fresh run, not on every follow poll', () => {
    expect(fileAction(checkpoint({ status: 'failed' }), 'e1', true)).toMatchObject({ kind: 'ingest', resumeFrom: 0 });
    expect(fileAction(checkpoint({ status: 'failed' }), 'e1', false)).toMatchObject({ kind: 'skip' });
  });

  test('encode/decode; garbage → null', () => {
    const c = checkpoint({ maxEventTimeNs: '1741386600000000001' });
    expect(decodeCheckpoint(encodeCheckpoint(c))).toEqual(c);
    expect(decodeCheckpoint(Buffer.from('{"key":1}'))).toBeNull();
    expect(decodeCheckpoint(Buffer.from('nope'))).toBeNull();
  });
});

function trade(over: Partial<OptionTrade> = {}): OptionTrade {
  return {
    ticker: 'O:SPY250321C00580000', underlying: 'SPY', root: 'SPY', expiration_date: '2025-03-21', right: 'C', strike: 580,
    sip_timestamp: 1741386600123456789n, participant_timestamp: null, sequence_number: null, price: 2.46, size: 3n, exchange: 1,
    conditions: [], correction: null, source: 'flatfile', origin: 'k', origin_offset: 2n, ...over,
  };
}

describe('dedupe', () => {
  it('packs a transaction\'s hashes into messages under 1 MiB that read back to the same multiset', () => {
    const hashes: number[] = [];
    const packed = new PackedHashes();
    for (let i = 0; i < 150_000; i++) {
      const [hi, lo] = hash64(`row ${i % 140_000}`); // 10,000 hashes twice
      hashes.push(hi, lo);
      packed.push(hi, lo);
    }
    expect(packed.size).toBe(150_000);
    const messages = packed.messages();
    expect(messages.map((m) => m.length)).toEqual([524_288, 524_288, (150_000 - 131_072) * 8]);
    const split = new HashMultiset();
    for (const m of messages) split.addPacked(m);
    const whole = new HashMultiset();
    for (let i = 0; i < hashes.length; i += 2) whole.add(hashes[i], hashes[i + 1]);
    expect([...split.entries()].sort()).toEqual([...whole.entries()].sort());
    expect([...split.entries()].filter(([, , n]) => n === 2)).toHaveLength(10_000);
    expect(new PackedHashes().messages()).toEqual([]);
  });

  test('the key keeps every ns digit and ignores provenance', () => {
    expect(dedupeKey(trade())).toBe('T|O:SPY250321C00580000|1741386600123456789||2.46|3');
    expect(dedupeKey(trade({ origin_offset: 99n, exchange: 7 }))).toBe(dedupeKey(trade()));
    expect(hash64(dedupeKey(trade({ sip_timestamp: 1741386600123456790n })))).not.toEqual(hash64(dedupeKey(trade())));
  });

  test('multiset counts survive growth', () => {
    const m = new HashMultiset(4);
    for (let i = 0; i < 5000; i++) m.add(i, i * 7);
    m.add(3, 21);
    expect(m.size).toBe(5001);
    expect(m.count(3, 21)).toBe(2);
    expect(m.count(4, 28)).toBe(1);
    expect(m.count(4, 29)).toBe(0);
    const packed = Buffer.alloc(16);
    packed.writeUInt32BE(9, 8);
    packed.writeUInt32BE(10, 12);
    m.addPacked(packed);
    expect(m.count(0, 0)).toBe(2); // (0, 0) was also added by the loop
    expect(m.count(9, 10)).toBe(1);
  });

  test('a re-publication emits only occurrences beyond what was emitted; vanished ones are counted', () => {
    const prior = new HashMultiset();
    prior.add(1, 1);
    prior.add(1, 1);
    prior.add(2, 2);
    prior.add(5, 5);
    const filter = new RepublishFilter(prior);
    const decisions = [[1, 1], [2, 2], [1, 1], [1, 1], [3, 3]].map(([hi, lo]) => filter.isNew(hi, lo));
    expect(decisions).toEqual([false, false, false, true, true]);
    expect(filter.vanished()).toBe(1);
  });
});

describe('end-of-day watermark', () => {
  test('midnight New York after the day, DST-correct', () => {
    expect(endOfNewYorkDayNs('2025-03-07')).toBe(BigInt(Date.UTC(2025, 2, 8, 5)) * 1_000_000n);
    expect(endOfNewYorkDayNs('2025-07-03')).toBe(BigInt(Date.UTC(2025, 6, 4, 4)) * 1_000_000n);
    // Friday before the spring-forward Sunday, and the last day of a month
    expect(endOfNewYorkDayNs('2025-03-31')).toBe(BigInt(Date.UTC(2025, 3, 1, 4)) * 1_000_000n);
  });

  test('an event past that (bad data) pushes it to the event + 1 ns', () => {
    const end = endOfNewYorkDayNs('2025-03-07');
    expect(dayWatermarkNs('2025-03-07', null)).toBe(end);
    expect(dayWatermarkNs('2025-03-07', end - 1n)).toBe(end);
    expect(dayWatermarkNs('2025-03-07', end + 5n)).toBe(end + 6n);
  });
});

describe('progress formatting', () => {
  test('bar, duration, eta', () => {
    expect(bar(0.5, 10)).toBe('█████     ');
    expect(bar(2, 4)).toBe('████');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Infinity)).toBe('--:--');
    expect(eta(25, 100, 10)).toBe(30);
  });

  test('summary table has a total row with invalid counts by reason, and the wall time of files produced together', () => {
    const row = { file: 'a', status: 'done', rowsRead: 10, produced: 7, filtered: 1, duplicates: 0, deadLetters: 2, invalid: { non_numeric: 2 }, seconds: 2, csvBytes: 4e6, startedAtMs: 1000, finishedAtMs: 3000 };
    const table = summaryTable([row, { ...row, file: 'b', invalid: { non_numeric: 1, bad_symbol: 1 }, seconds: 2.5, startedAtMs: 1500, finishedAtMs: 4000 }]);
    const total = table.trimEnd().split('\n').pop()!;
    expect(total).toMatch(/^total\s+20\s+14\s+2\s+0\s+4\s+non_numeric=3 bad_symbol=1\s+3\.0\s+2\.7$/);
  });
});

test('DATASETS order is the default dataset order of the CLI', () => {
  expect(DATASETS.map((d) => d.shortName)).toEqual(['stock-trades', 'stock-quotes', 'option-trades', 'option-quotes']);
});

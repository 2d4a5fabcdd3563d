/**
 * The option-trade rows written straight from their bytes (option-trade-rows.ts) against the parser's
 * way (parse, normalise, FrameWriter.add: the path every other dataset takes, and these rows took
 * before): the same frames byte for byte, the same rejections, counts and latest event time, on real
 * Massive rows, a generated day with its malformed rows, hand-made edge cases and 20,000 random edits.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateDay } from '../../../src/generator';
import { datasetOf } from '../../../src/producers/flatfile/datasets';
import { RowEncoder, type EncodedBatch } from '../../../src/producers/flatfile/encode/file-encoding';
import { FrameWriter } from '../../../src/producers/flatfile/encode/encoded';
import { OptionTradeRows } from '../../../src/producers/flatfile/encode/option-trade-rows';
import { FlatFileParser, type Rejection } from '../../../src/producers/flatfile/parse/flat-file-parser';
import { sampleText } from './helpers';

const DATASET = datasetOf('us_options_opra/trades_v1');
const HEADER = 'ticker,conditions,correction,exchange,participant_timestamp,price,sip_timestamp,size';
const ROW = 'O:SPY250307C00570000,209,,312,1741358477715633102,11.82,1741358477716374490,15';
const SPEC = { dataset: DATASET, origin: 'us_options_opra/trades_v1/2025/03/2025-03-07.csv.gz', universe: '*' as const, rootMap: { SPXW: 'SPX' }, schemaId: 7, reduction: null };

interface Outcome {
  frames: Buffer;
  count: number;
  rejections: Rejection[];
  latest: bigint | null;
  accepted: number;
  filtered: number;
}

function collect(batches: EncodedBatch[], stats: { accepted: number; filtered: number }): Outcome {
  const latest = batches.map((b) => b.maxEventTimeNs).reduce<bigint | null>((a, t) => (t !== null && (a === null || t > a) ? t : a), null);
  return {
    frames: Buffer.concat(batches.map((b) => b.frames)), count: batches.reduce((n, b) => n + b.count, 0),
    rejections: batches.flatMap((b) => b.rejections), latest, accepted: stats.accepted, filtered: stats.filtered,
  };
}

/** The product's encoder, fed in chunks of `chunk` bytes. */
function encoded(csv: Buffer, chunk: number): Outcome {
  const encoder = new RowEncoder(SPEC);
  const batches: EncodedBatch[] = [];
  for (let i = 0; i < csv.length; i += chunk) batches.push(encoder.push(csv.subarray(i, i + chunk)));
  batches.push(encoder.finish());
  return collect(batches, encoder.parser.stats);
}

/** The parser's way: every row parsed and normalised, then written by FrameWriter.add. */
function parsed(csv: Buffer): Outcome {
  const frames = new FrameWriter(SPEC.dataset, SPEC.schemaId);
  const parser = new FlatFileParser({ dataset: DATASET, origin: SPEC.origin, universe: SPEC.universe, rootMap: SPEC.rootMap });
  const batch = parser.push(csv);
  const last = parser.finish();
  const records = batch.records.concat(last.records);
  for (const r of records) frames.add(r);
  const latest = records.reduce<bigint | null>((a, r) => (a === null || r.sip_timestamp > a ? r.sip_timestamp : a), null);
  return { frames: frames.take(), count: records.length, rejections: batch.rejections.concat(last.rejections), latest, accepted: parser.stats.accepted, filtered: parser.stats.filtered };
}

/** Rows the shortcut wrote (rather than left to the parser) while `run` ran. */
function shortcutRows(run: () => void): number {
  const row = jest.spyOn(OptionTradeRows.prototype, 'row');
  try {
    run();
    return row.mock.results.filter((r) => r.value === true).length;
  } finally {
    row.mockRestore();
  }
}

function expectSame(csv: Buffer, chunk = 4096): Outcome {
  const expected = parsed(csv);
  const actual = encoded(csv, chunk);
  expect(actual.rejections).toEqual(expected.rejections);
  expect({ ...actual, frames: null, rejections: null }).toEqual({ ...expected, frames: null, rejections: null });
  expect(actual.frames.equals(expected.frames)).toBe(true);
  return expected;
}

function file(header: string, rows: readonly string[]): Buffer {
  return Buffer.from([header, ...rows].join('\n') + '\n', 'latin1');
}

describe('option-trade rows straight from their bytes', () => {
  it('real Massive rows: the same frames as the parser, nearly every row by the shortcut', () => {
    const csv = sampleText('options_trades_example.csv.gz');
    let outcome: Outcome | undefined;
    const written = shortcutRows(() => (outcome = expectSame(csv)));
    expect(outcome!.count).toBe(62);
    expect(written).toBeGreaterThan(outcome!.count * 0.95);
  });

  it('a generated day with its malformed rows, 8- and 7-column files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optflow-rows-'));
    try {
      for (const columns of [8, 7] as const) {
        const day = await generateDay({
          date: '2025-03-07', seed: 23, outDir: join(dir, `c${columns}`), contractsPerUnderlying: 12, optionTradesPerContract: 60,
          optionQuotesPerContract: 1, stockTradesPerUnderlying: 1, stockQuotesPerUnderlying: 1, optionTradeColumns: columns, datasets: ['us_options_opra/trades_v1'],
        });
        const trades = day.files.find((f) => f.dataset === 'us_options_opra/trades_v1')!;
        let outcome: Outcome | undefined;
        const written = shortcutRows(() => (outcome = expectSame(gunzipSync(readFileSync(trades.path)), 1000)));
        expect(outcome!.count).toBeGreaterThan(500);
        expect(outcome!.rejections.length).toBeGreaterThan(0);
        // the 7-column file lacks participant_timestamp: its rows take the shortcut all the same
        expect(written).toBeGreaterThan(outcome!.count * 0.95);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('edge cases of every field: taken by the shortcut or left to the parser, never written differently', () => {
    const fields = ROW.split(',');
    const variants: string[][] = [
      [0, ['O:SPY250307P00570000', 'O:QQQ250307C00500000', 'O:SPXW250307C05700000', 'O:spy250307C00570000', 'O:SPY25030', '', 'O:SPY250307C0057000é', 'O:SPY250307X00570000']],
      [1, ['', '12', '"209,219"', '"12,,37"', '"12, 37"', '" 12"', '"12"', '"12""37"', '"12', '1234567890', '123456789', '"0,0,0"', 'x']],
      [2, ['', '0', '012', '1234567890', '12345678901', 'x', '-1']],
      [3, ['', '0', '312', '0312', '999999999', '2147483648', '1.5']],
      [4, ['', '0', '00', '1741358477715633102', '741358477715633102', '0741358477715633102', '4102444800000000000', '4102444799999999999', '946684800000000000', '1741358477715633102x', '17413584777156331020']],
      [5, ['11.82', '11.80', '011.82', '0.5', '.5', '5.', '5', '0', '0.0', '0.000001', '0.0000001', '0.00000123', '1e3', '-1', '123456789012.345', '1234567890123.456', '1234567890123456', '179769313486231570000000000000', 'NaN', '1,5']],
      [6, ['1741358477716374490', '1741358477716374491', '2000000000000000000', '3999999999999999999', '999999999999999999', '1741358477716374490 ', '']],
      [7, ['15', '0', '05', '1', '999999999999999', '9007199254740993', '1.5', '', '-3']],
    ].flatMap(([at, values]) => (values as string[]).map((v) => fields.map((f, i) => (i === at ? v : f))));
    const rows = [...variants.map((v) => v.join(',')), ROW + ',', ROW.split(',').slice(0, 7).join(','), `${ROW}\r`, '', ROW];
    let outcome: Outcome | undefined;
    const written = shortcutRows(() => (outcome = expectSame(file(HEADER, rows), 97)));
    expect(outcome!.rejections.length).toBeGreaterThan(30);
    expect(written).toBeGreaterThan(20);
  });

  it('a sequence_number column, and columns in another order', () => {
    const header = 'sip_timestamp,ticker,price,size,sequence_number,exchange,conditions,correction,participant_timestamp';
    const rows = ['', '0', '5', '007', '9007199254740991', 'x'].map((seq, i) => `174135847771637449${i},O:SPY250307C00570000,1.25,3,${seq},312,209,,0`);
    expectSame(file(header, rows), 33);
  });

  it('absent optional columns (codes, participant time, sequence) read as empty, as the parser reads them', () => {
    const rows = ['1741358477716374490,O:SPY250307C00570000,1.25,3', '1741358477716374491,O:SPY250307P00570000,0.5,10', '1741358477716374492,O:SPY250307C0057000,1,1'];
    let outcome: Outcome | undefined;
    expect(shortcutRows(() => (outcome = expectSame(file('sip_timestamp,ticker,price,size', rows), 40)))).toBe(2);
    expect(outcome!.count).toBe(2);
    expect(outcome!.rejections.map((r) => r.reason)).toEqual(['bad_symbol']);
  });

  it('20,000 rows with random edits', () => {
    let seed = 20_251_206;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const alphabet = '0123456789,."-x é';
    const rows = Array.from({ length: 20_000 }, () => {
      const row = [...(random(3) === 0 ? ROW.replace('209', '"209,219"') : ROW)];
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(row.length);
        const kind = random(3);
        if (kind === 0) row[at] = alphabet[random(alphabet.length)];
        else if (kind === 1) row.splice(at, 1);
        else row.splice(at, 0, alphabet[random(alphabet.length)]);
      }
      return row.join('');
    });
    const outcome = expectSame(file(HEADER, rows), 8192);
    expect(outcome.count).toBeGreaterThan(3000);
    expect(outcome.rejections.length).toBeGreaterThan(3000);
  });
});

/**
 * Rows written straight from their bytes (byte-rows.ts: option trades, stock quotes, option quotes)
 * against the parser's way (parse, normalise, FrameWriter.add: the path stock trades take, and these rows
 * took before): the same frames byte for byte, the same rejections, counts, latest event time and
 * quotes dropped by reduction, on real Massive rows, generated days with their malformed rows, hand-made
 * edge cases and 20,000 random edits per dataset.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateDay } from '../../../src/generator';
import { datasetOf, type DatasetId } from '../../../src/producers/flatfile/datasets';
import { RowEncoder, type EncodedBatch, type EncodingSpec } from '../../../src/producers/flatfile/encode/file-encoding';
import { FrameWriter } from '../../../src/producers/flatfile/encode/encoded';
import { ByteRows } from '../../../src/producers/flatfile/encode/byte-rows';
import { RowFields } from '../../../src/producers/flatfile/encode/row-fields';
import { QuoteReduction, TradeTimes } from '../../../src/producers/flatfile/ingest/quote-reduction';
import { FlatFileParser, type Rejection } from '../../../src/producers/flatfile/parse/flat-file-parser';
import { sampleText } from './helpers';

const HEADER = 'ticker,conditions,correction,exchange,participant_timestamp,price,sip_timestamp,size';
const ROW = 'O:SPY250307C00570000,209,,312,1741358477715633102,11.82,1741358477716374490,15';

function specOf(dataset: DatasetId, reduction: QuoteReduction | null = null): EncodingSpec {
  return { dataset: datasetOf(dataset), origin: `${dataset}/2025/03/2025-03-07.csv.gz`, universe: '*', rootMap: { SPXW: 'SPX' }, schemaId: 7, reduction };
}
const SPEC = specOf('us_options_opra/trades_v1');

interface Outcome {
  frames: Buffer;
  count: number;
  rejections: Rejection[];
  latest: bigint | null;
  accepted: number;
  filtered: number;
  skipped: number;
}

function collect(batches: EncodedBatch[], stats: { accepted: number; filtered: number }): Outcome {
  const latest = batches.map((b) => b.maxEventTimeNs).reduce<bigint | null>((a, t) => (t !== null && (a === null || t > a) ? t : a), null);
  return {
    frames: Buffer.concat(batches.map((b) => b.frames)), count: batches.reduce((n, b) => n + b.count, 0),
    rejections: batches.flatMap((b) => b.rejections), latest, accepted: stats.accepted, filtered: stats.filtered,
    skipped: batches.reduce((n, b) => n + b.quotesSkipped, 0),
  };
}

/** The product's encoder, fed in chunks of `chunk` bytes. */
function encoded(csv: Buffer, chunk: number, spec: EncodingSpec): Outcome {
  const encoder = new RowEncoder(spec);
  const batches: EncodedBatch[] = [];
  for (let i = 0; i < csv.length; i += chunk) batches.push(encoder.push(csv.subarray(i, i + chunk)));
  batches.push(encoder.finish());
  return collect(batches, encoder.parser.stats);
}

/** The parser's way: every row parsed and normalised, reduction's rule applied, then written by FrameWriter.add. */
function parsed(csv: Buffer, spec: EncodingSpec): Outcome {
  const frames = new FrameWriter(spec.dataset, spec.schemaId);
  const parser = new FlatFileParser({ dataset: spec.dataset, origin: spec.origin, universe: spec.universe, rootMap: spec.rootMap });
  const batch = parser.push(csv);
  const last = parser.finish();
  const records = batch.records.concat(last.records);
  const kept = records.filter((r) => spec.reduction === null || spec.reduction.candidate(r.ticker, r.sip_timestamp));
  for (const r of kept) frames.add(r);
  const latest = records.reduce<bigint | null>((a, r) => (a === null || r.sip_timestamp > a ? r.sip_timestamp : a), null);
  return {
    frames: frames.take(), count: kept.length, rejections: batch.rejections.concat(last.rejections), latest,
    accepted: parser.stats.accepted, filtered: parser.stats.filtered, skipped: records.length - kept.length,
  };
}

/** Rows the shortcut took (rather than left to the parser) while `run` ran. */
function shortcutRows(run: () => void): number {
  const row = jest.spyOn(ByteRows.prototype, 'row');
  try {
    run();
    return row.mock.results.filter((r) => r.value === true).length;
  } finally {
    row.mockRestore();
  }
}

function expectSame(csv: Buffer, chunk = 4096, spec = SPEC): Outcome {
  const expected = parsed(csv, spec);
  const actual = encoded(csv, chunk, spec);
  expect(actual.rejections).toEqual(expected.rejections);
  expect({ ...actual, frames: null, rejections: null }).toEqual({ ...expected, frames: null, rejections: null });
  expect(actual.frames.equals(expected.frames)).toBe(true);
  return expected;
}

function file(header: string, rows: readonly string[]): Buffer {
  return Buffer.from([header, ...rows].join('\n') + '\n', 'latin1');
}

/** Deterministic pseudo-random integers below n. */
function randomInts(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
}

/** `count` copies of `row`, each with 1–3 random one-character edits. */
function randomlyEdited(row: () => string, count: number, seed: number): string[] {
  const random = randomInts(seed);
  const alphabet = '0123456789,."-x é';
  return Array.from({ length: count }, () => {
    const chars = [...row()];
    for (let edits = 1 + random(3); edits > 0; edits--) {
      const at = random(chars.length);
      const kind = random(3);
      if (kind === 0) chars[at] = alphabet[random(alphabet.length)];
      else if (kind === 1) chars.splice(at, 1);
      else chars.splice(at, 0, alphabet[random(alphabet.length)]);
    }
    return chars.join('');
  });
}

/** Each field of `row` replaced in turn by each of its variants. */
function fieldVariants(row: string, variants: readonly (readonly [number, readonly string[]])[]): string[] {
  const fields = row.split(',');
  return variants.flatMap(([at, values]) => values.map((v) => fields.map((f, i) => (i === at ? v : f)).join(',')));
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
    const variants = fieldVariants(ROW, [
      [0, ['O:SPY250307P00570000', 'O:QQQ250307C00500000', 'O:SPXW250307C05700000', 'O:spy250307C00570000', 'O:SPY25030', '', 'O:SPY250307C0057000é', 'O:SPY250307X00570000']],
      [1, ['', '12', '"209,219"', '"12,,37"', '"12, 37"', '" 12"', '"12"', '"12""37"', '"12', '1234567890', '123456789', '"0,0,0"', 'x']],
      [2, ['', '0', '012', '1234567890', '12345678901', 'x', '-1']],
      [3, ['', '0', '312', '0312', '999999999', '2147483648', '1.5']],
      [4, ['', '0', '00', '1741358477715633102', '741358477715633102', '0741358477715633102', '4102444800000000000', '4102444799999999999', '946684800000000000', '1741358477715633102x', '17413584777156331020']],
      [5, ['11.82', '11.80', '011.82', '0.5', '.5', '5.', '5', '0', '0.0', '0.000001', '0.0000001', '0.00000123', '1e3', '-1', '123456789012.345', '1234567890123.456', '1234567890123456', '179769313486231570000000000000', 'NaN', '1,5']],
      [6, ['1741358477716374490', '1741358477716374491', '2000000000000000000', '3999999999999999999', '999999999999999999', '1741358477716374490 ', '']],
      [7, ['15', '0', '05', '1', '999999999999999', '9007199254740993', '1.5', '', '-3']],
    ]);
    const rows = [...variants, ROW + ',', ROW.split(',').slice(0, 7).join(','), `${ROW}\r`, '', ROW];
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
    const random = randomInts(7);
    const rows = randomlyEdited(() => (random(3) === 0 ? ROW.replace('209', '"209,219"') : ROW), 20_000, 20_251_206);
    const outcome = expectSame(file(HEADER, rows), 8192);
    expect(outcome.count).toBeGreaterThan(3000);
    expect(outcome.rejections.length).toBeGreaterThan(3000);
  });
});

const SQ_HEADER = 'Ticker,ask_exchange,ask_price,ask_size,bid_exchange,bid_price,bid_size,conditions,indicators,participant_timestamp,sequence_number,sip_timestamp,tape,trf_timestamp';
const SQ_ROW = 'MSFT,11,277.01,3,12,275.33,2,1,,1679990400018372096,3886,1679990400018726518,3,0';
const STOCK_QUOTES = specOf('us_stocks_sip/quotes_v1');
const OQ_HEADER = 'ticker,ask_exchange,ask_price,ask_size,bid_exchange,bid_price,bid_size,sequence_number,sip_timestamp';
const OQ_ROW = 'O:SPY241220P00720000,309,326.77,1,303,321.77,2,81779,1680010200067217664';
const OPTION_QUOTES = specOf('us_options_opra/quotes_v1');

/** Variants of a quote side's three fields: price at `price`, size and exchange in the columns given. */
function sideVariants(price: number, size: number, exchange: number): [number, string[]][] {
  return [
    [price, ['0', '0.0', '00', '-0', '-1', '277.10', '0.5', '.5', '5.', '1e3', '', 'NaN', '0.0000001', '1234567890123456']],
    [size, ['0', '03', '', 'x', '1.5', '999999999999999', '9007199254740993']],
    [exchange, ['', '0', '011', '123456789', '1234567890', 'x', '-1']],
  ];
}

describe('stock-quote rows straight from their bytes', () => {
  it('real Massive rows: the same frames as the parser, every row by the shortcut', () => {
    const csv = sampleText('stock_quotes_sample.csv.gz');
    let outcome: Outcome | undefined;
    const written = shortcutRows(() => (outcome = expectSame(csv, 4096, STOCK_QUOTES)));
    expect(outcome!.count).toBe(99);
    expect(written).toBe(99);
  });

  it('a generated day with its malformed rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optflow-rows-'));
    try {
      const day = await generateDay({ date: '2025-03-07', seed: 29, outDir: dir, stockQuotesPerUnderlying: 3_000, datasets: ['us_stocks_sip/quotes_v1'] });
      const quotes = day.files.find((f) => f.dataset === 'us_stocks_sip/quotes_v1')!;
      let outcome: Outcome | undefined;
      const written = shortcutRows(() => (outcome = expectSame(gunzipSync(readFileSync(quotes.path)), 1000, STOCK_QUOTES)));
      expect(outcome!.count).toBeGreaterThan(2_500);
      expect(outcome!.rejections.length).toBeGreaterThan(0);
      expect(written).toBeGreaterThan(outcome!.count * 0.95);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('edge cases of every field, and absent sides whose size and exchange are not read', () => {
    const variants = fieldVariants(SQ_ROW, [
      [0, ['MSFT', 'BRK.B', 'BRK-B', 'A/B', 'msft', '1ABC', '', 'ABCDEFGHIJKLMNOPQ', 'ABCDEFGHIJKLMNOP', 'MSFTé', 'M SFT', '"MSFT"']],
      ...sideVariants(2, 3, 1), ...sideVariants(5, 6, 4),
      [7, ['', '1', '"1,12"', '"1, 12"', 'x', '"1,,2"', '1234567890']],
      [8, ['', '604', '"604,605"', '1234567890', '" 604"']],
      [9, ['', '0', '00', '1679990400018372096', '679990400018372096', '4102444800000000000', 'x']],
      [10, ['', '0', '03886', '9007199254740991', '9007199254740993']],
      [11, ['1679990400018726518', '999999999999999999', '4102444800000000000', '', '0']],
      [12, ['', '3', '03', 'x', '2147483648']],
      [13, ['', '0', '1679990400018726518', '00', 'x']],
    ]);
    const absentSides = ['MSFT,x,0,y,,0,-5,1,,0,1,1679990400018726518,3,0', 'MSFT,,0,,,0,,,,,,1679990400018726519,,'];
    let outcome: Outcome | undefined;
    const written = shortcutRows(() => (outcome = expectSame(file(SQ_HEADER, [...variants, ...absentSides, `${SQ_ROW},`, '', SQ_ROW]), 89, STOCK_QUOTES)));
    expect(outcome!.rejections.length).toBeGreaterThan(30);
    expect(written).toBeGreaterThan(40);
  });

  it('a header with only the columns every row needs', () => {
    const rows = ['SPY,1679990400018726518,570.01,5,0,', 'SPY,1679990400018726519,0,,570.02,7', 'SPY,1679990400018726520,570.01,5,570.02,', 'SPY,1679990400018726521,570.01,5,570.02,7'];
    let outcome: Outcome | undefined;
    expect(shortcutRows(() => (outcome = expectSame(file('ticker,sip_timestamp,bid_price,bid_size,ask_price,ask_size', rows), 40, STOCK_QUOTES)))).toBe(3);
    expect(outcome!.rejections.map((r) => r.reason)).toEqual(['missing_field']);
  });

  it('20,000 rows with random edits', () => {
    const random = randomInts(11);
    const rows = randomlyEdited(() => (random(3) === 0 ? SQ_ROW.replace(',1,,', ',"1,12",604,') : SQ_ROW), 20_000, 20_261_206);
    const outcome = expectSame(file(SQ_HEADER, rows), 8192, STOCK_QUOTES);
    expect(outcome.count).toBeGreaterThan(2000);
    expect(outcome.rejections.length).toBeGreaterThan(3000);
  });
});

describe('option-quote rows straight from their bytes', () => {
  it('real Massive rows: the same frames as the parser, every row by the shortcut', () => {
    const csv = sampleText('options_quotes_example.csv.gz');
    let outcome: Outcome | undefined;
    const written = shortcutRows(() => (outcome = expectSame(csv, 4096, OPTION_QUOTES)));
    expect(outcome!.count).toBe(99);
    expect(written).toBe(99);
  });

  /** Reduction drops at read the quotes no trade can see: the same ones, counted the same, either way. */
  it('a generated day with its malformed rows, with and without quote reduction', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optflow-rows-'));
    try {
      const day = await generateDay({
        date: '2025-03-07', seed: 31, outDir: dir, contractsPerUnderlying: 12, optionTradesPerContract: 20, optionQuotesPerContract: 300,
        datasets: ['us_options_opra/trades_v1', 'us_options_opra/quotes_v1'],
      });
      const csvOf = (dataset: DatasetId): Buffer => gunzipSync(readFileSync(day.files.find((f) => f.dataset === dataset)!.path));
      const trades = new TradeTimes();
      const tradeParser = new FlatFileParser({ dataset: SPEC.dataset, origin: SPEC.origin, universe: '*' });
      for (const r of [...tradeParser.push(csvOf('us_options_opra/trades_v1')).records, ...tradeParser.finish().records]) trades.add(r.ticker, r.sip_timestamp);
      const quotes = csvOf('us_options_opra/quotes_v1');
      for (const reduction of [null, new QuoteReduction(trades)]) {
        let outcome: Outcome | undefined;
        const written = shortcutRows(() => (outcome = expectSame(quotes, 1000, specOf('us_options_opra/quotes_v1', reduction))));
        expect(outcome!.rejections.length).toBeGreaterThan(0);
        expect(written).toBeGreaterThan((outcome!.count + outcome!.skipped) * 0.95);
        if (reduction === null) expect(outcome!.skipped).toBe(0);
        else {
          expect(outcome!.skipped).toBeGreaterThan(outcome!.count);
          expect(outcome!.count).toBeGreaterThan(100);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('edge cases of every field', () => {
    const variants = fieldVariants(OQ_ROW, [
      [0, ['O:SPY250307P00570000', 'O:SPXW250307C05700000', 'O:spy250307C00570000', 'O:SPY25030', '', 'O:SPY241220P0072000é', 'SPY']],
      ...sideVariants(2, 3, 1), ...sideVariants(5, 6, 4),
      [7, ['', '0', '081779', '9007199254740993', 'x']],
      [8, ['1680010200067217664', '999999999999999999', '4102444800000000000', '', '0', '1680010200067217664x']],
    ]);
    let outcome: Outcome | undefined;
    const written = shortcutRows(() => (outcome = expectSame(file(OQ_HEADER, [...variants, 'O:SPY241220P00720000,x,0,y,,0,-5,,1680010200067217665', '', OQ_ROW]), 71, OPTION_QUOTES)));
    expect(outcome!.rejections.length).toBeGreaterThan(30);
    expect(written).toBeGreaterThan(20);
  });

  it('20,000 rows with random edits', () => {
    const outcome = expectSame(file(OQ_HEADER, randomlyEdited(() => OQ_ROW, 20_000, 20_271_206)), 8192, OPTION_QUOTES);
    expect(outcome.count).toBeGreaterThan(3000);
    expect(outcome.rejections.length).toBeGreaterThan(3000);
  });
});

const ST_HEADER = 'ticker,conditions,correction,exchange,id,participant_timestamp,price,sequence_number,sip_timestamp,size,tape,trf_id,trf_timestamp';
const ST_ROW = 'MSFT,12,,11,1,1679990400018025984,276.16,1550,1679990400018381329,55,3,,0';
const STOCK_TRADES = specOf('us_stocks_sip/trades_v1');

describe('stock-trade rows straight from their bytes', () => {
  it('real Massive rows: the same frames as the parser, every row by the shortcut', () => {
    const csv = sampleText('stock_trades_sample.csv.gz');
    let outcome: Outcome | undefined;
    const written = shortcutRows(() => (outcome = expectSame(csv, 4096, STOCK_TRADES)));
    expect(outcome!.count).toBe(99);
    expect(written).toBe(99);
  });

  it('a generated day with its malformed rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optflow-rows-'));
    try {
      const day = await generateDay({ date: '2025-03-07', seed: 37, outDir: dir, stockTradesPerUnderlying: 3_000, datasets: ['us_stocks_sip/trades_v1'] });
      const trades = day.files.find((f) => f.dataset === 'us_stocks_sip/trades_v1')!;
      let outcome: Outcome | undefined;
      const written = shortcutRows(() => (outcome = expectSame(gunzipSync(readFileSync(trades.path)), 1000, STOCK_TRADES)));
      expect(outcome!.count).toBeGreaterThan(2_500);
      expect(outcome!.rejections.length).toBeGreaterThan(0);
      expect(written).toBeGreaterThan(outcome!.count * 0.95);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('edge cases of every field; without a sequence number the id goes into the dedupe key', () => {
    const variants = fieldVariants(ST_ROW, [
      [0, ['MSFT', 'BRK.B', 'msft', '1ABC', '', 'ABCDEFGHIJKLMNOPQ', 'MSFTé']],
      [1, ['', '12', '"12,37"', '"12, 37"', 'x']],
      [2, ['', '0', '12', '012']],
      [3, ['', '0', '011', '1234567890']],
      [4, ['', '1', 'abc', '"a,b"', 'é', '0', '"x""y"', '" 1"']],
      [5, ['', '0', '00', '679990400018025984', 'x']],
      [6, ['276.16', '0', '276.10', '.5', '-1', '1e2', '']],
      [7, ['', '0', '01550', '9007199254740993']],
      [8, ['1679990400018381329', '999999999999999999', '']],
      [9, ['55', '0', '0.5', '55.0', '1e2', '', '-1', '100.25', '0.0001']],
      [10, ['', '3', '03', 'x']],
      [11, ['', '201', '01', '2147483648']],
      [12, ['', '0', '1679990400018381000', '00', 'x']],
    ]);
    const noSequence = ['', '1', 'abc', '"a,b"', 'é'].map((id) => `MSFT,12,,11,${id},0,276.16,,1679990400018381330,55,3,,0`);
    let outcome: Outcome | undefined;
    const written = shortcutRows(() => (outcome = expectSame(file(ST_HEADER, [...variants, ...noSequence, `${ST_ROW},`, '', ST_ROW]), 83, STOCK_TRADES)));
    expect(outcome!.rejections.length).toBeGreaterThan(20);
    expect(written).toBeGreaterThan(40);
  });

  it('20,000 rows with random edits', () => {
    const random = randomInts(13);
    const rows = randomlyEdited(() => (random(3) === 0 ? ST_ROW.replace(',1550,', ',,') : ST_ROW), 20_000, 20_281_206);
    const outcome = expectSame(file(ST_HEADER, rows), 8192, STOCK_TRADES);
    expect(outcome.count).toBeGreaterThan(2000);
    expect(outcome.rejections.length).toBeGreaterThan(3000);
  });
});

describe('RowFields.timestamp', () => {
  it('reads a 19-digit time as the halves of its BigInt, at 2^32 boundaries and the range ends', () => {
    const times: bigint[] = [1_000_000_000_000_000_000n, 3_999_999_999_999_999_999n, 946_684_800_000_000_000n * 2n, 4_102_444_799_999_999_999n - 10n ** 18n];
    for (let k = 0n; k < 2000n; k += 7n) {
      const boundary = ((1_741_356_000_000_000_000n >> 32n) + k * 99_991n) << 32n;
      times.push(boundary - 1n, boundary, boundary + 1n);
    }
    let x = 1_741_356_000_000_000_000n;
    for (let i = 0; i < 5000; i++) times.push((x = (x * 6_364_136_223_846_793_005n + 1_442_695_040_888_963_407n) % 3_000_000_000_000_000_000n + 1_000_000_000_000_000_000n));
    const line = Buffer.from(times.join(','));
    const fields = new RowFields(times.length);
    expect(fields.split(line, 0, line.length)).toBe(true);
    times.forEach((t, column) => {
      expect(fields.timestamp(line, column)).toBe(true);
      expect((BigInt(fields.hi) << 32n) | BigInt(fields.lo)).toBe(t);
    });
  });

  it('leaves anything but 19 plain digits starting 1–3 to the parser', () => {
    const bad = ['174135600000000000', '17413560000000000000', '0741356000000000000', '4741356000000000000', '17413560000000a0000', '1741356000000000/00', '174135600:000000000', '-741356000000000000'];
    const line = Buffer.from(bad.join(','));
    const fields = new RowFields(bad.length);
    expect(fields.split(line, 0, line.length)).toBe(true);
    bad.forEach((_, column) => expect(fields.timestamp(line, column)).toBe(false));
  });
});

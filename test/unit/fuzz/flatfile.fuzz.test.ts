/**
 * Fuzz (issue 16): 10,000 mutated flat-file rows (2,500 per dataset) through the real parse and
 * normalise path (FlatFileParser, random chunk boundaries), each mutant between two valid rows.
 * Expected: no throw; every line is either one accepted record or one rejection with a known reason,
 * a detail and its own line number; every valid row comes out exactly as it does alone; everything
 * accepted encodes with the topic's Avro schema and every rejection as a DeadLetter, as the producer
 * sends them (an encoding error there would stop the producer mid-file).
 */
import { isDeepStrictEqual } from 'node:util';
import { datasetOf, type Dataset } from '../../../src/producers/flatfile/datasets';
import { FlatFileParser, type ParsedBatch, type Rejection } from '../../../src/producers/flatfile/parse/flat-file-parser';
import { MAX_TIMESTAMP_NS, MIN_TIMESTAMP_NS, REJECT_REASONS, type RejectReason } from '../../../src/producers/flatfile/parse/fields';
import type { MarketRecord } from '../../../src/producers/flatfile/parse/normalise';
import { typeOf, type SchemaName } from '../../../src/avro/types';
import type { DeadLetter } from '../../../src/domain/records';
import { sampleText } from '../flatfile/helpers';
import { Fuzz, HUGE_NUMBERS, NON_UTF8 } from './mutate';

const PER_DATASET = 2500;
const LF = 10;
const CR = 13;

const FILES: { dataset: string; file: string; schema: SchemaName }[] = [
  { dataset: 'us_stocks_sip/trades_v1', file: 'stock_trades_sample.csv.gz', schema: 'EquityTrade' },
  { dataset: 'us_stocks_sip/quotes_v1', file: 'stock_quotes_sample.csv.gz', schema: 'EquityQuote' },
  { dataset: 'us_options_opra/trades_v1', file: 'options_trades_example.csv.gz', schema: 'OptionTrade' },
  { dataset: 'us_options_opra/quotes_v1', file: 'options_quotes_example.csv.gz', schema: 'OptionQuote' },
];

type Mutation = 'byte_flip' | 'truncate' | 'extra_field' | 'missing_field' | 'huge_number' | 'non_utf8' | 'quote' | 'empty';
const MUTATIONS: readonly Mutation[] = ['byte_flip', 'truncate', 'extra_field', 'missing_field', 'huge_number', 'non_utf8', 'quote', 'empty'];

/** Field boundaries of an unquoted-or-simply-quoted CSV line (good enough to pick a field to damage). */
function fieldsOf(line: string): string[] {
  return line.split(',');
}

function mutate(fuzz: Fuzz, row: string, kind: Mutation): Buffer {
  const bytes = Buffer.from(row, 'latin1');
  switch (kind) {
    case 'byte_flip': {
      const out = Buffer.from(bytes);
      const flips = 1 + fuzz.int(3);
      for (let i = 0; i < flips; i++) {
        let b = fuzz.int(256);
        if (b === LF || b === CR) b = 0;
        out[fuzz.int(out.length)] = b;
      }
      return out;
    }
    case 'truncate':
      return bytes.subarray(0, fuzz.int(bytes.length));
    case 'extra_field': {
      const f = fieldsOf(row);
      f.splice(fuzz.int(f.length + 1), 0, fuzz.pick(['', 'x', '1', '"a,b"', f[fuzz.int(f.length)]]));
      return Buffer.from(f.join(','), 'latin1');
    }
    case 'missing_field': {
      const f = fieldsOf(row);
      f.splice(fuzz.int(f.length), 1);
      return Buffer.from(f.join(','), 'latin1');
    }
    case 'huge_number': {
      const f = fieldsOf(row);
      const i = fuzz.int(f.length);
      f[i] = fuzz.chance(0.5) ? fuzz.pick(HUGE_NUMBERS) : fuzz.digits(16 + fuzz.int(400));
      return Buffer.from(f.join(','), 'latin1');
    }
    case 'non_utf8': {
      const at = fuzz.int(bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(fuzz.pick(NON_UTF8)), bytes.subarray(at)]);
    }
    case 'quote': {
      const f = fieldsOf(row);
      const i = fuzz.int(f.length);
      f[i] = fuzz.pick([`"${f[i]}`, `${f[i]}"`, `"${f[i]}"x`, `"${f[i]}""`, `"${f[i]},${f[i]}"`, `"${f[i]}"`, `""${f[i]}`]);
      return Buffer.from(f.join(','), 'latin1');
    }
    case 'empty':
      return Buffer.alloc(0);
  }
}

interface FuzzRun {
  records: Map<number, MarketRecord>;
  rejections: Map<number, Rejection>;
  parser: FlatFileParser;
}

function parseInRandomChunks(fuzz: Fuzz, dataset: Dataset, csv: Buffer): FuzzRun {
  const parser = new FlatFileParser({ dataset, origin: 'fuzz-key', universe: '*' });
  const records = new Map<number, MarketRecord>();
  const rejections = new Map<number, Rejection>();
  const take = (b: ParsedBatch): void => {
    for (const r of b.records) {
      const line = Number(r.origin_offset);
      if (records.has(line) || rejections.has(line)) throw new Error(`line ${line} came out twice`);
      records.set(line, r);
    }
    for (const r of b.rejections) {
      if (records.has(r.lineNumber) || rejections.has(r.lineNumber)) throw new Error(`line ${r.lineNumber} came out twice`);
      rejections.set(r.lineNumber, r);
    }
  };
  for (let i = 0; i < csv.length; ) {
    const size = 1 + fuzz.int(fuzz.chance(0.2) ? 64 : 65_536);
    take(parser.push(csv.subarray(i, i + size)));
    i += size;
  }
  take(parser.finish());
  return { records, rejections, parser };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Sanity of an accepted record beyond what the Avro encoder checks. */
function invariantViolations(r: MarketRecord): string[] {
  const bad: string[] = [];
  const v = r as unknown as Record<string, unknown>;
  if (r.sip_timestamp < MIN_TIMESTAMP_NS || r.sip_timestamp >= MAX_TIMESTAMP_NS) bad.push('sip_timestamp out of range');
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'number' && !Number.isFinite(x)) bad.push(`${k} is not finite`);
    if (typeof x === 'bigint' && (x < INT64_MIN || x > INT64_MAX)) bad.push(`${k} exceeds int64`);
  }
  for (const k of ['price', 'bid_price', 'ask_price', 'size', 'bid_size', 'ask_size']) {
    const x = v[k];
    if (x !== null && x !== undefined && !(Number(x) > 0)) bad.push(`${k} not positive`);
  }
  return bad;
}

describe('fuzz: mutated flat-file rows through the parser and normaliser', () => {
  const deadLetterType = typeOf('DeadLetter');
  const total: Record<string, number> = {};

  afterAll(() => {
    process.stdout.write(`flat-file fuzz, outcomes over ${FILES.length * PER_DATASET} mutants: ${JSON.stringify(total)}\n`);
  });

  it.each(FILES)('$dataset: each mutant is one record or one rejection, the valid rows around it are intact', ({ dataset, file, schema }) => {
    const fuzz = new Fuzz(`flatfile:${dataset}`);
    const text = sampleText(file).toString('latin1').replace(/\r/g, '').replace(/\n$/, '');
    const [header, ...rows] = text.split('\n');
    const reference = parseInRandomChunks(fuzz, datasetOf(dataset), Buffer.from(text, 'latin1'));
    expect(reference.rejections.size).toBe(0);
    const referenceRecord = (row: number): MarketRecord => reference.records.get(row + 2)!;

    // header, then (valid, mutant) pairs, then one last valid row
    const parts: Buffer[] = [Buffer.from(header, 'latin1')];
    const good = new Map<number, number>(); // line → sample row index
    const mutants = new Map<number, Mutation>();
    for (let i = 0; i < PER_DATASET; i++) {
      const g = i % rows.length;
      parts.push(Buffer.from(rows[g], 'latin1'));
      good.set(parts.length, g);
      const kind = fuzz.pick(MUTATIONS);
      parts.push(mutate(fuzz, fuzz.pick(rows), kind));
      mutants.set(parts.length, kind);
    }
    parts.push(Buffer.from(rows[0], 'latin1'));
    good.set(parts.length, 0);
    const csv = Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from([LF]), p])));

    const type = typeOf(schema);
    const { records, rejections, parser } = parseInRandomChunks(fuzz, datasetOf(dataset), csv);
    const rawLine = (line: number): string => parts[line - 1].toString('latin1');

    // every line after the header comes out exactly once
    expect(parser.stats.lines).toBe(parts.length);
    expect(records.size + rejections.size).toBe(parts.length - 1);
    expect(parser.stats.accepted).toBe(records.size);

    // the valid rows are unharmed by their neighbours
    const harmed = [...good].filter(([line, row]) => !isDeepStrictEqual(records.get(line), { ...referenceRecord(row), origin: 'fuzz-key', origin_offset: BigInt(line) }));
    expect(harmed.slice(0, 5)).toEqual([]);

    const outcomes: Record<string, number> = {};
    const count = (k: string): void => {
      outcomes[k] = (outcomes[k] ?? 0) + 1;
      total[k] = (total[k] ?? 0) + 1;
    };
    const problems: string[] = [];
    for (const [line, kind] of mutants) {
      const rejection = rejections.get(line);
      if (rejection) {
        count(rejection.reason);
        if (!REJECT_REASONS.includes(rejection.reason as RejectReason)) problems.push(`line ${line}: unknown reason ${rejection.reason}`);
        if (rejection.detail.length === 0 && rejection.reason !== 'wrong_column_count') problems.push(`line ${line}: empty detail`);
        const letter: DeadLetter = {
          reason: rejection.reason, detail: rejection.detail, origin: 'fuzz-key', position: BigInt(rejection.lineNumber),
          partition: null, event_time: null, raw: Buffer.from(rejection.raw, 'latin1'), recorded_at_ms: 0n,
        };
        const back = deadLetterType.fromBuffer(deadLetterType.toBuffer(letter)) as DeadLetter;
        if (!back.raw.equals(parts[line - 1]) || back.position !== BigInt(line)) problems.push(`line ${line}: dead letter does not carry the raw line and its position`);
        continue;
      }
      const record = records.get(line)!;
      count('accepted');
      const bad = invariantViolations(record);
      try {
        type.toBuffer(record);
      } catch (err) {
        bad.push(`Avro encoding fails: ${(err as Error).message}`);
      }
      if (bad.length > 0) problems.push(`line ${line} (${kind}): ${bad.join('; ')}: ${rawLine(line)}`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
    // most mutants break the row: every reason the mutations can provoke is seen
    expect(outcomes.accepted ?? 0).toBeLessThan(PER_DATASET / 2);
    for (const reason of ['non_numeric', 'wrong_column_count', 'unterminated_quote'] as const) expect(outcomes[reason]).toBeGreaterThan(0);
  });
});

import { parse as csvParse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDay } from '../../../src/generator';
import { LineSplitter, readLines } from '../../../src/producers/flatfile/parse/lines';
import { RowRejection, splitFields } from '../../../src/producers/flatfile/parse/fields';
import { sampleText } from './helpers';

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
}

function expectSameSplitAsCsvParse(text: string): number {
  const ours = lines(text).map((l) => [...splitFields(l, [])]);
  const oracle = csvParse(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
  expect(ours).toEqual(oracle);
  return ours.length;
}

describe('splitFields against csv-parse', () => {
  it.each([
    'stock_trades_sample.csv.gz', 'stock_quotes_sample.csv.gz',
    'options_trades_example.csv.gz', 'options_quotes_example.csv.gz',
  ])('agrees on every line of %s', (file) => {
    expect(expectSameSplitAsCsvParse(sampleText(file).toString('latin1'))).toBeGreaterThan(60);
  });

  it('agrees on generated rows of every dataset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optflow-split-'));
    try {
      const day = await generateDay({
        date: '2025-06-13', outDir: dir, seed: 3, contractsPerUnderlying: 6, optionTradesPerContract: 20,
        optionQuotesPerContract: 20, stockTradesPerUnderlying: 300, stockQuotesPerUnderlying: 300, malformed: false,
      });
      for (const f of day.files) {
        const text = gunzipSync(readFileSync(f.path)).toString('latin1');
        expect(expectSameSplitAsCsvParse(text)).toBe(f.rows + 1);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('handles quoted lists, empty fields, trailing empty field and escaped quotes', () => {
    expect(splitFields('MSFT,"12,37",,11', [])).toEqual(['MSFT', '12,37', '', '11']);
    expect(splitFields('a,b,', [])).toEqual(['a', 'b', '']);
    expect(splitFields('"x""y",z', [])).toEqual(['x"y', 'z']);
    expect(splitFields('', [])).toEqual(['']);
  });

  it('rejects an unterminated quote and text after a closing quote', () => {
    const reasonOf = (line: string): string => {
      try {
        splitFields(line, []);
        return 'none';
      } catch (e) {
        return (e as RowRejection).reason;
      }
    };
    expect(reasonOf('MSFT,"12,37,,11')).toBe('unterminated_quote');
    expect(reasonOf('MSFT,"12"7,11')).toBe('unterminated_quote');
  });
});

describe('LineSplitter', () => {
  it('joins lines split across chunks, strips CR, keeps a last line without newline, numbers from 1', () => {
    const text = 'h1,h2\r\nab,cd\r\nef,"g,h"\nlast,x';
    for (let size = 1; size <= text.length; size++) {
      const got: string[] = [];
      const splitter = new LineSplitter();
      const sink = (buf: Buffer, s: number, e: number, n: number): void => {
        got.push(`${n}:${buf.toString('latin1', s, e)}`);
      };
      const bytes = Buffer.from(text, 'latin1');
      for (let i = 0; i < bytes.length; i += size) splitter.push(bytes.subarray(i, i + size), sink);
      splitter.end(sink);
      expect(got).toEqual(['1:h1,h2', '2:ab,cd', '3:ef,"g,h"', '4:last,x']);
    }
  });

  it('readLines yields text lines with numbers; a trailing newline adds no empty line', async () => {
    async function* chunks(): AsyncGenerator<Buffer> {
      yield Buffer.from('a,1\nb,');
      yield Buffer.from('2\n');
    }
    const out: string[] = [];
    for await (const batch of readLines(chunks())) for (const l of batch) out.push(`${l.lineNumber}:${l.text}`);
    expect(out).toEqual(['1:a,1', '2:b,2']);
  });
});

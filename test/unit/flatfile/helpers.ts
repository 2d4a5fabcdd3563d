import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { datasetOf } from '../../../src/producers/flatfile/datasets';
import { FlatFileParser, type ParsedBatch } from '../../../src/producers/flatfile/parse/flat-file-parser';
import type { Universe } from '../../../src/producers/flatfile/parse/universe';

export const SAMPLES = join(__dirname, '../../fixtures/massive-samples');

export function sampleText(file: string): Buffer {
  return gunzipSync(readFileSync(join(SAMPLES, file)));
}

/** Parses a whole buffer in chunks of `chunkSize` bytes (to exercise lines split across chunks). */
export function parseAll(
  dataset: string,
  csv: Buffer,
  universe: Universe = '*',
  chunkSize = 64 * 1024,
): ParsedBatch & { parser: FlatFileParser } {
  const parser = new FlatFileParser({ dataset: datasetOf(dataset), origin: 'test-key', universe });
  const out: ParsedBatch = { records: [], rejections: [] };
  const take = (b: ParsedBatch): void => {
    out.records.push(...b.records);
    out.rejections.push(...b.rejections);
  };
  for (let i = 0; i < csv.length; i += chunkSize) take(parser.push(csv.subarray(i, i + chunkSize)));
  take(parser.finish());
  return { ...out, parser };
}

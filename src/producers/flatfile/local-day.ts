import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { DATASETS, flatFileKey } from './datasets';
import { MarketRecord } from './parse/normalise';
import { FlatFileParser } from './parse/flat-file-parser';

export { recordKey } from './parse/normalise';

function byEventTime(a: MarketRecord, b: MarketRecord): number {
  if (a.sip_timestamp !== b.sip_timestamp) return a.sip_timestamp < b.sip_timestamp ? -1 : 1;
  const sa = a.sequence_number ?? -1n;
  const sb = b.sequence_number ?? -1n;
  if (sa !== sb) return sa < sb ? -1 : 1;
  return a.origin_offset < b.origin_offset ? -1 : a.origin_offset > b.origin_offset ? 1 : 0;
}

/**
 * The valid records of a small local day (Massive key layout), by topic, in event-time order: what the
 * flatfile producer would publish, without Kafka. Whole files in memory: for tests, benches, samples.
 */
export function readLocalDay(dir: string, date: string, universe: readonly string[]): Map<string, MarketRecord[]> {
  const out = new Map<string, MarketRecord[]>();
  for (const dataset of DATASETS) {
    const key = flatFileKey(dataset.id, date);
    const file = path.join(dir, key);
    if (!fs.existsSync(file)) continue;
    const parser = new FlatFileParser({ dataset, origin: key, universe: [...universe] });
    const records = [...parser.push(zlib.gunzipSync(fs.readFileSync(file))).records, ...parser.finish().records];
    out.set(dataset.topic, records.sort(byEventTime));
  }
  return out;
}

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { OptionTrade } from '../../../src/domain/records';
import { generateDay, type GeneratedDayManifest, type GeneratedFile } from '../../../src/generator';
import type { Universe } from '../../../src/producers/flatfile/parse/universe';
import { parseAll } from './helpers';

const SMALL = {
  date: '2025-03-07', seed: 11, contractsPerUnderlying: 8, optionTradesPerContract: 40,
  optionQuotesPerContract: 40, stockTradesPerUnderlying: 600, stockQuotesPerUnderlying: 600,
};

let dir: string;
let day8: GeneratedDayManifest;
let day7: GeneratedDayManifest;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'optflow-gen-parse-'));
  day8 = await generateDay({ ...SMALL, outDir: join(dir, 'c8') });
  day7 = await generateDay({ ...SMALL, outDir: join(dir, 'c7'), optionTradeColumns: 7, datasets: ['us_options_opra/trades_v1'] });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parseFile(f: GeneratedFile, universe: Universe, chunkSize = 4096): ReturnType<typeof parseAll> {
  return parseAll(f.dataset, gunzipSync(readFileSync(f.path)), universe, chunkSize);
}

function expectedCounts(f: GeneratedFile, universe: Universe): { accepted: number; rejected: string[] } {
  const inUniverse = (u: string | null): boolean => universe === '*' || (u !== null && universe.includes(u));
  const accepted = Object.entries(f.validRowsByUnderlying)
    .filter(([u]) => inUniverse(u))
    .reduce((acc, [, n]) => acc + n, 0);
  const rejected = f.malformed.filter((m) => inUniverse(m.underlying)).map((m) => `${m.line}:${m.reason}`);
  return { accepted, rejected };
}

describe('parsing generated days', () => {
  it.each([['*'], ['SPY'], ['QQQ', 'IWM']])('every dataset under universe %p: exact accepted, rejected (with line), filtered', (...u) => {
    const universe: Universe = u[0] === '*' ? '*' : u;
    for (const f of day8.files) {
      const { records, rejections, parser } = parseFile(f, universe);
      const want = expectedCounts(f, universe);
      expect(records).toHaveLength(want.accepted);
      expect(rejections.map((r) => `${r.lineNumber}:${r.reason}`).sort()).toEqual([...want.rejected].sort());
      expect(parser.stats.filtered).toBe(f.rows - want.accepted - want.rejected.length);
      if (universe !== '*') {
        for (const r of records) expect(universe).toContain('underlying' in r ? r.underlying : r.ticker);
      }
    }
  });

  it('every malformed kind appears and is rejected with its reason under "*"', () => {
    for (const f of day8.files) {
      const reasons = new Set(f.malformed.map((m) => m.reason));
      expect([...reasons].sort()).toEqual([
        'bad_symbol', 'missing_field', 'non_numeric', 'non_positive_price', 'non_positive_size',
        'timestamp_out_of_range', 'unterminated_quote', 'wrong_column_count',
      ]);
      const { rejections } = parseFile(f, '*');
      expect(rejections).toHaveLength(f.malformed.length);
    }
  });

  it('7- and 8-column option-trade layouts both parse, with and without participant_timestamp', () => {
    const f8 = day8.files.find((f) => f.dataset === 'us_options_opra/trades_v1')!;
    const f7 = day7.files[0];
    expect(f8.columns).toHaveLength(8);
    expect(f7.columns).toHaveLength(7);
    const r8 = parseFile(f8, ['SPY']).records as OptionTrade[];
    const r7 = parseFile(f7, ['SPY']).records as OptionTrade[];
    expect(r7).toHaveLength(f7.validRowsByUnderlying.SPY);
    expect(r8).toHaveLength(f8.validRowsByUnderlying.SPY);
    expect(r7.every((r) => r.participant_timestamp === null)).toBe(true);
    expect(r8.every((r) => r.participant_timestamp !== null && r.participant_timestamp <= r.sip_timestamp)).toBe(true);
    expect(r7[0].ticker).toMatch(/^O:SPY250307[CP]\d{8}$/);
    expect(r7.every((r) => r.underlying === 'SPY' && r.price > 0 && r.size > 0n)).toBe(true);
  });

  it('the same file parses identically whatever the chunk size', () => {
    const f = day8.files.find((x) => x.dataset === 'us_stocks_sip/trades_v1')!;
    const a = parseFile(f, '*', 7);
    const b = parseFile(f, '*', 1 << 20);
    expect(a.records).toEqual(b.records);
    expect(a.rejections).toEqual(b.rejections);
  });
});

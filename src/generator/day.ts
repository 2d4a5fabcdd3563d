/**
 * Seeded generator of a realistic Massive-format day: the four datasets as gzip CSV under
 * `<outDir>/<dataset>/<YYYY>/<MM>/<YYYY-MM-DD>.csv.gz`, plus a manifest of exactly what was
 * written. Same options + seed → same bytes.
 */
import { join } from 'node:path';
import { DATASET_COLUMNS } from '../producers/flatfile/parse/columns';
import { DATASETS, flatFileKey, type DatasetId } from '../producers/flatfile/datasets';
import type { RejectReason } from '../producers/flatfile/parse/fields';
import { contractsFor, eventsPerContract } from './contracts';
import { MALFORMED_KINDS, malformedLine } from './malformed';
import { BENCH_EXTRA_UNDERLYINGS, DEFAULT_UNDERLYINGS, PricePath, type Contract, type UnderlyingSpec } from './market';
import { Prng } from './prng';
import {
  eventOffsets, optionQuoteRow, optionTradeRow, slightlyDisorder, stockQuoteRow, stockTradeRow, type Row,
} from './rows';
import { regularSession, type Session } from './session';
import { GzipCsvWriter } from './writer';

export type GeneratorScale = 'small' | 'bench';

export interface GenerateDayOptions {
  /** YYYY-MM-DD. */
  date: string;
  outDir: string;
  seed?: number;
  scale?: GeneratorScale;
  underlyings?: readonly UnderlyingSpec[];
  contractsPerUnderlying?: number;
  /** Average per contract for an underlying of activity 1 (SPY); others scale by activity. */
  optionTradesPerContract?: number;
  optionQuotesPerContract?: number;
  stockTradesPerUnderlying?: number;
  stockQuotesPerUnderlying?: number;
  optionTradeColumns?: 7 | 8;
  malformed?: boolean;
  /** Malformed rows per reason per file (all on the first underlying's rows, but see bad_symbol). */
  malformedPerKind?: number;
  /** Risk-free rate used to price options (q = 0). */
  rate?: number;
  datasets?: readonly DatasetId[];
  gzipLevel?: number;
}

export interface MalformedRowInfo {
  line: number;
  reason: RejectReason;
  /** Universe the parser attributes the row to; null = only rejected under universe '*'. */
  underlying: string | null;
}

export interface GeneratedFile {
  dataset: DatasetId;
  key: string;
  path: string;
  columns: string[];
  /** Data lines (valid + malformed), header excluded. */
  rows: number;
  validRows: number;
  validRowsByUnderlying: Record<string, number>;
  malformed: MalformedRowInfo[];
  /** Option trades deliberately printed below intrinsic value (at the path price). */
  belowIntrinsic: number;
  /** Valid trades whose correction is neither empty nor 0. */
  nonZeroCorrections: number;
  uncompressedBytes: number;
  bytes: number;
  sha256: string;
}

export interface GeneratedDayManifest {
  date: string;
  seed: number;
  underlyings: string[];
  files: GeneratedFile[];
}

type Resolved = Required<Omit<GenerateDayOptions, 'scale'>>;

const SCALES: Record<GeneratorScale, Omit<Resolved, 'date' | 'outDir' | 'seed'>> = {
  small: {
    underlyings: DEFAULT_UNDERLYINGS, contractsPerUnderlying: 40, optionTradesPerContract: 75,
    optionQuotesPerContract: 150, stockTradesPerUnderlying: 20_000, stockQuotesPerUnderlying: 80_000,
    optionTradeColumns: 8, malformed: true, malformedPerKind: 2, rate: 0.045,
    datasets: DATASETS.map((d) => d.id), gzipLevel: 6,
  },
  bench: {
    underlyings: [...DEFAULT_UNDERLYINGS, ...BENCH_EXTRA_UNDERLYINGS], contractsPerUnderlying: 400,
    optionTradesPerContract: 2_900, optionQuotesPerContract: 200, stockTradesPerUnderlying: 100_000,
    stockQuotesPerUnderlying: 100_000, optionTradeColumns: 8, malformed: true, malformedPerKind: 2,
    rate: 0.045, datasets: DATASETS.map((d) => d.id), gzipLevel: 6,
  },
};

function resolve(options: GenerateDayOptions): Resolved {
  const base = SCALES[options.scale ?? 'small'];
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const resolved = { ...base, seed: 1, ...defined } as Resolved & { scale?: GeneratorScale };
  delete resolved.scale;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(resolved.date)) throw new Error(`date must be YYYY-MM-DD, got "${resolved.date}"`);
  return resolved;
}

/** One ticker (stocks) or contract (options): its rows in file order. */
interface Group {
  underlying: string;
  rows(): { rows: Row[]; belowIntrinsic: number };
}

interface Market {
  session: Session;
  sessionNs: number;
  paths: Map<string, PricePath>;
  specs: UnderlyingSpec[];
  contracts: Contract[];
}

function buildMarket(o: Resolved): Market {
  const session = regularSession(o.date);
  const specs = [...o.underlyings].sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
  const paths = new Map(specs.map((s) => [s.symbol, new PricePath(s, session, Prng.derive(o.seed, `path:${s.symbol}`))]));
  const contracts = specs
    .flatMap((s) => contractsFor(s, o.date, o.contractsPerUnderlying))
    .sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
  return { session, sessionNs: Number(session.closeNs - session.openNs), paths, specs, contracts };
}

function stockGroups(o: Resolved, m: Market, dataset: DatasetId): Group[] {
  const perUnderlying = dataset === 'us_stocks_sip/trades_v1' ? o.stockTradesPerUnderlying : o.stockQuotesPerUnderlying;
  const sizeUnit = o.date >= '2025-11-03' ? 100 : 1;
  return m.specs.map((spec) => ({
    underlying: spec.symbol,
    rows: () => {
      const rng = Prng.derive(o.seed, `${dataset}:${spec.symbol}`);
      const path = m.paths.get(spec.symbol)!;
      const offsets = eventOffsets(rng, Math.round(perUnderlying * spec.activity), m.sessionNs);
      const rows = Array.from(offsets, (offsetNs, i) => {
        const clock = { openNs: m.session.openNs, offsetNs };
        return dataset === 'us_stocks_sip/trades_v1'
          ? stockTradeRow(rng, spec.symbol, spec.tape, path, clock, i + 1)
          : stockQuoteRow(rng, spec.symbol, spec.tape, path, clock, 1000 + i * 7, sizeUnit);
      });
      return { rows: slightlyDisorder(rows, rng), belowIntrinsic: 0 };
    },
  }));
}

function optionGroups(o: Resolved, m: Market, dataset: DatasetId): Group[] {
  const isTrades = dataset === 'us_options_opra/trades_v1';
  const perContract = isTrades ? o.optionTradesPerContract : o.optionQuotesPerContract;
  const counts = new Map<string, number>();
  for (const spec of m.specs) {
    const own = m.contracts.filter((c) => c.underlying === spec.symbol);
    const n = eventsPerContract(own, perContract * own.length * spec.activity);
    own.forEach((c, i) => counts.set(c.symbol, n[i]));
  }
  const specOf = new Map(m.specs.map((s) => [s.symbol, s]));
  return m.contracts.map((contract) => ({
    underlying: contract.underlying,
    rows: () => {
      const rng = Prng.derive(o.seed, `${dataset}:${contract.symbol}`);
      const path = m.paths.get(contract.underlying)!;
      const ctx = { rate: o.rate, atmVol: specOf.get(contract.underlying)!.vol };
      const offsets = eventOffsets(rng, counts.get(contract.symbol)!, m.sessionNs);
      let belowIntrinsic = 0;
      let seq = rng.int(1, 100_000);
      const rows = Array.from(offsets, (offsetNs) => {
        const clock = { openNs: m.session.openNs, offsetNs };
        if (!isTrades) return optionQuoteRow(rng, contract, path, clock, ctx, (seq += rng.int(1, 5000)));
        const trade = optionTradeRow(rng, contract, path, clock, ctx);
        if (trade.belowIntrinsic) belowIntrinsic++;
        return trade.row;
      });
      return { rows: slightlyDisorder(rows, rng), belowIntrinsic };
    },
  }));
}

function columnsOf(dataset: DatasetId, o: Resolved): string[] {
  const known = [...DATASET_COLUMNS[dataset].known];
  if (dataset === 'us_options_opra/trades_v1' && o.optionTradeColumns === 7) {
    return known.filter((c) => c !== 'participant_timestamp');
  }
  return known;
}

/** Header as Massive spells it: the stock-quotes file says `Ticker`. */
function headerOf(dataset: DatasetId, columns: readonly string[]): string {
  const names = dataset === 'us_stocks_sip/quotes_v1' ? columns.map((c) => (c === 'ticker' ? 'Ticker' : c)) : columns;
  return names.join(',');
}

/** Which rows of the first underlying get a malformed sibling, and of which kinds. */
function malformedPlan(o: Resolved, groups: readonly Group[], dataset: DatasetId): Map<number, RejectReason[]> {
  const plan = new Map<number, RejectReason[]>();
  if (!o.malformed) return plan;
  const target = o.underlyings[0].symbol;
  const total = groups.filter((g) => g.underlying === target).length;
  if (total === 0) return plan;
  const rng = Prng.derive(o.seed, `malformed:${dataset}`);
  const budget = dataset.startsWith('us_options') ? total : 1;
  for (const kind of MALFORMED_KINDS) {
    for (let k = 0; k < o.malformedPerKind; k++) {
      const at = rng.int(0, budget - 1) * 1_000_000 + rng.int(0, 999_999);
      plan.set(at, [...(plan.get(at) ?? []), kind]);
    }
  }
  return plan;
}

async function writeDataset(o: Resolved, m: Market, dataset: DatasetId): Promise<GeneratedFile> {
  const key = flatFileKey(dataset, o.date);
  const path = join(o.outDir, key);
  const isOption = dataset.startsWith('us_options');
  const columns = columnsOf(dataset, o);
  const groups = isOption ? optionGroups(o, m, dataset) : stockGroups(o, m, dataset);
  const file: GeneratedFile = {
    dataset, key, path, columns, rows: 0, validRows: 0, validRowsByUnderlying: {}, malformed: [],
    belowIntrinsic: 0, nonZeroCorrections: 0, uncompressedBytes: 0, bytes: 0, sha256: '',
  };
  const writer = await GzipCsvWriter.open(path, o.gzipLevel);
  await writer.writeLine(headerOf(dataset, columns));
  const plan = malformedPlan(o, groups, dataset);
  const target = o.underlyings[0].symbol;
  let targetGroup = 0;
  let carried: RejectReason[] = [];
  for (const group of groups) {
    const { rows, belowIntrinsic } = group.rows();
    file.belowIntrinsic += belowIntrinsic;
    file.validRowsByUnderlying[group.underlying] = (file.validRowsByUnderlying[group.underlying] ?? 0) + rows.length;
    const kindsAt = group.underlying === target ? kindsForGroup(plan, targetGroup++, rows.length) : new Map<number, RejectReason[]>();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      await writer.writeLine(columns.map((c) => row[c]).join(','));
      if (row.correction !== undefined && row.correction !== '' && row.correction !== '0') file.nonZeroCorrections++;
      const kinds = [...carried, ...(kindsAt.get(i) ?? [])];
      carried = kinds.length > 0 && !canBreak(row) ? kinds : [];
      if (carried.length > 0) continue;
      for (const kind of kinds) {
        const bad = malformedLine(row, kind, columns, isOption, group.underlying);
        await writer.writeLine(bad.line);
        file.malformed.push({ line: writer.lines, reason: kind, underlying: bad.underlying });
      }
    }
    file.validRows += rows.length;
  }
  const closed = await writer.close();
  return { ...file, rows: writer.lines - 1, uncompressedBytes: writer.uncompressedBytes, bytes: closed.bytes, sha256: closed.sha256 };
}

/** A quote with an absent side cannot carry every kind of breakage: wait for a two-sided one. */
function canBreak(row: Row): boolean {
  return row.bid_price === undefined || (Number(row.bid_price) > 0 && Number(row.ask_price) > 0);
}

/** Plan entries are (group index × 1e6 + raw position); map the ones for this group to row indices. */
function kindsForGroup(plan: Map<number, RejectReason[]>, groupIndex: number, rowCount: number): Map<number, RejectReason[]> {
  const out = new Map<number, RejectReason[]>();
  for (const [at, kinds] of plan) {
    if (Math.floor(at / 1_000_000) !== groupIndex) continue;
    const row = (at % 1_000_000) % rowCount;
    out.set(row, [...(out.get(row) ?? []), ...kinds]);
  }
  return out;
}

export async function generateDay(options: GenerateDayOptions): Promise<GeneratedDayManifest> {
  const o = resolve(options);
  const market = buildMarket(o);
  const files: GeneratedFile[] = [];
  for (const dataset of DATASETS.map((d) => d.id).filter((id) => o.datasets.includes(id))) {
    files.push(await writeDataset(o, market, dataset));
  }
  return { date: o.date, seed: o.seed, underlyings: market.specs.map((s) => s.symbol), files };
}

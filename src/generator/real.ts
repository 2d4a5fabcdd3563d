/**
 * A real-size trading day (issue 13), streamed to gzip in bounded memory: SPY-like proportions of
 * about 1M option trades, 1M stock trades, 12M stock (NBBO) quotes and 20 option quotes per option
 * trade, over 2,000 contracts. `fraction` scales every count (0.05 = a twentieth, for quick runs).
 *
 * Unlike the small sample day, option trades are placed on the contract's own quotes, as on the
 * tape: most trades follow a quote of their contract within 400 ms and print at its ask (BUY), its
 * bid (SELL) or inside; a few land at random times at a model price (often UNKNOWN: stale or no
 * quote). Quotes are spread over contracts more evenly than trades (market makers quote every strike;
 * trading concentrates near the money), so most quotes are of contracts that do not trade that minute,
 * as in OPRA. The two option files are written together, contract by contract; each contract's rows
 * are slightly out of time order, like Massive's. No malformed rows (the small day has every kind).
 */
import { join } from 'node:path';
import { DATASET_COLUMNS } from '../producers/flatfile/parse/columns';
import { flatFileKey, type DatasetId } from '../producers/flatfile/datasets';
import { contractsFor, eventsPerContract } from './contracts';
import type { GeneratedDayManifest, GeneratedFile } from './day';
import { DEFAULT_UNDERLYINGS, PricePath, type Contract, type UnderlyingSpec } from './market';
import { Prng } from './prng';
import { cents, eventOffsets, optionQuoteRow, optionTradeRow, stockQuoteRow, stockTradeRow, type Row } from './rows';
import { regularSession, type Session } from './session';
import { GzipCsvWriter } from './writer';

export interface RealDayOptions {
  date: string;
  outDir: string;
  seed?: number;
  /** Multiplies every count below (default 1). */
  fraction?: number;
  /** Default: SPY alone. Counts are per underlying of activity 1; others scale by activity. */
  underlyings?: readonly UnderlyingSpec[];
  optionTrades?: number;
  stockTrades?: number;
  stockQuotes?: number;
  optionQuotesPerTrade?: number;
  contractsPerUnderlying?: number;
  gzipLevel?: number;
}

export interface RealDayManifest extends GeneratedDayManifest {
  /** Of the option trades, the share whose own as-of quote (≤ 1 s old, the default staleness) puts them at the ask or the bid. */
  aggressorShare: { buy: number; sell: number; inside: number; unknown: number };
}

export const REAL_DAY = {
  optionTrades: 1_000_000, stockTrades: 1_000_000, stockQuotes: 12_000_000, optionQuotesPerTrade: 20, contractsPerUnderlying: 2_000,
} as const;

/** How trades sit on the quotes: after a quote within this span, at the ask, the bid or inside. */
const FOLLOW_NS = 400_000_000;
const ANCHORED = 0.95;
/** Of the trades with a fresh quote, those printed on it (the rest at a model price). */
const AT_QUOTE = 0.97;
const AT_ASK = 0.38;
const AT_BID = 0.34;
const STALENESS_NS = 1_000_000_000;
/** Quote activity per contract ∝ weight^QUOTE_FLATNESS (trades: ∝ weight). */
const QUOTE_FLATNESS = 0.3;
const RATE = 0.045;

function columnsOf(dataset: DatasetId): string[] {
  return [...DATASET_COLUMNS[dataset].known];
}

function headerOf(dataset: DatasetId, columns: readonly string[]): string {
  return (dataset === 'us_stocks_sip/quotes_v1' ? columns.map((c) => (c === 'ticker' ? 'Ticker' : c)) : columns).join(',');
}

class FileOut {
  readonly columns: string[];
  readonly file: GeneratedFile;
  /** One row held back: ~1% of neighbours are swapped, as in Massive's files. */
  private held: Row | null = null;

  private constructor(readonly dataset: DatasetId, readonly writer: GzipCsvWriter, path: string, key: string, private readonly rng: Prng) {
    this.columns = columnsOf(dataset);
    this.file = {
      dataset, key, path, columns: this.columns, rows: 0, validRows: 0, validRowsByUnderlying: {}, malformed: [], belowIntrinsic: 0,
      nonZeroCorrections: 0, uncompressedBytes: 0, bytes: 0, sha256: '',
    };
  }

  static async open(dataset: DatasetId, o: Required<RealDayOptions>): Promise<FileOut> {
    const key = flatFileKey(dataset, o.date);
    const path = join(o.outDir, key);
    const out = new FileOut(dataset, await GzipCsvWriter.open(path, o.gzipLevel), path, key, Prng.derive(o.seed, `disorder:${dataset}`));
    await out.writer.writeLine(headerOf(dataset, out.columns));
    return out;
  }

  async row(underlying: string, row: Row): Promise<void> {
    this.file.validRows++;
    this.file.validRowsByUnderlying[underlying] = (this.file.validRowsByUnderlying[underlying] ?? 0) + 1;
    if (row.correction !== undefined && row.correction !== '' && row.correction !== '0') this.file.nonZeroCorrections++;
    if (this.held === null && this.rng.chance(0.01)) {
      this.held = row;
      return;
    }
    await this.write(row);
    if (this.held !== null) {
      const held = this.held;
      this.held = null;
      await this.write(held);
    }
  }

  /** Ends a ticker or contract group: a held row never crosses into the next group. */
  async endGroup(): Promise<void> {
    if (this.held === null) return;
    const held = this.held;
    this.held = null;
    await this.write(held);
  }

  private write(row: Row): Promise<void> {
    let line = row[this.columns[0]];
    for (let i = 1; i < this.columns.length; i++) line += ',' + row[this.columns[i]];
    return this.writer.writeLine(line);
  }

  async close(): Promise<GeneratedFile> {
    await this.endGroup();
    const closed = await this.writer.close();
    return { ...this.file, rows: this.writer.lines - 1, uncompressedBytes: this.writer.uncompressedBytes, bytes: closed.bytes, sha256: closed.sha256 };
  }
}

function resolve(o: RealDayOptions): Required<RealDayOptions> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.date)) throw new Error(`date must be YYYY-MM-DD, got "${o.date}"`);
  const fraction = o.fraction ?? 1;
  if (!(fraction > 0)) throw new Error(`fraction must be > 0, got ${fraction}`);
  return {
    date: o.date, outDir: o.outDir, seed: o.seed ?? 1, fraction, underlyings: o.underlyings ?? DEFAULT_UNDERLYINGS.slice(0, 1),
    optionTrades: o.optionTrades ?? REAL_DAY.optionTrades, stockTrades: o.stockTrades ?? REAL_DAY.stockTrades,
    stockQuotes: o.stockQuotes ?? REAL_DAY.stockQuotes, optionQuotesPerTrade: o.optionQuotesPerTrade ?? REAL_DAY.optionQuotesPerTrade,
    contractsPerUnderlying: o.contractsPerUnderlying ?? REAL_DAY.contractsPerUnderlying, gzipLevel: o.gzipLevel ?? 1,
  };
}

async function writeStocks(o: Required<RealDayOptions>, dataset: DatasetId, session: Session, paths: Map<string, PricePath>, specs: readonly UnderlyingSpec[]): Promise<GeneratedFile> {
  const out = await FileOut.open(dataset, o);
  const sessionNs = Number(session.closeNs - session.openNs);
  const isTrades = dataset === 'us_stocks_sip/trades_v1';
  const sizeUnit = o.date >= '2025-11-03' ? 100 : 1;
  for (const spec of specs) {
    const rng = Prng.derive(o.seed, `real:${dataset}:${spec.symbol}`);
    const path = paths.get(spec.symbol)!;
    const n = Math.max(1, Math.round((isTrades ? o.stockTrades : o.stockQuotes) * o.fraction * spec.activity));
    const offsets = eventOffsets(rng, n, sessionNs);
    for (let i = 0; i < n; i++) {
      const clock = { openNs: session.openNs, offsetNs: offsets[i] };
      const row = isTrades
        ? stockTradeRow(rng, spec.symbol, spec.tape, path, clock, i + 1)
        : stockQuoteRow(rng, spec.symbol, spec.tape, path, clock, 1000 + i * 7, sizeUnit);
      await out.row(spec.symbol, row);
    }
    await out.endGroup();
  }
  return out.close();
}

interface SideCounts {
  buy: number;
  sell: number;
  inside: number;
  unknown: number;
}

/** Index of the last element ≤ x in a sorted array, or −1. */
function lastAtOrBefore(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

async function writeOptions(
  o: Required<RealDayOptions>, session: Session, paths: Map<string, PricePath>, specs: readonly UnderlyingSpec[], sides: SideCounts,
): Promise<GeneratedFile[]> {
  const trades = await FileOut.open('us_options_opra/trades_v1', o);
  const quotes = await FileOut.open('us_options_opra/quotes_v1', o);
  const sessionNs = Number(session.closeNs - session.openNs);
  const contracts = specs.flatMap((s) => contractsFor(s, o.date, o.contractsPerUnderlying)).sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
  const tradeCounts = new Map<string, number>();
  const quoteCounts = new Map<string, number>();
  for (const spec of specs) {
    const own = contracts.filter((c) => c.underlying === spec.symbol);
    const total = o.optionTrades * o.fraction * spec.activity;
    eventsPerContract(own, total).forEach((n, i) => tradeCounts.set(own[i].symbol, n));
    const flat = own.map((c) => ({ ...c, weight: c.weight ** QUOTE_FLATNESS }));
    eventsPerContract(flat, total * o.optionQuotesPerTrade).forEach((n, i) => quoteCounts.set(own[i].symbol, n));
  }
  const specOf = new Map(specs.map((s) => [s.symbol, s]));
  for (const contract of contracts) {
    const rng = Prng.derive(o.seed, `real:option:${contract.symbol}`);
    const path = paths.get(contract.underlying)!;
    const ctx = { rate: RATE, atmVol: specOf.get(contract.underlying)!.vol };
    const nq = quoteCounts.get(contract.symbol)!;
    const qTimes = eventOffsets(rng, nq, sessionNs);
    const bids = new Float64Array(nq);
    const asks = new Float64Array(nq);
    let seq = rng.int(1, 100_000);
    for (let i = 0; i < nq; i++) {
      const row = optionQuoteRow(rng, contract, path, { openNs: session.openNs, offsetNs: qTimes[i] }, ctx, (seq += rng.int(1, 5000)));
      bids[i] = Number(row.bid_price);
      asks[i] = Number(row.ask_price);
      await quotes.row(contract.underlying, row);
    }
    await quotes.endGroup();
    const nt = tradeCounts.get(contract.symbol)!;
    const tTimes = tradeTimes(rng, qTimes, nt, sessionNs);
    for (let i = 0; i < nt; i++) {
      const clock = { openNs: session.openNs, offsetNs: tTimes[i] };
      const j = lastAtOrBefore(qTimes, tTimes[i]);
      const fresh = j >= 0 && tTimes[i] - qTimes[j] <= STALENESS_NS;
      const row = fresh && rng.next() < AT_QUOTE
        ? tradeAtQuote(rng, contract, path, clock, ctx, bids[j], asks[j], sides)
        : modelTrade(rng, contract, path, clock, ctx, fresh ? { bid: bids[j], ask: asks[j] } : null, sides);
      if (row.belowIntrinsic) trades.file.belowIntrinsic++;
      await trades.row(contract.underlying, row.row);
    }
    await trades.endGroup();
  }
  return [await trades.close(), await quotes.close()];
}

/** Sorted trade times: most within FOLLOW_NS after a quote of the contract, the rest anywhere in the session. */
function tradeTimes(rng: Prng, qTimes: Float64Array, n: number, sessionNs: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (qTimes.length > 0 && rng.next() < ANCHORED) out[i] = Math.min(qTimes[rng.int(0, qTimes.length - 1)] + rng.int(0, FOLLOW_NS), sessionNs - 1);
    else out[i] = Math.floor(rng.next() * (sessionNs - 1));
  }
  return out.sort();
}

/** The quote rule of DESIGN 5.2 on the generated quote (always two-sided or no-bid, never crossed). */
function count(sides: SideCounts, price: number, quote: { bid: number; ask: number } | null): void {
  if (quote === null || !(quote.ask > 0) || quote.bid >= quote.ask) sides.unknown++;
  else if (price >= quote.ask - 1e-4) sides.buy++;
  else if (price <= quote.bid + 1e-4) sides.sell++;
  else sides.inside++;
}

function tradeAtQuote(
  rng: Prng, c: Contract, path: PricePath, clock: { openNs: bigint; offsetNs: number }, ctx: { rate: number; atmVol: number },
  bid: number, ask: number, sides: SideCounts,
): { row: Row; belowIntrinsic: boolean } {
  const base = optionTradeRow(rng, c, path, clock, ctx);
  const u = rng.next();
  const ticks = Math.round((ask - bid) * 100);
  const price = u < AT_ASK || bid <= 0 ? ask : u < AT_ASK + AT_BID ? bid : ticks >= 2 ? bid + rng.int(1, ticks - 1) / 100 : ask;
  count(sides, price, { bid, ask });
  return { row: { ...base.row, price: cents(price) }, belowIntrinsic: false };
}

function modelTrade(
  rng: Prng, c: Contract, path: PricePath, clock: { openNs: bigint; offsetNs: number }, ctx: { rate: number; atmVol: number },
  quote: { bid: number; ask: number } | null, sides: SideCounts,
): { row: Row; belowIntrinsic: boolean } {
  const trade = optionTradeRow(rng, c, path, clock, ctx);
  count(sides, Number(trade.row.price), quote);
  return trade;
}

/** The real-size day: four gzip CSVs in the Massive layout and a manifest. */
export async function generateRealDay(options: RealDayOptions): Promise<RealDayManifest> {
  const o = resolve(options);
  const session = regularSession(o.date);
  const specs = [...o.underlyings].sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
  const paths = new Map(specs.map((s) => [s.symbol, new PricePath(s, session, Prng.derive(o.seed, `path:${s.symbol}`))]));
  const sides: SideCounts = { buy: 0, sell: 0, inside: 0, unknown: 0 };
  const stockTrades = await writeStocks(o, 'us_stocks_sip/trades_v1', session, paths, specs);
  const stockQuotes = await writeStocks(o, 'us_stocks_sip/quotes_v1', session, paths, specs);
  const options2 = await writeOptions(o, session, paths, specs, sides);
  const total = sides.buy + sides.sell + sides.inside + sides.unknown || 1;
  return {
    date: o.date, seed: o.seed, underlyings: specs.map((s) => s.symbol), files: [stockTrades, stockQuotes, ...options2],
    aggressorShare: { buy: sides.buy / total, sell: sides.sell / total, inside: sides.inside / total, unknown: sides.unknown / total },
  };
}

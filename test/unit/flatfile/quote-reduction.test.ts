import { QuoteReduction, ReadAhead, reduceSorted, TradeTimes, type DecidedQuotes } from '../../../src/producers/flatfile/ingest/quote-reduction';
import { AsOfSeries } from '../../../src/processors/asof';

/**
 * The option-quote reduction against brute force: for every trade, and for every point at which the
 * processor may look it up (all quotes before the trade's time, and any number of the quotes at its
 * very time), the as-of quote over the reduced quotes is the as-of quote over all quotes, through
 * the processor's own AsOfSeries. And the reduction is exact: every kept quote is some trade's as-of
 * quote at some such point.
 */

interface Q {
  id: number;
  ticker: string;
  sip_timestamp: bigint;
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each quote with its decision, in the order handed out. */
async function collect<T>(batches: AsyncIterable<DecidedQuotes<T>>): Promise<{ record: T; keep: boolean }[]> {
  const out: { record: T; keep: boolean }[] = [];
  for await (const { records, skips } of batches) records.forEach((record, i) => out.push({ record, keep: skips[i] === 0 }));
  return out;
}

/** The quotes in batches of 1 to 7, so decisions cross batch boundaries. */
async function* from<T>(xs: readonly T[]): AsyncGenerator<T[]> {
  for (let i = 0, size = 1; i < xs.length; i += size, size = (size % 7) + 1) yield xs.slice(i, i + size);
}

/** Every quote some lookup can return: per trade, per prefix of the quotes at its own time. */
function seenBy(quotes: readonly Q[], trades: readonly { ticker: string; t: bigint }[], lookback: bigint): Set<number> {
  const seen = new Set<number>();
  for (const { ticker, t } of trades) {
    for (const q of asOfAtEveryPoint(quotes, ticker, t, lookback)) if (q !== undefined) seen.add(q.id);
  }
  return seen;
}

/** The as-of lookup after all quotes before t and after each number k of the quotes at t. */
function asOfAtEveryPoint(quotes: readonly Q[], ticker: string, t: bigint, lookback: bigint): (Q | undefined)[] {
  const mine = quotes.filter((q) => q.ticker === ticker);
  const before = mine.filter((q) => q.sip_timestamp < t);
  const at = mine.filter((q) => q.sip_timestamp === t);
  const out: (Q | undefined)[] = [];
  for (let k = 0; k <= at.length; k++) {
    const series = new AsOfSeries((_time, id) => mine.find((q) => q.id === id));
    for (const q of [...before, ...at.slice(0, k)]) series.insert(q.sip_timestamp, q.id);
    out.push(series.asOf(t, t - lookback));
  }
  return out;
}

/**
 * Random quotes (in id order) and trades of `tickers`, about 30% of the trades at some quote's exact
 * time; the trades' times sealed in `times`.
 */
function randomDay(rnd: () => number, tickers: readonly string[], quoteCount: number, quoteSpan: number, tradeCount: number, tradeSpan: number) {
  const quotes: Q[] = [];
  for (let i = 0; i < quoteCount; i++) quotes.push({ id: i, ticker: tickers[Math.floor(rnd() * tickers.length)], sip_timestamp: BigInt(Math.floor(rnd() * quoteSpan)) });
  const trades: { ticker: string; t: bigint }[] = [];
  for (let i = 0; i < tradeCount; i++) {
    const t = rnd() < 0.3 ? quotes[Math.floor(rnd() * quotes.length)].sip_timestamp : BigInt(Math.floor(rnd() * tradeSpan));
    trades.push({ ticker: tickers[Math.floor(rnd() * tickers.length)], t });
  }
  const times = new TradeTimes();
  for (const tr of trades) times.add(tr.ticker, tr.t);
  return { quotes, trades, times };
}

describe('option-quote reduction', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('is lossless and exact on random contracts with ties and stale quotes (seed %i)', async (seed) => {
    const rnd = prng(seed);
    const tickers = ['A', 'B', 'C', 'D'];
    const lookback = 12n;
    const quotes: Q[] = [];
    for (let i = 0; i < 400; i++) quotes.push({ id: i, ticker: tickers[Math.floor(rnd() * tickers.length)], sip_timestamp: BigInt(Math.floor(rnd() * 300)) });
    // Sorted by time, ties in a fixed (here: id) order, as the producer's sort delivers them.
    quotes.sort((a, b) => (a.sip_timestamp < b.sip_timestamp ? -1 : a.sip_timestamp > b.sip_timestamp ? 1 : a.id - b.id));
    const trades: { ticker: string; t: bigint }[] = [];
    for (let i = 0; i < 60; i++) {
      const ticker = tickers[Math.floor(rnd() * tickers.length)];
      // Some trades at a quote's exact time, some far from any quote (stale or none).
      const t = rnd() < 0.3 ? quotes[Math.floor(rnd() * quotes.length)].sip_timestamp : BigInt(Math.floor(rnd() * 340));
      trades.push({ ticker, t });
    }
    const times = new TradeTimes();
    for (const tr of trades) times.add(tr.ticker, tr.t);
    const reduction = new QuoteReduction(times, lookback);

    const decided = await collect(reduceSorted(from(quotes), reduction, (q) => q.sip_timestamp));
    expect(decided.map((d) => d.record.id)).toEqual(quotes.map((q) => q.id)); // every quote once, in order
    const kept = decided.filter((d) => d.keep).map((d) => d.record);
    expect(kept.length).toBeLessThan(quotes.length);
    expect(kept.length).toBeGreaterThan(0);

    for (const { ticker, t } of trades) {
      expect(asOfAtEveryPoint(kept, ticker, t, lookback).map((q) => q?.id)).toEqual(asOfAtEveryPoint(quotes, ticker, t, lookback).map((q) => q?.id));
    }
    expect(new Set(kept.map((q) => q.id))).toEqual(seenBy(quotes, trades, lookback));
    // The read-time pre-filter only drops quotes the exact rule drops.
    for (const d of decided) if (!reduction.candidate(d.record.ticker, d.record.sip_timestamp)) expect(d.keep).toBe(false);
  });

  /**
   * reduceSorted keeps its look-ahead as columns, compacted once 4,096 quotes are handed out. A day
   * long enough for many compactions, with quotes still undecided across each, must decide as brute
   * force does.
   */
  it('is exact over a look-ahead compacted many times', async () => {
    const lookback = 400n;
    const { quotes, trades, times } = randomDay(prng(77), ['A', 'B', 'C', 'D', 'E'], 30_000, 60_000, 200, 60_000);
    quotes.sort((a, b) => (a.sip_timestamp < b.sip_timestamp ? -1 : a.sip_timestamp > b.sip_timestamp ? 1 : a.id - b.id));

    const decided = await collect(reduceSorted(from(quotes), new QuoteReduction(times, lookback), (q) => q.sip_timestamp));
    expect(decided.map((d) => d.record.id)).toEqual(quotes.map((q) => q.id));
    const kept = new Set(decided.filter((d) => d.keep).map((d) => d.record.id));
    expect(kept).toEqual(seenBy(quotes, trades, lookback));
    expect(kept.size).toBeGreaterThan(150);
  });

  /**
   * ReadAhead drops quotes at read, in the file's own order, one quote ahead. Files here come grouped by
   * contract (as Massive's do) with some rows out of time order, some contracts split in two runs and
   * ties; the exact rule over what is left must keep exactly what it keeps over every quote.
   */
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])('ReadAhead at read leaves the exact rule the same kept quotes (seed %i)', async (seed) => {
    const rnd = prng(100 + seed);
    const lookback = 12n;
    const { quotes, times } = randomDay(rnd, ['A', 'B', 'C', 'D', 'E'], 600, 300, 150, 340);
    const reduction = new QuoteReduction(times, lookback);
    const bySort = (a: Q, b: Q): number => (a.sip_timestamp < b.sip_timestamp ? -1 : a.sip_timestamp > b.sip_timestamp ? 1 : a.id - b.id);

    // File order: by contract (one contract's rows split in two places), in time order, then a few rows
    // swapped; or, for odd seeds, by time alone, the contracts interleaved.
    const grouped = seed % 2 === 0;
    const fileOrder = [...quotes].sort((a, b) => {
      const group = (q: Q): string => (!grouped ? '' : q.ticker === 'E' && q.sip_timestamp > 150n ? 'Z' : q.ticker);
      return group(a).localeCompare(group(b)) || bySort(a, b);
    });
    for (let k = 0; k < 20; k++) {
      const i = Math.floor(rnd() * (fileOrder.length - 1));
      [fileOrder[i], fileOrder[i + 1]] = [fileOrder[i + 1], fileOrder[i]];
    }
    const candidates = fileOrder.filter((q) => reduction.candidate(q.ticker, q.sip_timestamp));
    const readAhead = new ReadAhead(reduction);
    const dropped = new Set<number>();
    candidates.forEach((q, i) => {
      if (readAhead.next(q.ticker, q.sip_timestamp)) dropped.add(candidates[i - 1].id);
    });

    const keptOf = async (stream: Q[]): Promise<number[]> =>
      (await collect(reduceSorted(from([...stream].sort(bySort)), reduction, (q) => q.sip_timestamp))).filter((d) => d.keep).map((d) => d.record.id).sort((a, b) => a - b);
    const all = await keptOf(quotes);
    expect(await keptOf(candidates.filter((q) => !dropped.has(q.id)))).toEqual(all);
    expect(dropped.size).toBeGreaterThan(candidates.length / (grouped ? 10 : 100));
    for (const id of dropped) expect(all).not.toContain(id);
  });

  /**
   * The read-time rules compare times as their uint32 halves. They depend only on differences of
   * times, so a day shifted to real times straddling a 2^32 ns boundary (low words wrapping, high
   * words differing) must decide every quote as the same day near 0 does.
   */
  it.each([1, 2, 3])('decides the same at real times across a 2^32 ns boundary (seed %i)', (seed) => {
    const decisions = (base: bigint): unknown[] => {
      const rnd = prng(200 + seed);
      const tickers = ['A', 'B', 'C'];
      const times = new TradeTimes();
      for (let i = 0; i < 80; i++) times.add(tickers[Math.floor(rnd() * tickers.length)], base + BigInt(Math.floor(rnd() * 340)));
      const reduction = new QuoteReduction(times, 12n);
      const readAhead = new ReadAhead(reduction);
      const out: unknown[] = [];
      for (let i = 0; i < 500; i++) {
        const ticker = tickers[Math.floor(rnd() * tickers.length)];
        const t = base + BigInt(Math.floor(rnd() * 300));
        const { at, after } = reduction.nextTrades(ticker, t);
        out.push([reduction.candidate(ticker, t), at, after === null ? null : after - base, readAhead.next(ticker, t)]);
      }
      return out;
    };
    const boundary = (1_741_356_000_000_000_000n >> 32n) << 32n; // 2025-03-07, a multiple of 2^32 ns
    const near0 = decisions(0n);
    expect(decisions(boundary - 170n)).toEqual(near0);
    expect(decisions(boundary - 5n)).toEqual(near0);
    expect(near0.filter((d) => (d as boolean[])[0]).length).toBeGreaterThan(100);
    expect(near0.filter((d) => (d as boolean[])[3]).length).toBeGreaterThan(10);
  });

  it('finds the look-back bound exactly at real times, and nothing decades away', () => {
    const lookback = 5_000_000_000n;
    const trade = ((1_741_356_000_000_000_000n >> 32n) << 32n) + 3n; // just past a 2^32 ns boundary
    const times = new TradeTimes();
    times.add('A', trade);
    const reduction = new QuoteReduction(times, lookback);
    expect(reduction.candidate('A', trade - lookback)).toBe(true);
    expect(reduction.candidate('A', trade - lookback - 1n)).toBe(false);
    expect(reduction.candidate('A', trade)).toBe(true);
    expect(reduction.candidate('A', trade + 1n)).toBe(false);
    expect(reduction.candidate('A', 946_684_800_000_000_000n)).toBe(false); // 2000-01-01: 2^60 ns before
    expect(reduction.nextTrades('A', trade - lookback)).toEqual({ at: false, after: trade });
    expect(reduction.nextTrades('A', trade)).toEqual({ at: true, after: null });
  });

  it('keeps a stale as-of quote (its age is part of the output) but nothing beyond the look-back', async () => {
    const times = new TradeTimes();
    times.add('A', 100n);
    const reduction = new QuoteReduction(times, 50n);
    const quotes: Q[] = [
      { id: 0, ticker: 'A', sip_timestamp: 10n }, // 90 before the trade: beyond the look-back
      { id: 1, ticker: 'A', sip_timestamp: 60n }, // 40 before: stale for a 1-unit staleness bound, still the as-of quote
    ];
    const decided = await collect(reduceSorted(from(quotes), reduction, (q) => q.sip_timestamp));
    expect(decided.map((d) => d.keep)).toEqual([false, true]);
  });
});

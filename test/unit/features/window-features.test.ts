import * as fs from 'node:fs';
import * as path from 'node:path';
import * as avro from 'avsc';
import { avroType } from '../../../src/avro/types';
import type { AggressorSide, EnrichedOptionTrade, EquityTrade } from '../../../src/domain/records';
import { compileTradeFilter } from '../../../src/domain/features/filters';
import { ALL_FEATURE_FIELDS, COUNT_NAMES, FEATURE_NAMES, SPLIT_GROUPS } from '../../../src/domain/features/names';
import { featuresSchema } from '../../../src/domain/features/schema';
import {
  FeatureConfig, FeatureRecord, WindowKey, addOptionTrade, addUnderlyingTrade, closeWindow, closeWindowOf, createWindowState, stateBuffers,
} from '../../../src/domain/features/window-features';
import { WINDOW_CLOSE } from '../../../src/processors/features';
import { parseWindowNs } from '../../../src/domain/features/window-time';
import { STAT_NAMES, computeStats } from '../../../src/domain/stats/family';
import { Xoshiro128ss } from '../../../src/domain/stats/prng';

const schemaText = fs.readFileSync(path.join(__dirname, '../../../schemas/Features.avsc'), 'utf8');
const featuresType = avroType(JSON.parse(schemaText) as avro.Schema);

const START = BigInt(Date.parse('2024-03-11T14:00:00Z')) * 1_000_000n; // 10:00 EDT
const KEY: WindowKey = { underlying: 'SPY', window: '5m', startNs: START, sizeNs: parseWindowNs('5m') };
const CONFIG: FeatureConfig = { multiplier: 100, filter: compileTradeFilter({ session: 'regular', excludedEquityConditions: [], excludedOptionConditions: [] }), dip: { method: 'table' } };

function equity(offsetNs: bigint, seq: bigint | null, price: number, size: number, correction: number | null = null): EquityTrade {
  return {
    ticker: 'SPY', sip_timestamp: START + offsetNs, participant_timestamp: null, trf_timestamp: null, sequence_number: seq, id: null,
    exchange: 4, tape: 1, trf_id: null, price, size, conditions: [], correction, source: 'flatfile', origin: 'test', origin_offset: 1n,
  };
}

interface OptionSpec {
  right: 'C' | 'P';
  price: number;
  size: number;
  spot: number | null;
  strike: number;
  dadvv: number | null;
  gadvv: number | null;
  side: AggressorSide | null;
  offsetNs?: bigint;
}

function option(o: OptionSpec): EnrichedOptionTrade {
  return {
    ticker: `O:SPY240315${o.right}00${o.strike}000`, underlying: 'SPY', root: 'SPY', expiration_date: '2024-03-15', right: o.right, strike: o.strike,
    sip_timestamp: START + (o.offsetNs ?? 1_000n), participant_timestamp: null, sequence_number: null, price: o.price, size: BigInt(o.size),
    exchange: 1, conditions: [], correction: null, source: 'flatfile', origin: 'test', origin_offset: 1n,
    underlying_price: o.spot, underlying_timestamp: null, tau: null, rate: null, dividend_yield: 0, iv: null, delta: null, gamma: null,
    vega: null, theta: null, intrinsic: null, flags: 0, dadvv: o.dadvv, gadvv: o.gadvv, aggressor_side: o.side,
    aggressor_method: o.side === null ? null : 'quote', quote_age_ns: null, mid_offset_bps: null,
  };
}

function run(underlying: EquityTrade[], options: EnrichedOptionTrade[], config: FeatureConfig = CONFIG): FeatureRecord {
  const state = createWindowState(KEY);
  for (const t of underlying) addUnderlyingTrade(state, t, config.filter);
  for (const t of options) addOptionTrade(state, t, config.filter);
  return closeWindow(state, config);
}

const S = 1_000_000_000n;
const UNDERLYING = [
  equity(1n * S, 5n, 500.0, 100),
  equity(1n * S, 3n, 501.0, 10), // same ns, lower sequence: the open
  equity(2n * S, null, 499.5, 200),
  equity(240n * S, 9n, 502.0, 50), // the close
  equity(100n * S, 7n, 600.0, 1, 1), // corrected: excluded
];
const OPTIONS = [
  option({ right: 'C', price: 2.0, size: 10, spot: 500, strike: 499, dadvv: 1000, gadvv: 50, side: 'BUY' }), // above intrinsic 1
  option({ right: 'C', price: 0.5, size: 1, spot: 500, strike: 499, dadvv: 200, gadvv: 10, side: 'SELL' }), // below
  option({ right: 'C', price: 3.0, size: 5, spot: null, strike: 505, dadvv: null, gadvv: null, side: null }), // no S, no Greeks
  option({ right: 'C', price: 1.0, size: 2, spot: 500, strike: 501, dadvv: 300, gadvv: 20, side: 'INSIDE' }), // above intrinsic 0
  option({ right: 'P', price: 4.0, size: 3, spot: 500, strike: 503, dadvv: 700, gadvv: 30, side: 'BUY' }), // above intrinsic 3
  option({ right: 'P', price: 2.0, size: 1, spot: 500, strike: 503, dadvv: 100, gadvv: 5, side: 'SELL' }), // below
  option({ right: 'P', price: 3.0, size: 1, spot: 500, strike: 503, dadvv: 400, gadvv: 15, side: 'UNKNOWN' }), // at intrinsic
];

describe('window features, hand-worked', () => {
  const r = run(UNDERLYING, OPTIONS);

  it('identifies the window', () => {
    expect([r.underlying, r.window, r.window_start_ns, r.window_end_ns]).toEqual(['SPY', '5m', START, START + 300n * S]);
  });

  it('OHLC in (sip_timestamp, sequence) order, corrected trade excluded', () => {
    expect([r.underlying_price_open, r.underlying_price_high, r.underlying_price_low, r.underlying_price_close]).toEqual([501, 502, 499.5, 502]);
    expect(r.underlying_trades).toBe(4n);
  });

  it('OHLC ties on time: a missing sequence number first, then by sequence, then by price', () => {
    const tied = [
      equity(10n * S, 7n, 10, 100), // open candidates at 10 s: the one without a sequence number comes first
      equity(10n * S, null, 11, 100),
      equity(20n * S, 3n, 12, 100),
      equity(20n * S, 2n, 13, 100),
      equity(30n * S, 5n, 14, 100), // close candidates at 30 s: sequence 5 after the two without one
      equity(30n * S, null, 16, 100),
      equity(30n * S, null, 15, 100),
    ];
    const w = run(tied, []);
    expect([w.underlying_price_open, w.underlying_price_close]).toEqual([11, 14]);
    // without sequence numbers at all, the higher price is the later of equal times
    const unsequenced = run([equity(30n * S, null, 16, 100), equity(30n * S, null, 15, 100), equity(10n * S, null, 9, 100), equity(10n * S, null, 8, 100)], []);
    expect([unsequenced.underlying_price_open, unsequenced.underlying_price_close]).toEqual([8, 16]);
  });

  it('underlying dollar value family over price·size', () => {
    // 50000, 5010, 99900, 25100
    expect(r.underlying_dollar_value_total).toBe(180010);
    expect(r.underlying_dollar_value_mean).toBe(45002.5);
    expect(r.underlying_dollar_value_q2).toBe((25100 + 50000) / 2);
    expect(r.underlying_dollar_value_minimum).toBe(5010);
    expect(r.underlying_dollar_value_maximum).toBe(99900);
  });

  it('counts', () => {
    expect([r.calls, r.puts, r.calls_with_underlying, r.puts_with_underlying, r.calls_with_greeks, r.puts_with_greeks]).toEqual([4n, 3n, 3n, 3n, 3n, 3n]);
    expect([r.calls_agg_buy, r.calls_agg_sell, r.puts_agg_buy, r.puts_agg_sell]).toEqual([1n, 1n, 1n, 1n]);
  });

  it('dollar values Σ price·size·100 over all trades, with or without Greeks', () => {
    expect(r.calls_dollar_value).toBe((20 + 0.5 + 15 + 2) * 100);
    expect(r.puts_dollar_value).toBe((12 + 2 + 3) * 100);
  });

  it('intrinsic fractions over trades with S; price equal to intrinsic is neither', () => {
    expect(r.calls_above_intrinsic_pct).toBeCloseTo(2 / 3, 15);
    expect(r.calls_below_intrinsic_pct).toBeCloseTo(1 / 3, 15);
    expect(r.puts_above_intrinsic_pct).toBeCloseTo(1 / 3, 15);
    expect(r.puts_below_intrinsic_pct).toBeCloseTo(1 / 3, 15);
  });

  it('Greeks distributions skip trades without Greeks', () => {
    expect([r.calls_dadvv_total, r.calls_dadvv_mean, r.calls_dadvv_q2]).toEqual([1500, 500, 300]);
    expect([r.calls_gadvv_total, r.puts_dadvv_total, r.puts_gadvv_total]).toEqual([80, 1200, 50]);
    expect(r.puts_dadvv_q1).toBe(250); // 100, 400, 700
  });

  it('aggression splits: dadvv of BUY / SELL trades only', () => {
    expect([r.calls_dadvv_agg_buy_total, r.calls_dadvv_agg_sell_total, r.puts_dadvv_agg_buy_total, r.puts_dadvv_agg_sell_total]).toEqual([1000, 200, 700, 100]);
    expect(r.calls_dadvv_agg_buy_stddev).toBeNull(); // n = 1
    expect(r.calls_dadvv_agg_buy_kde_peaks).toBe(1);
  });

  it('matches the stat family on each group', () => {
    const stats = computeStats([1000, 200, 300]);
    for (const s of STAT_NAMES) expect(r[`calls_dadvv_${s}`]).toBe(stats[s]);
  });
});

describe('window features, edge cases', () => {
  it('all split features are null while no trade carries an aggressor side', () => {
    const r = run(UNDERLYING, OPTIONS.map((o) => ({ ...o, aggressor_side: null, aggressor_method: null })));
    for (const g of SPLIT_GROUPS) for (const s of STAT_NAMES) expect(r[`${g}_${s}`]).toBeNull();
    expect(r.calls_dadvv_total).toBe(1500);
    expect(r.calls_agg_buy).toBe(0n);
  });

  it('an empty window: zero counts and totals, nulls elsewhere, no NaN', () => {
    const r = run([], []);
    expect(r.underlying_price_open).toBeNull();
    expect(r.underlying_dollar_value_total).toBe(0);
    expect(r.calls_dollar_value).toBe(0);
    expect(r.calls_above_intrinsic_pct).toBeNull();
    for (const c of COUNT_NAMES) expect(r[c]).toBe(0n);
    for (const f of ALL_FEATURE_FIELDS) expect(Number.isNaN(r[f])).toBe(false);
  });

  it('applies the session filter and rejects trades of another window', () => {
    const early: WindowKey = { ...KEY, startNs: BigInt(Date.parse('2024-03-11T13:00:00Z')) * 1_000_000n }; // 09:00 EDT
    const trade = { ...UNDERLYING[0], sip_timestamp: early.startNs + 10n };
    const regular = createWindowState(early);
    expect(addUnderlyingTrade(regular, trade, CONFIG.filter)).toBe(false);
    const extended = compileTradeFilter({ session: 'extended', excludedEquityConditions: [], excludedOptionConditions: [] });
    expect(addUnderlyingTrade(regular, trade, extended)).toBe(true);
    expect(() => addUnderlyingTrade(createWindowState(KEY), { ...trade, sip_timestamp: START + 300n * S }, CONFIG.filter)).toThrow(RangeError);
  });

  it('bootstrap dip p-values are seeded from (underlying, window, start): replays are identical', () => {
    const boot: FeatureConfig = { ...CONFIG, dip: { method: 'bootstrap', draws: 50 } };
    const many = Array.from({ length: 30 }, (_, i) => equity(BigInt(i + 1) * S, BigInt(i), 500 + (i % 7) * 0.01, 100 + (i % 4) * 100));
    const a = run(many, OPTIONS, boot);
    expect(a.underlying_dollar_value_dip_pval).not.toBeNull();
    expect(run(many, OPTIONS, boot)).toEqual(a);
  });
});

describe('Avro schema and determinism', () => {
  function randomWindow(seed: string): { underlying: EquityTrade[]; options: EnrichedOptionTrade[] } {
    const rng = Xoshiro128ss.fromParts(seed);
    const sides: (AggressorSide | null)[] = ['BUY', 'SELL', 'INSIDE', 'UNKNOWN', null];
    const underlying = Array.from({ length: 1500 }, (_, i) =>
      equity(BigInt(Math.floor(rng.nextDouble() * 300e9)), i % 10 === 0 ? null : BigInt(i), Math.round((500 + rng.nextDouble() * 2) * 100) / 100, 1 + Math.floor(rng.nextDouble() * 5) * 100),
    );
    const options = Array.from({ length: 2500 }, () => {
      const hasGreeks = rng.nextDouble() < 0.9;
      return option({
        right: rng.nextDouble() < 0.5 ? 'C' : 'P', price: Math.round(rng.nextDouble() * 1000) / 100, size: 1 + Math.floor(rng.nextDouble() * 20),
        spot: rng.nextDouble() < 0.95 ? 500 + rng.nextDouble() : null, strike: 490 + Math.floor(rng.nextDouble() * 20),
        dadvv: hasGreeks ? rng.nextDouble() * 1e6 : null, gadvv: hasGreeks ? rng.nextDouble() * 1e4 : null,
        side: sides[Math.floor(rng.nextDouble() * sides.length)], offsetNs: BigInt(Math.floor(rng.nextDouble() * 300e9)),
      });
    });
    return { underlying, options };
  }

  const { underlying, options } = randomWindow('determinism');
  const record = run(underlying, options);

  it('schemas/Features.avsc is the generated schema', () => {
    expect(JSON.parse(schemaText)).toEqual(featuresSchema());
  });

  it('schema fields: header, counts, FEATURE_NAMES in order, then the extras', () => {
    const names = (JSON.parse(schemaText) as { fields: { name: string }[] }).fields.map((f) => f.name);
    expect(names.slice(0, 4)).toEqual(['underlying', 'window', 'window_start_ns', 'window_end_ns']);
    expect(names.slice(4, 4 + COUNT_NAMES.length)).toEqual([...COUNT_NAMES]);
    const start = 4 + COUNT_NAMES.length;
    expect(names.slice(start, start + 149)).toEqual([...FEATURE_NAMES]);
    expect(names).toHaveLength(start + ALL_FEATURE_FIELDS.length + 1);
    // appended last with a default, so records written before it still decode (BACKWARD)
    expect(JSON.parse(schemaText).fields.at(-1)).toMatchObject({ name: 'generation', type: 'int', default: 0 });
  });

  it('the record has exactly the schema fields and validates', () => {
    const names = (JSON.parse(schemaText) as { fields: { name: string }[] }).fields.map((f) => f.name);
    // every field but the generation, which the runtime stamps on output (absent: the default 0)
    expect(Object.keys(record).sort()).toEqual(names.filter((n) => n !== 'generation').sort());
    const errors: string[] = [];
    featuresType.isValid(record, { errorHook: (p) => errors.push(p.join('.')) });
    expect(errors).toEqual([]);
    expect(featuresType.fromBuffer(featuresType.toBuffer(record))).toEqual({ ...record, generation: 0 });
  });

  it('shuffled arrival gives byte-identical Avro output', () => {
    const rng = Xoshiro128ss.fromParts('shuffle');
    const shuffle = <T>(xs: T[]): T[] => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(rng.nextDouble() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    };
    const again = run(shuffle(underlying), shuffle(options));
    expect(featuresType.toBuffer(again).equals(featuresType.toBuffer(record))).toBe(true);
  });
});

describe('a close in a worker', () => {
  const rng = Xoshiro128ss.fromParts('worker close');
  // More trades than a window's initial capacity, so the columns have grown; some without a sequence number.
  const underlying = Array.from({ length: 700 }, (_, i) => equity(BigInt(1 + Math.floor(rng.nextDouble() * 299)) * S, i % 7 === 0 ? null : BigInt(i % 50), 500 + Math.round(rng.nextDouble() * 200) / 100, 100));
  const options = Array.from({ length: 900 }, (_, i) =>
    option({ right: i % 3 === 0 ? 'P' : 'C', price: 1 + rng.nextDouble(), size: 1 + (i % 9), spot: i % 11 === 0 ? null : 500, strike: 499 + (i % 4), dadvv: i % 13 === 0 ? null : rng.nextDouble() * 1e5, gadvv: i % 5 === 0 ? null : rng.nextDouble() * 1e3, side: (['SELL', 'BUY', 'INSIDE', null] as const)[i % 4] }),
  );
  const filled = (config: FeatureConfig) => {
    const state = createWindowState(KEY);
    for (const t of underlying) addUnderlyingTrade(state, t, config.filter);
    for (const t of options) addOptionTrade(state, t, config.filter);
    return state;
  };

  it('closing a structured clone of the state, its buffers moved (what a worker receives), gives the same bytes', () => {
    for (const config of [CONFIG, { ...CONFIG, dip: { method: 'bootstrap', draws: 20 } } as FeatureConfig]) {
      const whole = closeWindow(filled(config), config);
      expect(whole.underlying_trades).toBe(700n);
      const state = filled(config);
      const sent = structuredClone({ state, config: { multiplier: config.multiplier, dip: config.dip } }, { transfer: stateBuffers(state) });
      // the buffers moved: the sender's columns are empty
      expect(state.underlying.price.length).toBe(0);
      expect(state.calls.side.length).toBe(0);
      expect(featuresType.toBuffer(closeWindowOf(sent)).equals(featuresType.toBuffer(whole))).toBe(true);
    }
  });

  it('WINDOW_CLOSE names closeWindowOf by its module and export, as a worker loads it', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect((require(WINDOW_CLOSE.module) as Record<string, unknown>)[WINDOW_CLOSE.name]).toBe(closeWindowOf);
    expect(WINDOW_CLOSE.fn).toBe(closeWindowOf);
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { dipPValueBootstrap, dipPValueTable, dipStatistic } from '../../../src/domain/stats/dip';
import { DIP_TABLE_N, DIP_TABLE_PROB, DIP_TABLE_QUANTILE } from '../../../src/domain/stats/dipTable';
import { computeStats } from '../../../src/domain/stats/family';
import { Xoshiro128ss } from '../../../src/domain/stats/prng';

interface DipCase {
  name: string;
  x: number[];
  dip: number;
  pval: number | null;
}
const fixtureDir = path.join(__dirname, '../../fixtures/stats');
const dipFixtures = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'dip_fixtures.json'), 'utf8')) as { cases: DipCase[] };
const table = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'qDiptab.json'), 'utf8')) as { n: number[]; alpha: number[]; crit: number[][] };

describe('dip statistic and table p-value against PyPI diptest (allow_zero=False)', () => {
  it('covers unimodal, bimodal, ties, small n and n beyond the table', () => {
    const names = dipFixtures.cases.map((c) => c.name);
    for (const kind of ['n4_spread', 'all_equal_8', 'heavy_ties_40', 'normal_1000', 'bimodal_333', 'normal_72100_beyond_table']) expect(names).toContain(kind);
    expect(dipFixtures.cases.length).toBeGreaterThan(200);
  });

  it.each(dipFixtures.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const sorted = Float64Array.from(c.x).sort();
    const dip = dipStatistic(sorted) as number;
    expect(Math.abs(dip - c.dip)).toBeLessThanOrEqual(1e-12 * c.dip);
    const p = dipPValueTable(dip, sorted.length);
    if (c.pval === null) expect(p).toBeNull();
    else expect(Math.abs((p as number) - c.pval)).toBeLessThanOrEqual(1e-9);
  });
});

describe('dip by hand', () => {
  it('is 1/(2n) for a sample on a straight line and for a single point mass', () => {
    expect(dipStatistic(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toBe(0.05);
    expect(dipStatistic(Float64Array.from([3, 3, 3, 3]))).toBe(0.125);
  });
  it('is 1/4 for two equal point masses (the largest possible dip)', () => {
    expect(dipStatistic(Float64Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]))).toBe(0.25);
  });
  it('is null for an empty sample; dip_pval is null for n < 4', () => {
    expect(dipStatistic(new Float64Array(0))).toBeNull();
    expect(dipPValueTable(0.2, 3)).toBeNull();
    expect(computeStats([1, 2, 5]).dip_pval).toBeNull();
  });
});

describe('null table', () => {
  it('matches the fixture copy of qDiptab exactly', () => {
    expect(DIP_TABLE_N).toEqual(table.n);
    expect(DIP_TABLE_PROB).toEqual(table.alpha);
    expect(DIP_TABLE_QUANTILE).toEqual(table.crit);
  });
  it('reads a tabulated quantile back as its probability', () => {
    // n = 100, the 0.95 quantile → p = 0.05
    const i = DIP_TABLE_N.indexOf(100);
    const j = DIP_TABLE_PROB.indexOf(0.95);
    expect(dipPValueTable(DIP_TABLE_QUANTILE[i][j], 100)).toBeCloseTo(0.05, 12);
  });
  it('interpolates between rows linearly in n on the √n·dip scale', () => {
    // halfway between n = 50 and n = 100 at the 0.9 column
    const j = DIP_TABLE_PROB.indexOf(0.9);
    const q50 = DIP_TABLE_QUANTILE[DIP_TABLE_N.indexOf(50)][j];
    const q100 = DIP_TABLE_QUANTILE[DIP_TABLE_N.indexOf(100)][j];
    const scaled = (Math.sqrt(50) * q50 + Math.sqrt(100) * q100) / 2;
    expect(dipPValueTable(scaled / Math.sqrt(75), 75)).toBeCloseTo(0.1, 12);
  });
  it('clamps: tiny dips give 1, huge dips give 0, beyond n = 72000 the last row is used', () => {
    expect(dipPValueTable(0, 500)).toBe(1);
    expect(dipPValueTable(0.5, 500)).toBe(0);
    const last = DIP_TABLE_QUANTILE[DIP_TABLE_N.length - 1];
    const median72k = last[DIP_TABLE_PROB.indexOf(0.5)];
    expect(dipPValueTable((median72k * Math.sqrt(72000)) / Math.sqrt(500000), 500000)).toBeCloseTo(0.5, 12);
  });
});

describe('bootstrap p-value', () => {
  const sample = Float64Array.from([0.1, 0.2, 0.25, 0.3, 0.9, 1.0, 1.05, 1.1, 1.2, 0.5]).sort();
  const dip = dipStatistic(sample) as number;
  it('is bit-identical for the same seed and differs for another', () => {
    const run = (seed: string) => {
      const rng = Xoshiro128ss.fromParts('SPY', '5m', seed, 'calls_dadvv');
      return dipPValueBootstrap(dip, sample.length, 400, () => rng.nextDouble());
    };
    expect(run('1700000000000000000')).toBe(run('1700000000000000000'));
    expect(run('1700000000000000000')).not.toBe(run('1700000000300000000'));
  });
  it('agrees with the table within Monte Carlo error', () => {
    const rng = Xoshiro128ss.fromParts('SPY', '5m', '0', 'puts_dadvv');
    const boot = dipPValueBootstrap(dip, sample.length, 4000, () => rng.nextDouble()) as number;
    const tabled = dipPValueTable(dip, sample.length) as number;
    // binomial sd ≤ 0.008 at 4000 draws; the table itself is a simulation at n = 10
    expect(Math.abs(boot - tabled)).toBeLessThan(0.04);
  });
  it('is wired into the family through the seeded option', () => {
    const x = Array.from(sample);
    const a = computeStats(x, { dip: { kind: 'bootstrap', draws: 200, seedParts: ['SPY', '1m', '60000000000', 'g'] } });
    const b = computeStats(x, { dip: { kind: 'bootstrap', draws: 200, seedParts: ['SPY', '1m', '60000000000', 'g'] } });
    expect(a.dip_pval).toBe(b.dip_pval);
    expect(Number.isInteger((a.dip_pval as number) * 200)).toBe(true);
  });
  it('rejects a non-positive draw count', () => {
    expect(() => dipPValueBootstrap(dip, sample.length, 0, Math.random)).toThrow(RangeError);
  });
});

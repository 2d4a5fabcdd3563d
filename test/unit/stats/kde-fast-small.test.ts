import { kdePeaks, kdePeaksExact } from '../../../src/domain/stats/kde';
import { Xoshiro128ss } from '../../../src/domain/stats/prng';

/**
 * Issue 13 moved samples of 8..775 values (n·129 between 1e3 and 1e5) from the direct sum to the fast,
 * sign-checked evaluation: the count must stay the definition's on such samples, of every shape the
 * features see (heavy tails, ties, clusters, outliers).
 */
function sample(n: number, shape: number, rng: Xoshiro128ss): number[] {
  const normal = (): number => {
    const u = Math.max(rng.nextDouble(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
  };
  const x: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = normal();
    x.push([z, Math.exp(1.5 * z) * 1e4, (i % 2) * 6 + z, Math.round(z * 3) / 2, (i % 97 === 0 ? 1e7 : 0) + Math.exp(z) * 100, 1e6 + z * 1e-3, Math.round(Math.exp(z) * 5) * 100][shape]);
  }
  return x.sort((a, b) => a - b);
}

function stddev(x: readonly number[]): number {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  return Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (x.length - 1));
}

/** For each of the 7 shapes, `perShape` samples of `minN`..`minN + span - 1` values: the fast count is the definition's. */
function expectDirectCounts(seed: string, perShape: number, minN: number, span: number): void {
  const rng = Xoshiro128ss.fromParts('kde', seed);
  for (let shape = 0; shape < 7; shape++) {
    for (let k = 0; k < perShape; k++) {
      const n = minN + Math.floor(rng.nextDouble() * span);
      const x = sample(n, shape, rng);
      const sd = stddev(x);
      expect([shape, n, kdePeaks(x, sd)]).toEqual([shape, n, kdePeaksExact(x, sd)]);
    }
  }
}

describe('kde_peaks on mid-sized samples (the fast path since issue 13)', () => {
  it('equals the direct count on 7 shapes × 40 sizes', () => {
    expectDirectCounts('issue-13', 40, 78, 700);
  });

  it('equals the direct count on small samples (8..77 values): 7 shapes × 300 samples', () => {
    expectDirectCounts('small', 300, 8, 70);
  });
});

import { computeStats } from '../../../src/domain/stats/family';
import { countPeaks, kdePeaks, kdePeaksExact } from '../../../src/domain/stats/kde';

function sortedSample(n: number, draw: (i: number) => number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => draw(i)).sort();
}

function sampleStddev(x: Float64Array): number {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  return Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / (x.length - 1));
}

/** Deterministic pseudo-normal via the sum of 12 hashed uniforms. */
function pseudoNormal(i: number): number {
  let s = 0;
  for (let k = 0; k < 12; k++) s += (Math.sin((i * 12 + k) * 12.9898) * 43758.5453) % 1;
  return s;
}

describe('kde_peaks', () => {
  it('counts > 0 → < 0 changes of the forward differences, at least 1', () => {
    expect(countPeaks([0, 1, 0, 1, 0])).toBe(2);
    expect(countPeaks([0, 1, 1, 0, 1, 0, 1, 0])).toBe(2); // the flat top breaks its pair (skipping zeros would give 3)
    expect(countPeaks([3, 2, 1])).toBe(1);
  });

  it('follows n < 3 → n and one peak for a point mass', () => {
    expect(computeStats([]).kde_peaks).toBe(0);
    expect(computeStats([1]).kde_peaks).toBe(1);
    expect(computeStats([1, 5]).kde_peaks).toBe(2);
    expect(computeStats([2, 2, 2, 2]).kde_peaks).toBe(1);
  });

  it('the fast evaluation (n·129 > 1e5) gives the direct count on varied samples', () => {
    const shapes: ((i: number) => number)[] = [
      (i) => pseudoNormal(i),
      (i) => Math.exp(pseudoNormal(i) * 1.5) * 1e4,
      (i) => (i % 2 === 0 ? 0 : 8) + pseudoNormal(i),
      (i) => (i % 3) * 5 + pseudoNormal(i) * 0.4,
      (i) => Math.round(pseudoNormal(i) * 3) / 2,
      (i) => (i % 500 === 0 ? 1e7 : 0) + Math.exp(pseudoNormal(i)) * 100, // far outliers: underflowing gaps
      (i) => 1e6 + pseudoNormal(i) * 1e-3, // large offset, tiny spread
    ];
    for (const shape of shapes) {
      for (const n of [3, 10, 57, 400, 3000, 8000]) {
        const x = sortedSample(n, shape);
        const sd = sampleStddev(x);
        expect(kdePeaks(x, sd)).toBe(kdePeaksExact(x, sd));
      }
    }
  });

  it('finds the modes of well separated clusters', () => {
    const x = sortedSample(3000, (i) => (i % 3) * 20 + pseudoNormal(i));
    expect(kdePeaks(x, sampleStddev(x))).toBe(3);
  });
});

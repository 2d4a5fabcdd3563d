/**
 * Standard normal distribution in double precision.
 *
 * normCdf is W. J. Cody's rational Chebyshev algorithm (ANORM, "Rational Chebyshev
 * approximations for the error function", Math. Comp. 1969; coefficients from the public-domain
 * SPECFUN package on netlib). Absolute error < 1e-16 and relative error ~1e-15 down to the
 * underflow limit; tested against scipy (test/fixtures/pricing/normal-cdf.json).
 */

export const INV_SQRT_2PI = 0.3989422804014327;

// Cody's coefficients, written as the doubles they round to.
const A0 = 2.2352520354606837;
const A1 = 161.02823106855587;
const A2 = 1067.6894854603709;
const A3 = 18154.98125334356;
const A4 = 0.06568233791820745;
const B0 = 47.202581904688245;
const B1 = 976.0985517377767;
const B2 = 10260.932208618979;
const B3 = 45507.78933502673;

const C0 = 0.39894151208813466;
const C1 = 8.883149794388377;
const C2 = 93.50665613217785;
const C3 = 597.2702763948002;
const C4 = 2494.5375852903726;
const C5 = 6848.190450536283;
const C6 = 11602.65143764735;
const C7 = 9842.714838383978;
const C8 = 1.0765576773720192e-8;
const D0 = 22.266688044328117;
const D1 = 235.387901782625;
const D2 = 1519.3775994075547;
const D3 = 6485.558298266761;
const D4 = 18615.571640885097;
const D5 = 34900.95272114598;
const D6 = 38912.00328609327;
const D7 = 19685.429676859992;

const P0 = 0.215898534057957;
const P1 = 0.12740116116024736;
const P2 = 0.022235277870649807;
const P3 = 0.0014216191932278934;
const P4 = 0.000029112874951168793;
const P5 = 0.023073441764940174;
const Q0 = 1.284260096144911;
const Q1 = 0.4682382124808651;
const Q2 = 0.06598813786892856;
const Q3 = 0.0037823963320275824;
const Q4 = 0.00007297515550839662;

const SMALL = 0.66291;
const SQRT_32 = 5.656854249492381;
/** Beyond this |x| the tail underflows to 0 in double precision. */
const TAIL_LIMIT = 38.5;

/** Standard normal density φ(x). */
export function normPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** Standard normal cumulative distribution Φ(x) = P(Z ≤ x). NaN in → NaN out. */
export function normCdf(x: number): number {
  const y = Math.abs(x);
  if (y <= SMALL) return 0.5 + centralTerm(x);
  if (y > TAIL_LIMIT) return x > 0 ? 1 : 0;
  return fromLowerTail(x, lowerTail(y, gaussianFactor(y)));
}

/**
 * Φ(x) given gaussian = exp(−x²/2) computed by the caller, for hot loops that already have it
 * (Black–Scholes gets exp(−d2²/2) from exp(−d1²/2) by one multiplication). Absolute error
 * < 1e-15; the relative error far in the tail is that of the caller's gaussian.
 */
export function normCdfWithGaussian(x: number, gaussian: number): number {
  const y = Math.abs(x);
  if (y <= SMALL) return 0.5 + centralTerm(x);
  if (y > TAIL_LIMIT) return x > 0 ? 1 : 0;
  return fromLowerTail(x, lowerTail(y, gaussian));
}

function fromLowerTail(x: number, lower: number): number {
  return x > 0 ? 1 - lower : lower;
}

/** Φ(−y) for y > 0.66291, given exp(−y²/2). */
function lowerTail(y: number, gaussian: number): number {
  return y <= SQRT_32 ? middleTail(y, gaussian) : farTail(y, gaussian);
}

/** Φ(x) − 0.5 for |x| ≤ 0.66291. */
function centralTerm(x: number): number {
  const xsq = x * x;
  let num = A4 * xsq;
  let den = xsq;
  num = (num + A0) * xsq;
  den = (den + B0) * xsq;
  num = (num + A1) * xsq;
  den = (den + B1) * xsq;
  num = (num + A2) * xsq;
  den = (den + B2) * xsq;
  return (x * (num + A3)) / (den + B3);
}

/** Φ(−y) for 0.66291 < y ≤ √32. */
function middleTail(y: number, gaussian: number): number {
  let num = C8 * y;
  let den = y;
  num = (num + C0) * y;
  den = (den + D0) * y;
  num = (num + C1) * y;
  den = (den + D1) * y;
  num = (num + C2) * y;
  den = (den + D2) * y;
  num = (num + C3) * y;
  den = (den + D3) * y;
  num = (num + C4) * y;
  den = (den + D4) * y;
  num = (num + C5) * y;
  den = (den + D5) * y;
  num = (num + C6) * y;
  den = (den + D6) * y;
  return gaussian * ((num + C7) / (den + D7));
}

/** Φ(−y) for y > √32 (asymptotic rational form). */
function farTail(y: number, gaussian: number): number {
  const xsq = 1 / (y * y);
  let num = P5 * xsq;
  let den = xsq;
  num = (num + P0) * xsq;
  den = (den + Q0) * xsq;
  num = (num + P1) * xsq;
  den = (den + Q1) * xsq;
  num = (num + P2) * xsq;
  den = (den + Q2) * xsq;
  num = (num + P3) * xsq;
  den = (den + Q3) * xsq;
  const r = (xsq * (num + P4)) / (den + Q4);
  return (gaussian * (INV_SQRT_2PI - r)) / y;
}

/**
 * exp(−y²/2) split as exp(−a²/2)·exp(−(y−a)(y+a)/2) with a = y rounded down to 1/16, so that the
 * rounding error of y² is not amplified by the exponential (Cody's trick; keeps tail relative
 * accuracy).
 */
function gaussianFactor(y: number): number {
  const a = Math.trunc(y * 16) / 16;
  const del = (y - a) * (y + a);
  return Math.exp(-a * a * 0.5) * Math.exp(-del * 0.5);
}

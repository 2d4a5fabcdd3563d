/** Black–Scholes–Merton prices for the generator (European, continuous r and q). */

/** Complementary error function (Numerical Recipes erfcc, fractional error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly);
  return x >= 0 ? r : 2 - r;
}

export function normCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

export interface BsInputs {
  spot: number;
  strike: number;
  /** Years. */
  tau: number;
  rate: number;
  dividendYield: number;
  vol: number;
  right: 'C' | 'P';
}

export function bsPrice(p: BsInputs): number {
  const { spot: s, strike: k, tau, rate: r, dividendYield: q, vol, right } = p;
  const discountedSpot = s * Math.exp(-q * tau);
  const discountedStrike = k * Math.exp(-r * tau);
  if (tau <= 0 || vol <= 0) {
    return right === 'C' ? Math.max(discountedSpot - discountedStrike, 0) : Math.max(discountedStrike - discountedSpot, 0);
  }
  const sd = vol * Math.sqrt(tau);
  const d1 = (Math.log(s / k) + (r - q + 0.5 * vol * vol) * tau) / sd;
  const d2 = d1 - sd;
  return right === 'C'
    ? discountedSpot * normCdf(d1) - discountedStrike * normCdf(d2)
    : discountedStrike * normCdf(-d2) - discountedSpot * normCdf(-d1);
}

/**
 * Black–Scholes–Merton prices and Greeks of European options with a continuous dividend yield q.
 *
 * Conventions: τ in years, r and q continuously compounded, σ annualised; vega per 1.00 of
 * volatility; theta per year of calendar time (∂V/∂t = −∂V/∂τ).
 */
import type { OptionRight } from '../records';
import { INV_SQRT_2PI, normCdfWithGaussian } from './normal';

export interface Greeks {
  price: number;
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
}

/**
 * One option with its market inputs, with the σ-independent terms precomputed so that the IV
 * solver's inner loop does one log-free evaluation per step and allocates nothing. Reuse one
 * instance for many options through `set`.
 */
export class BsmContract {
  private call = true;
  private spot = 0;
  private strike = 0;
  private rate = 0;
  private dividendYield = 0;
  /** ln(S/K) + (r − q)·τ */
  private logMoneyness = 0;
  private sqrtTau = 0;
  /** S·e^{−qτ} */
  private spotDiscounted = 0;
  /** K·e^{−rτ} */
  private strikeDiscounted = 0;
  /** S·e^{−qτ} / (K·e^{−rτ}) = e^x */
  private forwardRatio = 1;
  /** Vega at the σ of the last `priceAndVega` call. */
  lastVega = 0;
  // Memo of the last evaluation (σ NaN = none).
  private sigma = NaN;
  private sigmaSqrtTau = 0;
  private gaussD1 = 0;
  private cdfD1 = 0;
  private cdfD2 = 0;
  private cdfMinusD1 = 0;
  private cdfMinusD2 = 0;

  get isCall(): boolean {
    return this.call;
  }

  get s(): number {
    return this.spot;
  }

  get k(): number {
    return this.strike;
  }

  set(right: OptionRight, s: number, k: number, tau: number, r: number, q: number): this {
    this.call = right === 'C';
    this.spot = s;
    this.strike = k;
    this.rate = r;
    this.dividendYield = q;
    this.logMoneyness = Math.log(s / k) + (r - q) * tau;
    this.sqrtTau = Math.sqrt(tau);
    this.spotDiscounted = s * Math.exp(-q * tau);
    this.strikeDiscounted = k * Math.exp(-r * tau);
    this.forwardRatio = this.spotDiscounted / this.strikeDiscounted;
    this.sigma = NaN;
    return this;
  }

  /** Price at σ; also leaves the vega at σ in `lastVega`. */
  priceAndVega(sigma: number): number {
    this.evaluate(sigma);
    this.lastVega = this.spotDiscounted * INV_SQRT_2PI * this.gaussD1 * this.sqrtTau;
    if (this.call) return this.spotDiscounted * this.cdfD1 - this.strikeDiscounted * this.cdfD2;
    return this.strikeDiscounted * this.cdfMinusD2 - this.spotDiscounted * this.cdfMinusD1;
  }

  /** Price and Greeks at σ, written into `out`. */
  greeks(sigma: number, out: Greeks): Greeks {
    this.evaluate(sigma);
    const spotPdf = this.spotDiscounted * INV_SQRT_2PI * this.gaussD1;
    const decay = (-spotPdf * sigma) / (2 * this.sqrtTau);
    if (this.call) {
      const nd1 = this.cdfD1;
      const nd2 = this.cdfD2;
      out.price = this.spotDiscounted * nd1 - this.strikeDiscounted * nd2;
      out.delta = (this.spotDiscounted * nd1) / this.spot;
      out.theta = decay - this.rate * this.strikeDiscounted * nd2 + this.dividendYield * this.spotDiscounted * nd1;
    } else {
      const nmd1 = this.cdfMinusD1;
      const nmd2 = this.cdfMinusD2;
      out.price = this.strikeDiscounted * nmd2 - this.spotDiscounted * nmd1;
      out.delta = (-this.spotDiscounted * nmd1) / this.spot;
      out.theta = decay + this.rate * this.strikeDiscounted * nmd2 - this.dividendYield * this.spotDiscounted * nmd1;
    }
    out.gamma = spotPdf / (this.spot * this.spot * this.sigmaSqrtTau);
    out.vega = spotPdf * this.sqrtTau;
    return out;
  }

  /**
   * d1, d2 and the normal terms at σ, with one exp: exp(−d2²/2) = exp(−d1²/2)·e^x where
   * x = ln(S/K) + (r − q)τ, because d1² − d2² = 2x. Memoised on σ (the solver's last step is
   * usually the σ the Greeks are wanted at).
   */
  private evaluate(sigma: number): void {
    if (sigma === this.sigma) return;
    const sd = sigma * this.sqrtTau;
    const d1 = this.logMoneyness / sd + 0.5 * sd;
    const d2 = d1 - sd;
    const gaussD1 = Math.exp(-0.5 * d1 * d1);
    const gaussD2 = gaussD1 * this.forwardRatio;
    this.sigma = sigma;
    this.sigmaSqrtTau = sd;
    this.gaussD1 = gaussD1;
    // Φ(−d) computed directly (not as 1 − Φ(d)) keeps puts and OTM calls accurate.
    if (this.call) {
      this.cdfD1 = normCdfWithGaussian(d1, gaussD1);
      this.cdfD2 = normCdfWithGaussian(d2, gaussD2);
      this.cdfMinusD1 = 1 - this.cdfD1;
      this.cdfMinusD2 = 1 - this.cdfD2;
    } else {
      this.cdfMinusD1 = normCdfWithGaussian(-d1, gaussD1);
      this.cdfMinusD2 = normCdfWithGaussian(-d2, gaussD2);
      this.cdfD1 = 1 - this.cdfMinusD1;
      this.cdfD2 = 1 - this.cdfMinusD2;
    }
  }
}

const shared = new BsmContract();

/** BSM price of a European option. */
export function bsmPrice(
  right: OptionRight,
  s: number,
  k: number,
  tau: number,
  r: number,
  q: number,
  sigma: number,
): number {
  return shared.set(right, s, k, tau, r, q).priceAndVega(sigma);
}

/** BSM price and Greeks of a European option (a new object; use BsmContract in hot loops). */
export function bsmGreeks(
  right: OptionRight,
  s: number,
  k: number,
  tau: number,
  r: number,
  q: number,
  sigma: number,
): Greeks {
  const out: Greeks = { price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 };
  return shared.set(right, s, k, tau, r, q).greeks(sigma, out);
}

/** max(S − K, 0) for a call, max(K − S, 0) for a put. */
export function intrinsicValue(right: OptionRight, s: number, k: number): number {
  return right === 'C' ? Math.max(s - k, 0) : Math.max(k - s, 0);
}

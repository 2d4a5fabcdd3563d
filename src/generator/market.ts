/** The synthetic market behind a generated day: underlying price paths, contracts and a smile. */
import { bsPrice } from './black-scholes';
import { Prng } from './prng';
import type { Session } from './session';

export interface UnderlyingSpec {
  symbol: string;
  /** Price at the open. */
  spot: number;
  /** Annualised volatility of the intraday path and ATM implied vol. */
  vol: number;
  strikeStep: number;
  /** Relative activity: scales trade and quote counts. */
  activity: number;
  /** SIP tape (1 = A NYSE, 2 = B Arca/regional, 3 = C Nasdaq). */
  tape: number;
}

export const DEFAULT_UNDERLYINGS: readonly UnderlyingSpec[] = [
  { symbol: 'SPY', spot: 575.0, vol: 0.16, strikeStep: 1, activity: 1, tape: 2 },
  { symbol: 'QQQ', spot: 495.0, vol: 0.2, strikeStep: 1, activity: 0.5, tape: 3 },
  { symbol: 'IWM', spot: 208.0, vol: 0.22, strikeStep: 1, activity: 0.35, tape: 2 },
];

/** Extra names for benchmark days, so a one-underlying universe skips most rows. */
export const BENCH_EXTRA_UNDERLYINGS: readonly UnderlyingSpec[] = [
  { symbol: 'AAPL', spot: 239.0, vol: 0.26, strikeStep: 2.5, activity: 0.4, tape: 3 },
  { symbol: 'AMD', spot: 110.0, vol: 0.45, strikeStep: 1, activity: 0.3, tape: 3 },
  { symbol: 'AMZN', spot: 199.0, vol: 0.32, strikeStep: 2.5, activity: 0.3, tape: 3 },
  { symbol: 'META', spot: 625.0, vol: 0.35, strikeStep: 5, activity: 0.3, tape: 3 },
  { symbol: 'MSFT', spot: 393.0, vol: 0.24, strikeStep: 2.5, activity: 0.25, tape: 3 },
  { symbol: 'NVDA', spot: 112.0, vol: 0.5, strikeStep: 1, activity: 0.6, tape: 3 },
  { symbol: 'TSLA', spot: 262.0, vol: 0.6, strikeStep: 2.5, activity: 0.5, tape: 3 },
];

export const SECONDS_PER_YEAR = 31_536_000;
const SESSION_SECONDS = 23_400;

/** Geometric random walk sampled every second of the regular session. */
export class PricePath {
  private readonly prices: Float64Array;

  constructor(readonly spec: UnderlyingSpec, private readonly session: Session, rng: Prng) {
    this.prices = new Float64Array(SESSION_SECONDS + 1);
    const stepSd = spec.vol / Math.sqrt(SECONDS_PER_YEAR);
    let price = spec.spot;
    for (let i = 0; i <= SESSION_SECONDS; i++) {
      this.prices[i] = price;
      price *= Math.exp(stepSd * rng.normal() - 0.5 * stepSd * stepSd);
    }
  }

  /** Price at an instant inside the session (linear between seconds). */
  at(ns: bigint): number {
    const offset = Number(ns - this.session.openNs) / 1e9;
    const clamped = Math.min(Math.max(offset, 0), SESSION_SECONDS);
    const i = Math.min(Math.floor(clamped), SESSION_SECONDS - 1);
    const w = clamped - i;
    return this.prices[i] * (1 - w) + this.prices[i + 1] * w;
  }
}

export interface Contract {
  symbol: string;
  underlying: string;
  expiration: string;
  /** UTC ns of 16:00 New York on the expiry date. */
  expiryNs: bigint;
  right: 'C' | 'P';
  strike: number;
  /** Relative activity of this contract within its underlying (near-ATM, short-dated = busy). */
  weight: number;
}

export function opraSymbol(root: string, expiration: string, right: 'C' | 'P', strike: number): string {
  const yymmdd = expiration.slice(2, 4) + expiration.slice(5, 7) + expiration.slice(8, 10);
  return `O:${root}${yymmdd}${right}${String(Math.round(strike * 1000)).padStart(8, '0')}`;
}

/** Implied vol over the smile: ATM vol with put skew and curvature in log-moneyness. */
export function smileVol(atmVol: number, spot: number, strike: number, tau: number): number {
  const m = Math.log(strike / spot) / Math.sqrt(Math.max(tau, 1 / 365) * 12);
  return Math.min(Math.max(atmVol * (1 - 0.6 * m + 1.2 * m * m), 0.05), 2.5);
}

export interface PricingContext {
  rate: number;
  atmVol: number;
}

export function theoreticalPrice(c: Contract, spot: number, atNs: bigint, ctx: PricingContext): number {
  const tau = Number(c.expiryNs - atNs) / 1e9 / SECONDS_PER_YEAR;
  const vol = smileVol(ctx.atmVol, spot, c.strike, tau);
  return bsPrice({ spot, strike: c.strike, tau, rate: ctx.rate, dividendYield: 0, vol, right: c.right });
}

export function intrinsicValue(c: Contract, spot: number): number {
  return c.right === 'C' ? Math.max(spot - c.strike, 0) : Math.max(c.strike - spot, 0);
}

/**
 * Quality flags on an enriched option trade (DESIGN 5.1), as a bit set in the Avro `flags` int.
 * The bit values are part of the data contract: never renumber, only append.
 *
 * Invariants kept by the greeks enricher:
 * - NO_UNDERLYING is set exactly when `underlying_price` is null; the reason, when there is a
 *   quote at all, is one of NBBO_STALE, LOCKED, CROSSED, BAD_RATIO, MID_NONPOS.
 * - NO_IV is set exactly when `iv` is null; the reason is one of NO_UNDERLYING, TIME_EXPIRED,
 *   NO_RATE, PRICE_BELOW_INTRINSIC or IV_BISECT_FAIL.
 * - Greeks (delta, gamma, vega, theta, dadvv, gadvv) are non-null exactly when `iv` is non-null.
 */
export const FLAGS = {
  /** No usable underlying price S as-of the trade (none, or rejected: see the reason flags). */
  NO_UNDERLYING: 1 << 0,
  /** No implied volatility (and so no Greeks) for this trade. */
  NO_IV: 1 << 1,
  /** Trade time is after the expiry instant (16:00 America/New_York on the expiry date). */
  TIME_EXPIRED: 1 << 2,
  /** No risk-free rate configured (or not a finite number). */
  NO_RATE: 1 << 3,
  /** Underlying NBBO crossed (ask < bid): no S. */
  CROSSED: 1 << 4,
  /** Underlying NBBO locked (ask = bid): no S. */
  LOCKED: 1 << 5,
  /** Underlying ask/bid above the configured maxAskBidRatio: quote not trusted, no S. */
  BAD_RATIO: 1 << 6,
  /** The underlying quote (or trade) has no positive price, so its mid would be <= 0: no S. */
  MID_NONPOS: 1 << 7,
  /** Underlying quote (or trade) older than the staleness bound: no S. */
  NBBO_STALE: 1 << 8,
  /** Newton did not converge within 50 steps (or hit a vanishing vega); bisection was tried. */
  IV_NEWTON_FAIL: 1 << 9,
  /** Bisection on [1e-4, 5] did not reach the tolerance (price outside the BSM range): no IV. */
  IV_BISECT_FAIL: 1 << 10,
  /** Vega at the solved IV is below VEGA_TINY_THRESHOLD: the IV is kept but is ill-determined. */
  VEGA_TINY: 1 << 11,
  /** Trade price < intrinsic at S − 1e-4: no IV. */
  PRICE_BELOW_INTRINSIC: 1 << 12,
  /** τ is past the last tenor of the rate curve: the last rate was used flat. */
  RATE_EXTRAP: 1 << 13,
  /** Time to expiry was below 1 s and was floored to 1 s. */
  TAU_CLAMPED: 1 << 14,
  /**
   * No Treasury curve in the rates table dated on or before the trade's New York date within
   * greeks.rate_max_age_days: the configured constant rate (greeks.rate / rate_curve) was used.
   */
  RATE_FALLBACK: 1 << 15,
} as const;

export type FlagName = keyof typeof FLAGS;

/** Flag name by bit index, derived from the values so that the table cannot drift. */
const NAME_BY_BIT: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, mask] of Object.entries(FLAGS)) names[Math.log2(mask)] = name;
  return names;
})();

/** Names of the flags set in `bits`, in bit order; unknown bits are reported as `BIT_<n>`. */
export function describeFlags(bits: number): string[] {
  const names: string[] = [];
  for (let bit = 0; bit < 31; bit++) {
    if ((bits & (1 << bit)) === 0) continue;
    names.push(NAME_BY_BIT[bit] ?? `BIT_${bit}`);
  }
  return names;
}

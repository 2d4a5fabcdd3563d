export { BsmContract, bsmGreeks, bsmPrice, intrinsicValue, type Greeks } from './bsm';
export {
  expiryInstantMs,
  expiryInstantNs,
  MIN_TAU_YEARS,
  SECONDS_PER_YEAR,
  timeToExpiry,
  type TimeToExpiry,
} from './expiry';
export { describeFlags, FLAGS, type FlagName } from './flags';
export { ImpliedVolSolver, impliedVol, VEGA_TINY_THRESHOLD, type ImpliedVolResult } from './iv';
export { normCdf, normCdfWithGaussian, normPdf } from './normal';
export {
  rateAt,
  rateCurveFromTenors,
  tenorYears,
  type RateAt,
  type RateCurve,
  type RateSource,
} from './rates';

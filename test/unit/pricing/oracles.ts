/** Typed handles on the untyped npm packages used as oracles and bench competitors. */
import { createRequire } from 'node:module';

type CallPut = 'call' | 'put';

export interface BlackScholesPackage {
  /** (s, k, t years, v vol, r rate, 'call'|'put'); no dividend yield. */
  blackScholes(s: number, k: number, t: number, v: number, r: number, callPut: CallPut): number;
  stdNormCDF(x: number): number;
}

const load = createRequire(__filename);

export const blackScholesPackage = load('black-scholes') as BlackScholesPackage;

export interface GreeksPackage {
  /** All (s, k, t, v, r[, callPut]); no dividend yield. Vega is per 1 vol point (/100), theta per day (/365). */
  getDelta(s: number, k: number, t: number, v: number, r: number, callPut: CallPut): number;
  getGamma(s: number, k: number, t: number, v: number, r: number): number;
  getVega(s: number, k: number, t: number, v: number, r: number): number;
  getTheta(s: number, k: number, t: number, v: number, r: number, callPut: CallPut, scale?: number): number;
}

export const greeksPackage = load('greeks') as GreeksPackage;

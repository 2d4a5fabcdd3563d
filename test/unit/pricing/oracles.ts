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

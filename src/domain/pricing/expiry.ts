/**
 * Expiry instant and time to expiry (DESIGN 2 and 5.1).
 *
 * An option expires at 16:00 America/New_York on its expiration date (the product's one New York
 * clock, ../new-york.ts). Results are cached per date string.
 */
import { newYorkTimeMs } from '../new-york';
import { FLAGS } from './flags';

export const SECONDS_PER_YEAR = 31_536_000;
export const NS_PER_SECOND = 1_000_000_000n;
/** τ floor: 1 s, in years. */
export const MIN_TAU_YEARS = 1 / SECONDS_PER_YEAR;

const expiryCache = new Map<string, bigint>();

/** 16:00 America/New_York on `date` (YYYY-MM-DD), in ns since the Unix epoch. Cached. */
export function expiryInstantNs(date: string): bigint {
  let ns = expiryCache.get(date);
  if (ns === undefined) {
    ns = BigInt(expiryInstantMs(date)) * 1_000_000n;
    expiryCache.set(date, ns);
  }
  return ns;
}

/** 16:00 America/New_York on `date` (YYYY-MM-DD), in ms since the Unix epoch (not cached). */
export function expiryInstantMs(date: string): number {
  return newYorkTimeMs(date, 16);
}

export interface TimeToExpiry {
  /** Years ACT/365, floored at 1 s; null when expired. */
  tau: number | null;
  /** TIME_EXPIRED or TAU_CLAMPED, else 0. */
  flags: number;
}

/**
 * τ = (expiry − t) / 31,536,000 s. t after the expiry instant → TIME_EXPIRED and no τ; less than
 * 1 s left (including t exactly at expiry) → τ = 1 s and TAU_CLAMPED.
 */
export function timeToExpiry(expiryNs: bigint, tNs: bigint): TimeToExpiry {
  const leftNs = expiryNs - tNs;
  if (leftNs < 0n) return { tau: null, flags: FLAGS.TIME_EXPIRED };
  if (leftNs < NS_PER_SECOND) return { tau: MIN_TAU_YEARS, flags: FLAGS.TAU_CLAMPED };
  return { tau: Number(leftNs) / 1e9 / SECONDS_PER_YEAR, flags: 0 };
}

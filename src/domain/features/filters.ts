/**
 * Trade filters applied before window features (DESIGN 5.3): corrections, excluded condition
 * codes, and the trading session in America/New_York.
 */
import { isNewYorkDaylightTime } from '../new-york';

export type SessionMode = 'regular' | 'extended' | 'all';

export interface TradeFilterConfig {
  /** regular 09:30–16:00 ET, extended 04:00–20:00 ET, or all; intervals are [open, close). */
  session: SessionMode;
  /** SIP condition codes that exclude a stock trade. */
  excludedEquityConditions: readonly number[];
  /** OPRA condition codes that exclude an option trade. */
  excludedOptionConditions: readonly number[];
}

export const DEFAULT_TRADE_FILTER: TradeFilterConfig = { session: 'regular', excludedEquityConditions: [], excludedOptionConditions: [] };

const SESSION_MINUTES: Readonly<Record<Exclude<SessionMode, 'all'>, readonly [number, number]>> = {
  regular: [9 * 60 + 30, 16 * 60],
  extended: [4 * 60, 20 * 60],
};

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;
const dstByEstDay = new Map<number, boolean>();

/** Whether New York observes daylight time on the local date of this instant (ms, UTC). */
function daylightOnLocalDate(ms: number): boolean {
  // The local date is taken as the EST date (off by one only between 00:00 and 01:00 EDT) and its
  // offset applied from midnight (the real switch is at 02:00): both only matter before 03:00
  // local, and every session opens at 04:00 or later.
  const estDay = Math.floor((ms - 5 * MS_PER_HOUR) / MS_PER_DAY);
  let dst = dstByEstDay.get(estDay);
  if (dst === undefined) {
    const d = new Date(estDay * MS_PER_DAY);
    dst = isNewYorkDaylightTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
    dstByEstDay.set(estDay, dst);
  }
  return dst;
}

/** New York local minute of the day (0..1439) of an instant in ns. */
export function newYorkMinuteOfDay(tNs: bigint): number {
  const ms = Number(tNs / 1_000_000n) - (tNs < 0n && tNs % 1_000_000n !== 0n ? 1 : 0);
  const local = ms - (daylightOnLocalDate(ms) ? 4 : 5) * MS_PER_HOUR;
  return Math.floor((((local % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY) / 60_000);
}

const boundsCache: Record<Exclude<SessionMode, 'all'>, Map<number, readonly [bigint, bigint]>> = { regular: new Map(), extended: new Map() };

/** [open, close) of a session on the New York date that is EST day number `estDay`, in ns. Cached. */
function sessionBoundsNs(estDay: number, session: Exclude<SessionMode, 'all'>): readonly [bigint, bigint] {
  const cache = boundsCache[session];
  let bounds = cache.get(estDay);
  if (bounds === undefined) {
    const d = new Date(estDay * MS_PER_DAY);
    const offsetMs = (isNewYorkDaylightTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()) ? 4 : 5) * MS_PER_HOUR;
    const [open, close] = SESSION_MINUTES[session].map((minute) => BigInt(estDay * MS_PER_DAY + minute * 60_000 + offsetMs) * 1_000_000n);
    bounds = [open, close] as const;
    cache.set(estDay, bounds);
  }
  return bounds;
}

/**
 * Whether an instant (ns) is in the session. The New York date comes from the approximate
 * Number(tNs) (days start at 05:00 UTC, hours from any session); the comparison is exact in ns.
 */
export function inSession(tNs: bigint, session: SessionMode): boolean {
  if (session === 'all') return true;
  const estDay = Math.floor((Number(tNs) / 1e6 - 5 * MS_PER_HOUR) / MS_PER_DAY);
  const [open, close] = sessionBoundsNs(estDay, session);
  return tNs >= open && tNs < close;
}

/** A correction indicator that is present and non-zero marks a corrected/cancelled trade. */
export function isCorrected(correction: number | null): boolean {
  return correction !== null && correction !== 0;
}

export interface TradeFilter {
  readonly session: SessionMode;
  readonly equityExcluded: ReadonlySet<number>;
  readonly optionExcluded: ReadonlySet<number>;
}

export function compileTradeFilter(config: TradeFilterConfig): TradeFilter {
  return { session: config.session, equityExcluded: new Set(config.excludedEquityConditions), optionExcluded: new Set(config.excludedOptionConditions) };
}

/** The fields of a trade the filter reads. */
export const FILTER_READS = ['sip_timestamp', 'correction', 'conditions'] as const;

export interface FilterableTrade {
  sip_timestamp: bigint;
  correction: number | null;
  conditions: readonly number[];
}

function accepted(trade: FilterableTrade, excluded: ReadonlySet<number>, session: SessionMode): boolean {
  if (isCorrected(trade.correction)) return false;
  if (excluded.size > 0 && trade.conditions.some((c) => excluded.has(c))) return false;
  return inSession(trade.sip_timestamp, session);
}

export function acceptEquityTrade(trade: FilterableTrade, filter: TradeFilter): boolean {
  return accepted(trade, filter.equityExcluded, filter.session);
}

export function acceptOptionTrade(trade: FilterableTrade, filter: TradeFilter): boolean {
  return accepted(trade, filter.optionExcluded, filter.session);
}

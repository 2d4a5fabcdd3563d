/**
 * Reconnect delay: capped exponential with "equal jitter". Attempt 0 waits in [base/2, base),
 * each further attempt doubles the ceiling up to max; the random half spreads reconnecting clients.
 */
export interface BackoffSettings {
  initialMs: number;
  maxMs: number;
}

export function backoffMs(attempt: number, settings: BackoffSettings, rng: () => number = Math.random): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const ceiling = Math.min(settings.maxMs, settings.initialMs * 2 ** exponent);
  const r = Math.min(Math.max(rng(), 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}

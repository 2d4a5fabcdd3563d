/** US regular session (09:30–16:00 America/New_York) in UTC ns, on the product's one New York clock. */
import { newYorkTimeNs } from '../domain/new-york';

export interface Session {
  openNs: bigint;
  closeNs: bigint;
}

export function regularSession(date: string): Session {
  return { openNs: newYorkTimeNs(date, 9, 30), closeNs: newYorkTimeNs(date, 16, 0) };
}

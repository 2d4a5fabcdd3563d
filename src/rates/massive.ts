import { TreasuryYields, treasuryYieldsFrom } from '../domain/rates/treasury';
import { backoffMs } from '../producers/ws/backoff';
import { Logger } from '../util/log';

/**
 * Massive REST client for daily Treasury yields: GET /fed/v1/treasury-yields (Massive's OpenAPI
 * spec: query date.gte, date.lte, limit ≤ 50000, sort=date.asc; API key in the `apiKey` query
 * parameter; response { status: "OK", request_id, results: [{ date, yield_1_month, …,
 * yield_30_year }], next_url? }; yields in percent). Every page is fetched and validated before
 * anything is returned, so a failure on any page writes nothing.
 *
 * Errors: 401/403 → a clear "API key rejected" error, no retry; 429, 5xx, network errors and
 * timeouts → retried with capped exponential backoff and jitter (Retry-After honoured); a body that
 * is not JSON or not the documented shape → an error naming the page and field. The key never
 * appears in messages or logs.
 */

export interface MassiveRestOptions {
  baseUrl: string;
  apiKey: string;
  pageLimit: number;
  retries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
  log: Logger;
  sleep?: (ms: number) => Promise<void>;
}

export class MassiveRestError extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

const PATH = '/fed/v1/treasury-yields';

/** Every date in [from, to] that Massive has, ascending. */
export async function fetchTreasuryYields(from: string, to: string, o: MassiveRestOptions): Promise<TreasuryYields[]> {
  const first = new URL(PATH, o.baseUrl);
  first.search = new URLSearchParams({ 'date.gte': from, 'date.lte': to, limit: String(o.pageLimit), sort: 'date.asc' }).toString();
  const out: TreasuryYields[] = [];
  let url: URL | null = first;
  for (let page = 1; url !== null; page += 1) {
    const body = await getJson(url, page, o);
    out.push(...resultsOf(body, page));
    url = nextPage(body, first, page);
  }
  return out;
}

/** Redacts the key: URLs go into messages. */
function shown(url: URL): string {
  const copy = new URL(url);
  copy.searchParams.delete('apiKey');
  return copy.toString();
}

async function getJson(url: URL, page: number, o: MassiveRestOptions): Promise<unknown> {
  const withKey = new URL(url);
  withKey.searchParams.set('apiKey', o.apiKey);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt += 1) {
    const outcome = await attemptGet(withKey, url, page, o);
    if (outcome.kind === 'ok') return parseJson(outcome.text, url, page);
    if (attempt >= o.retries) throw new MassiveRestError(`${outcome.reason} on ${shown(url)} (page ${page}), gave up after ${attempt + 1} attempts`, outcome.status);
    const wait = Math.max(outcome.retryAfterMs ?? 0, backoffMs(attempt, { initialMs: o.initialBackoffMs, maxMs: o.maxBackoffMs }));
    o.log.warn('rates_fetch_retry', { url: shown(url), page, attempt: attempt + 1, reason: outcome.reason, wait_ms: wait });
    await sleep(wait);
  }
}

type Outcome = { kind: 'ok'; text: string } | { kind: 'retry'; reason: string; status: number | null; retryAfterMs: number | null };

async function attemptGet(withKey: URL, url: URL, page: number, o: MassiveRestOptions): Promise<Outcome> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(withKey, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(o.timeoutMs) });
    text = await response.text();
  } catch (err) {
    return { kind: 'retry', reason: `request failed: ${(err as Error).message}`, status: null, retryAfterMs: null };
  }
  if (response.ok) return { kind: 'ok', text };
  const detail = errorDetail(text);
  if (response.status === 401 || response.status === 403) {
    throw new MassiveRestError(`Massive rejected the API key (HTTP ${response.status}${detail}): check MASSIVE_API_KEY and its plan`, response.status);
  }
  if (response.status === 429 || response.status >= 500) {
    return { kind: 'retry', reason: `HTTP ${response.status}${detail}`, status: response.status, retryAfterMs: retryAfterMs(response.headers.get('retry-after'), o.maxBackoffMs) };
  }
  throw new MassiveRestError(`HTTP ${response.status}${detail} on ${shown(url)} (page ${page})`, response.status);
}

/** Massive's error bodies are { status: "ERROR", error: "..." }. */
function errorDetail(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string') return `: ${body.error}`;
  } catch {
    // not JSON: the status says enough
  }
  return '';
}

function retryAfterMs(header: string | null, maxMs: number): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, maxMs);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.min(Math.max(0, at - Date.now()), maxMs);
}

function parseJson(text: string, url: URL, page: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MassiveRestError(`malformed JSON from ${shown(url)} (page ${page}): ${(err as Error).message}`);
  }
}

function resultsOf(body: unknown, page: number): TreasuryYields[] {
  if (typeof body !== 'object' || body === null || !('results' in body) || !Array.isArray(body.results)) {
    throw new MassiveRestError(`malformed response (page ${page}): no results array`);
  }
  try {
    return body.results.map((r: unknown) => treasuryYieldsFrom(r, 'massive'));
  } catch (err) {
    throw new MassiveRestError(`malformed response (page ${page}): ${(err as Error).message}`);
  }
}

/** next_url of a page, only on the API's own origin (the key is sent with it). */
function nextPage(body: unknown, first: URL, page: number): URL | null {
  if (typeof body !== 'object' || body === null || !('next_url' in body) || !body.next_url) return null;
  if (typeof body.next_url !== 'string') throw new MassiveRestError(`malformed response (page ${page}): next_url is not a string`);
  const next = new URL(body.next_url, first);
  if (next.origin !== first.origin) throw new MassiveRestError(`next_url of page ${page} leaves ${first.origin}: refusing to send the API key there`);
  return next;
}

import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { fetchTreasuryYields, MassiveRestError, MassiveRestOptions } from '../../../src/rates/massive';
import { logger } from '../../../src/util/log';

/** The Massive client against a scripted HTTP server on loopback; waits are recorded, not slept. */

type Reply = { status: number; body: string; headers?: Record<string, string> };

async function server(replies: (url: URL) => Reply): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const s = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push(url.pathname + url.search);
    const r = replies(url);
    res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
    res.end(r.body);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => s.close(() => r())) };
}

const waits: number[] = [];
const options = (baseUrl: string, retries = 3): MassiveRestOptions => ({
  baseUrl, apiKey: 'secret-key', pageLimit: 2, retries, initialBackoffMs: 100, maxBackoffMs: 1000, timeoutMs: 5000,
  log: logger('test'), sleep: async (ms) => void waits.push(ms),
});
const ok = (results: unknown[], next?: string): Reply => ({ status: 200, body: JSON.stringify({ status: 'OK', request_id: 'r', results, ...(next ? { next_url: next } : {}) }) });

beforeEach(() => (waits.length = 0));

describe('Massive treasury-yields client', () => {
  it('follows next_url pages, sending the key with each, and asks for the date range ascending', async () => {
    const srv = await server((u) =>
      u.searchParams.get('cursor') === null
        ? ok([{ date: '2024-01-02', yield_1_month: 5.55 }, { date: '2024-01-03', yield_1_month: 5.54 }], `${srv.url}/fed/v1/treasury-yields?cursor=2`)
        : ok([{ date: '2024-01-04', yield_1_month: 5.53, yield_30_year: 4.2 }]),
    );
    try {
      const rows = await fetchTreasuryYields('2024-01-01', '2024-01-31', options(srv.url));
      expect(rows.map((r) => [r.date, r.yield_1_month, r.yield_30_year, r.source])).toEqual([
        ['2024-01-02', 5.55, null, 'massive'], ['2024-01-03', 5.54, null, 'massive'], ['2024-01-04', 5.53, 4.2, 'massive'],
      ]);
      expect(srv.seen).toEqual([
        '/fed/v1/treasury-yields?date.gte=2024-01-01&date.lte=2024-01-31&limit=2&sort=date.asc&apiKey=secret-key',
        '/fed/v1/treasury-yields?cursor=2&apiKey=secret-key',
      ]);
    } finally {
      await srv.close();
    }
  });

  it('fails at once on 401 with the server message, never showing the key', async () => {
    const srv = await server(() => ({ status: 401, body: '{"status":"ERROR","error":"Unknown API Key"}' }));
    try {
      const err = await fetchTreasuryYields('2024-01-01', '2024-01-31', options(srv.url)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MassiveRestError);
      expect((err as MassiveRestError).message).toBe('Massive rejected the API key (HTTP 401: Unknown API Key): check MASSIVE_API_KEY and its plan');
      expect(srv.seen).toHaveLength(1);
    } finally {
      await srv.close();
    }
  });

  it('retries 429 and 5xx with backoff (Retry-After honoured, capped), then succeeds', async () => {
    let n = 0;
    const srv = await server(() => {
      n += 1;
      if (n === 1) return { status: 429, body: '{"status":"ERROR","error":"slow down"}', headers: { 'retry-after': '0.7' } };
      if (n === 2) return { status: 502, body: 'bad gateway' };
      return ok([{ date: '2024-01-02', yield_1_year: 4.8 }]);
    });
    try {
      const rows = await fetchTreasuryYields('2024-01-01', '2024-01-02', options(srv.url));
      expect(rows).toHaveLength(1);
      expect(waits[0]).toBeGreaterThanOrEqual(700); // Retry-After 0.7 s over a 50–100 ms backoff
      expect(waits[1]).toBeGreaterThanOrEqual(100);
      expect(waits[1]).toBeLessThanOrEqual(200);
    } finally {
      await srv.close();
    }
  });

  it('gives up after the configured retries with the last reason, key redacted', async () => {
    const srv = await server(() => ({ status: 503, body: '{"status":"ERROR","error":"maintenance"}' }));
    try {
      const err = (await fetchTreasuryYields('2024-01-01', '2024-01-02', options(srv.url, 2)).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/^HTTP 503: maintenance on http:\/\/127\.0\.0\.1:\d+\/fed\/v1\/treasury-yields\?date\.gte=2024-01-01&date\.lte=2024-01-02&limit=2&sort=date\.asc \(page 1\), gave up after 3 attempts$/);
      expect(waits).toHaveLength(2);
    } finally {
      await srv.close();
    }
  });

  it('retries a refused connection, then reports it', async () => {
    const srv = await server(() => ok([]));
    const url = srv.url;
    await srv.close();
    const err = (await fetchTreasuryYields('2024-01-01', '2024-01-02', options(url, 1)).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^request failed: fetch failed on .* gave up after 2 attempts$/);
  });

  it('rejects malformed JSON, a missing results array, a bad field and a next_url on another host', async () => {
    const bodies: Reply[] = [
      { status: 200, body: '{"status":"OK","results":[' },
      { status: 200, body: '{"status":"OK"}' },
      ok([{ date: '2024-01-02', yield_2_year: 'n/a' }]),
      ok([], 'http://evil.example/fed/v1/treasury-yields?cursor=1'),
    ];
    const messages: string[] = [];
    for (const reply of bodies) {
      const srv = await server(() => reply);
      try {
        messages.push(((await fetchTreasuryYields('2024-01-01', '2024-01-02', options(srv.url)).catch((e: unknown) => e)) as Error).message);
      } finally {
        await srv.close();
      }
    }
    expect(messages[0]).toMatch(/^malformed JSON from http:\/\/127\.0\.0\.1:\d+\/fed\/v1\/treasury-yields\?.* \(page 1\): /);
    expect(messages.slice(1)).toEqual([
      'malformed response (page 1): no results array',
      'malformed response (page 1): yield_2_year of 2024-01-02 is not a number (got "n/a")',
      expect.stringMatching(/^next_url of page 1 leaves http:\/\/127\.0\.0\.1:\d+: refusing to send the API key there$/),
    ]);
    for (const m of messages) expect(m).not.toContain('secret-key');
  });
});

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateDay } from '../../../src/generator';
import { bsPrice } from '../../../src/generator/black-scholes';
import { expiriesFor } from '../../../src/generator/calendar';
import { newYorkOffsetHours } from '../../../src/domain/new-york';
import { regularSession } from '../../../src/generator/session';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { blackScholes } = require('black-scholes') as { blackScholes: (s: number, k: number, t: number, v: number, r: number, cp: string) => number };

const TINY = {
  date: '2025-03-07', contractsPerUnderlying: 6, optionTradesPerContract: 15, optionQuotesPerContract: 15,
  stockTradesPerUnderlying: 200, stockQuotesPerUnderlying: 200,
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'optflow-gen-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('generateDay', () => {
  it('is deterministic: same seed → same bytes; another seed → other bytes', async () => {
    const a = await generateDay({ ...TINY, outDir: join(dir, 'a'), seed: 42 });
    const b = await generateDay({ ...TINY, outDir: join(dir, 'b'), seed: 42 });
    const c = await generateDay({ ...TINY, outDir: join(dir, 'c'), seed: 43 });
    expect(a.files.map((f) => sha(f.path))).toEqual(b.files.map((f) => sha(f.path)));
    expect(a.files.map((f) => f.sha256)).toEqual(a.files.map((f) => sha(f.path)));
    expect(c.files[0].sha256).not.toBe(a.files[0].sha256);
  });

  it('writes the Massive key layout with real header spellings and manifest counts that match the files', async () => {
    const day = await generateDay({ ...TINY, outDir: join(dir, 'layout'), seed: 5 });
    expect(day.files.map((f) => f.key)).toEqual([
      'us_stocks_sip/trades_v1/2025/03/2025-03-07.csv.gz', 'us_stocks_sip/quotes_v1/2025/03/2025-03-07.csv.gz',
      'us_options_opra/trades_v1/2025/03/2025-03-07.csv.gz', 'us_options_opra/quotes_v1/2025/03/2025-03-07.csv.gz',
    ]);
    for (const f of day.files) {
      const lines = gunzipSync(readFileSync(f.path)).toString('latin1').split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.length - 1).toBe(f.rows);
      expect(f.rows).toBe(f.validRows + f.malformed.length);
      expect(Object.values(f.validRowsByUnderlying).reduce((x, y) => x + y, 0)).toBe(f.validRows);
      for (const m of f.malformed) expect(lines[m.line - 1].length).toBeGreaterThan(0);
      // grouped by ticker/contract: once a symbol's block ends it never comes back
      const symbols = lines.slice(1).map((l) => l.slice(0, l.indexOf(','))).filter((s) => !s.includes('$') && !/X\d{8}$/.test(s));
      const blocks = symbols.filter((s, i) => i === 0 || s !== symbols[i - 1]);
      expect(new Set(blocks).size).toBe(blocks.length);
    }
    expect(day.files[1].columns[0]).toBe('ticker');
    const quoteHeader = gunzipSync(readFileSync(day.files[1].path)).toString('latin1').split('\n')[0];
    expect(quoteHeader.startsWith('Ticker,ask_exchange,')).toBe(true);
    expect(day.files[0].validRowsByUnderlying).toEqual({ IWM: 70, QQQ: 100, SPY: 200 });
  });

  it('keeps every valid event inside the regular session', async () => {
    const day = await generateDay({ ...TINY, outDir: join(dir, 'session'), seed: 9, malformed: false, datasets: ['us_stocks_sip/trades_v1'] });
    const { openNs, closeNs } = regularSession('2025-03-07');
    const lines = gunzipSync(readFileSync(day.files[0].path)).toString('latin1').trim().split('\n').slice(1);
    const sips = lines.map((l) => BigInt(l.split(',').at(-5)!));
    expect(sips.every((t) => t >= openNs && t < closeNs)).toBe(true);
  });
});

describe('session and calendar', () => {
  it('09:30 New York is 14:30 UTC in winter and 13:30 UTC in summer, switching on the DST Sundays', () => {
    expect(regularSession('2025-03-07').openNs).toBe(1741357800000000000n);
    expect(regularSession('2025-03-10').openNs).toBe(BigInt(Date.UTC(2025, 2, 10, 13, 30)) * 1_000_000n);
    expect(regularSession('2025-10-31').closeNs).toBe(BigInt(Date.UTC(2025, 9, 31, 20, 0)) * 1_000_000n);
    expect(regularSession('2025-11-03').closeNs).toBe(BigInt(Date.UTC(2025, 10, 3, 21, 0)) * 1_000_000n);
    expect([newYorkOffsetHours('2025-03-08'), newYorkOffsetHours('2025-03-09')]).toEqual([-5, -4]);
    expect([newYorkOffsetHours('2025-11-01'), newYorkOffsetHours('2025-11-02')]).toEqual([-4, -5]);
  });

  it('agrees with Intl (America/New_York) on the session offset for every day of 2024–2026', () => {
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', hourCycle: 'h23' });
    for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2027, 0, 1); t += 86_400_000) {
      const date = new Date(t).toISOString().slice(0, 10);
      const noonUtcHourInNy = Number(fmt.format(new Date(t + 16 * 3_600_000)));
      expect(newYorkOffsetHours(date)).toBe(noonUtcHourInNy - 16);
    }
  });

  it('lists 0DTE, two weeklies and the next monthly', () => {
    expect(expiriesFor('2025-03-07')).toEqual(['2025-03-07', '2025-03-14', '2025-03-21', '2025-04-18']);
    expect(expiriesFor('2025-03-19')).toEqual(['2025-03-19', '2025-03-21', '2025-03-28', '2025-04-18']);
  });
});

describe('bsPrice', () => {
  it.each([
    [575, 570, 0.02, 0.16, 0.045, 'C'], [575, 590, 0.1, 0.25, 0.045, 'P'], [208, 200, 0.5, 0.3, 0.03, 'P'], [100, 130, 1, 0.5, 0.05, 'C'],
  ] as const)('matches the black-scholes package: S=%p K=%p τ=%p σ=%p r=%p %s', (s, k, t, v, r, right) => {
    const ours = bsPrice({ spot: s, strike: k, tau: t, rate: r, dividendYield: 0, vol: v, right });
    expect(ours).toBeCloseTo(blackScholes(s, k, t, v, r, right === 'C' ? 'call' : 'put'), 4);
  });
});

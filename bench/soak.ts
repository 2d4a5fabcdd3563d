/**
 * `npm run bench:soak -- [--minutes 30] [--rate 20000]`: the live path under a steady load (issue 16).
 *
 * A fake Massive WebSocket server on loopback (stocks and options feeds, the real handshake: connected,
 * auth, subscribe) sends `rate` events per second in total, stamped with the wall clock, to the two
 * WebSocket producers (`optflow produce ws --feed stocks|options`), with the greeks and features
 * processors and one Parquet sink per sink topic running, each as its own `optflow` process.
 * Every 10 s it samples each process's /metrics (RSS, event-loop delay p99, records, drops) and
 * `optflow status --json` (consumer lag per group, watermark lag behind the wall clock), and writes
 * bench/out/soak/<id>/soak.csv. At the end it prints per process the RSS slope (MB/hour, least squares
 * over the run's second half, after the state has filled its windows) and whether memory stayed flat,
 * the maximum lag and watermark lag per group, events sent and produced, and dropped events; and renders soak.png (RSS and lag over time) with
 * bench/soak_plot.py (matplotlib, installed into .optflow/venv-bench from bench/requirements.txt).
 *
 * Topics live under their own prefix (soak.<id>.) on the configured cluster.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { loadConfig } from '../src/config';
import { buildTopology } from '../topology/topology';
import { runCli, sleep, Supervised } from './procs';

const SAMPLE_MS = 10_000;
const UNDERLYINGS: [string, number][] = [['SPY', 570], ['QQQ', 495], ['IWM', 208]];

interface Options {
  minutes: number;
  rate: number;
  metricsBase: number;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { minutes: 30, rate: 20_000, metricsBase: 47_700 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], Number(argv[i + 1])];
    if (!Number.isFinite(value)) throw new Error(`${flag} needs a number`);
    if (flag === '--minutes') o.minutes = value;
    else if (flag === '--rate') o.rate = value;
    else if (flag === '--metrics-base') o.metricsBase = value;
    else throw new Error(`unknown flag ${flag} (--minutes N --rate EVENTS_PER_S --metrics-base PORT)`);
  }
  return o;
}

/** Steady synthetic events for one feed: trades and quotes of SPY/QQQ/IWM or of 40 contracts each. */
class FeedSource {
  sent = 0;
  private seq = 0;
  private n = 0;
  private readonly contracts: { sym: string; mid: number }[] = [];

  constructor(readonly feed: 'stocks' | 'options') {
    for (const [u, spot] of UNDERLYINGS) {
      for (let k = -10; k < 10; k++) {
        const strike = Math.round(spot + k * (spot / 200));
        for (const right of ['C', 'P']) {
          const intrinsic = Math.max(0, right === 'C' ? spot - strike : strike - spot);
          this.contracts.push({ sym: `O:${u}250321${right}${String(strike * 1000).padStart(8, '0')}`, mid: intrinsic + 2 + Math.abs(k) * 0.1 });
        }
      }
    }
  }

  /** One frame of `count` events as Massive sends it (ns `t` as a bare JSON number). */
  frame(count: number, nowMs: number): string {
    const parts: string[] = [];
    const baseNs = BigInt(nowMs) * 1_000_000n;
    for (let i = 0; i < count; i++) {
      this.n += 1;
      this.seq += 1;
      const t = baseNs + BigInt(this.n % 1_000_000);
      const wiggle = ((this.n * 7919) % 100) / 1000;
      if (this.feed === 'stocks') {
        const [sym, spot] = UNDERLYINGS[this.n % UNDERLYINGS.length];
        const px = spot + wiggle;
        parts.push(this.n % 4 === 0
          ? `{"ev":"T","sym":"${sym}","x":4,"i":"${this.n}","z":2,"p":${px.toFixed(2)},"s":${1 + (this.n % 300)},"c":[12],"t":${t},"q":${this.seq}}`
          : `{"ev":"Q","sym":"${sym}","bx":11,"bp":${(px - 0.01).toFixed(2)},"bs":${1 + (this.n % 9)},"ax":12,"ap":${(px + 0.01).toFixed(2)},"as":${1 + (this.n % 7)},"c":[1],"i":[],"t":${t},"q":${this.seq},"z":1}`);
      } else {
        const c = this.contracts[this.n % this.contracts.length];
        const mid = c.mid + wiggle;
        parts.push(this.n % 4 === 0
          ? `{"ev":"T","sym":"${c.sym}","x":65,"p":${mid.toFixed(2)},"s":${1 + (this.n % 20)},"c":[209],"t":${t},"q":${this.seq}}`
          : `{"ev":"Q","sym":"${c.sym}","bx":1,"bp":${(mid - 0.05).toFixed(2)},"bs":${1 + (this.n % 50)},"ax":7,"ap":${(mid + 0.05).toFixed(2)},"as":${1 + (this.n % 40)},"t":${t},"q":${this.seq}}`);
      }
    }
    this.sent += count;
    return `[${parts.join(',')}]`;
  }
}

/** The fake Massive server of one feed: handshake, then `perSecond` events in 10 frames a second. */
async function fakeMassive(source: FeedSource, perSecond: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', r));
  const subscribed = new Set<WebSocket>();
  server.on('connection', (socket) => {
    socket.send(JSON.stringify([{ ev: 'status', status: 'connected', message: 'Connected Successfully' }]));
    socket.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { action: string; params: string };
      if (m.action === 'auth') socket.send(JSON.stringify([{ ev: 'status', status: 'auth_success', message: 'authenticated' }]));
      if (m.action === 'subscribe') {
        socket.send(JSON.stringify([{ ev: 'status', status: 'success', message: `subscribed to: ${m.params}` }]));
        subscribed.add(socket);
      }
    });
    socket.on('close', () => subscribed.delete(socket));
  });
  // A steady rate against the clock from the first subscription: each tick sends what is owed.
  let started = 0;
  let owed = 0;
  const timer = setInterval(() => {
    if (subscribed.size === 0) return;
    if (started === 0) started = Date.now();
    const due = Math.floor(((Date.now() - started) / 1000) * perSecond) - owed;
    for (let left = due; left > 0; left -= 1000) {
      const text = source.frame(Math.min(1000, left), Date.now());
      for (const s of subscribed) s.send(text);
    }
    owed += Math.max(0, due);
  }, 100);
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => {
      clearInterval(timer);
      for (const s of server.clients) s.terminate();
      server.close(() => r());
    }),
  };
}

function scrape(port: number): Promise<Map<string, number>> {
  return new Promise((resolvePromise) => {
    const req = get({ host: '127.0.0.1', port, path: '/metrics', timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        const m = new Map<string, number>();
        for (const line of text.split('\n')) {
          if (line.startsWith('#') || line.length === 0) continue;
          const [nameWithLabels, value] = line.split(' ');
          const name = nameWithLabels.replace(/\{.*$/, '');
          const v = Number(value);
          if (!Number.isFinite(v)) continue;
          // sums over labels, except gauges where the maximum tells more
          m.set(name, name.endsWith('_lag_seconds') ? Math.max(m.get(name) ?? -Infinity, v) : (m.get(name) ?? 0) + v);
        }
        resolvePromise(m);
      });
    });
    req.on('error', () => resolvePromise(new Map()));
    req.on('timeout', () => req.destroy());
  });
}

function slopePerHour(points: [number, number][]): number {
  if (points.length < 3) return NaN;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return (num / den) * 3600;
}

function plot(csv: string, png: string): string {
  const root = resolve(__dirname, '..', '..');
  const venv = join(root, '.optflow', 'venv-bench');
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    const made = spawnSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    if (made.status !== 0) return 'no plot: python3 -m venv failed';
  }
  const pip = spawnSync(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-r', join(root, 'bench', 'requirements.txt')], { stdio: 'inherit' });
  if (pip.status !== 0) return 'no plot: pip install -r bench/requirements.txt failed';
  const run = spawnSync(python, [join(root, 'bench', 'soak_plot.py'), csv, png], { stdio: 'inherit' });
  return run.status === 0 ? png : 'no plot: bench/soak_plot.py failed';
}

export async function run(argv: string[] = process.argv.slice(3)): Promise<void> {
  const o = parseOptions(argv);
  const config = loadConfig();
  const id = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  const root = resolve(process.cwd(), 'bench/out/soak', id);
  const logs = join(root, 'logs');
  mkdirSync(logs, { recursive: true });
  const prefix = `soak.${id}.`;
  const sources = { stocks: new FeedSource('stocks'), options: new FeedSource('options') };
  const servers = {
    stocks: await fakeMassive(sources.stocks, Math.round(o.rate * 0.4)),
    options: await fakeMassive(sources.options, Math.round(o.rate * 0.6)),
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPTFLOW__TOPICS__PREFIX: prefix,
    OPTFLOW__LOG__LEVEL: 'warn',
    OPTFLOW__WEBSOCKET__URL_STOCKS: servers.stocks.url,
    OPTFLOW__WEBSOCKET__URL_OPTIONS: servers.options.url,
    OPTFLOW__WEBSOCKET__SUBSCRIPTIONS__STOCKS: 'T.SPY,Q.SPY,T.QQQ,Q.QQQ,T.IWM,Q.IWM',
    OPTFLOW__WEBSOCKET__SUBSCRIPTIONS__OPTIONS: 'T.*,Q.*',
    MASSIVE_API_KEY: 'soak',
  };
  let port = o.metricsBase;
  const procs: { p: Supervised; port: number; group: string | null }[] = [];
  const add = (name: string, args: string[], group: string | null): void => {
    const p = port++;
    procs.push({ p: new Supervised(name, [...args, '--metrics-port', String(p)], env, logs, false, (s, cause) => {
      if (cause === 'unexpected') setTimeout(() => s.start(), 1000);
    }), port: p, group });
  };
  // topics and schemas first, so that the members all start on an applied topology
  const applied = await runCli(['topology', 'apply'], env, join(logs, 'apply.log'));
  if (applied.code !== 0) throw new Error(`topology apply failed (see ${logs}/apply.log)`);
  add('process-greeks', ['process', 'greeks'], 'greeks');
  add('process-features', ['process', 'features'], 'features');
  for (const s of buildTopology({ topics: { ...config.topics, prefix: '' } }).sinks) add(`sink-${s.topic}`, ['sink', 'parquet', '--topic', s.topic, '--out', join(root, 'lake')], s.name);
  add('ws-stocks', ['produce', 'ws', '--feed', 'stocks'], null);
  add('ws-options', ['produce', 'ws', '--feed', 'options'], null);
  for (const { p } of procs) p.start();

  const csv = join(root, 'soak.csv');
  writeFileSync(csv, 'elapsed_s,series,rss_mb,eventloop_p99_ms,lag,watermark_lag_s,records,dropped\n');
  const rss = new Map<string, [number, number][]>();
  const maxLag = new Map<string, number>();
  const maxWmLag = new Map<string, number>();
  let dropped = 0;
  let produced = 0;
  const started = Date.now();
  const end = started + o.minutes * 60_000;
  process.stdout.write(`soak: ${o.rate} events/s for ${o.minutes} min, topics ${prefix}*, output ${root}\n`);
  // Group lag comes from `optflow status` (the sinks have no lag metric); on a loaded machine one call
  // takes longer than a sample period, so it runs in its own loop and its rows carry their own time.
  let sampling = true;
  const statusLoop = (async () => {
    while (sampling) {
      const status = await runCli(['status', '--json'], env, join(logs, 'status.log'));
      const t = Math.round((Date.now() - started) / 1000);
      if (status.code !== 0 || !sampling) {
        await sleep(2_000);
        continue;
      }
      const snap = JSON.parse(status.stdout) as { groups: { name: string; kind: string; inputs: { lag: number }[]; watermark: { lagWallSeconds: number } | null }[] };
      const rows: string[] = [];
      for (const g of snap.groups.filter((x) => x.kind === 'sink' || x.name === 'greeks' || x.name === 'features')) {
        const lag = g.inputs.reduce((s, i) => s + Number(i.lag), 0);
        const wm = g.watermark?.lagWallSeconds;
        maxLag.set(g.name, Math.max(maxLag.get(g.name) ?? 0, lag));
        if (wm !== undefined) maxWmLag.set(g.name, Math.max(maxWmLag.get(g.name) ?? 0, wm));
        rows.push(`${t},group:${g.name},,,${lag},${wm?.toFixed(2) ?? ''},,`);
      }
      appendFileSync(csv, `${rows.join('\n')}\n`);
      await sleep(SAMPLE_MS);
    }
  })();
  try {
    while (Date.now() < end) {
      await sleep(SAMPLE_MS - ((Date.now() - started) % SAMPLE_MS));
      const t = Math.round((Date.now() - started) / 1000);
      const rows: string[] = [];
      dropped = 0;
      produced = 0;
      for (const { p, port: mp } of procs) {
        const m = await scrape(mp);
        if (m.size === 0) continue;
        const mb = (m.get('process_resident_memory_bytes') ?? NaN) / 1e6;
        rss.set(p.name, [...(rss.get(p.name) ?? []), [t, mb]]);
        dropped += m.get('optflow_ws_dropped_total') ?? 0;
        produced += m.get('optflow_ws_records_total') ?? 0;
        const loop = (m.get('nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000;
        rows.push(`${t},${p.name},${mb.toFixed(1)},${loop.toFixed(1)},${m.get('optflow_consumer_lag') ?? ''},${m.get('optflow_watermark_lag_seconds')?.toFixed(2) ?? ''},${m.get('optflow_ws_records_total') ?? m.get('optflow_records_in_total') ?? m.get('optflow_sink_records_total') ?? ''},${m.get('optflow_ws_dropped_total') ?? ''}`);
      }
      const sent = sources.stocks.sent + sources.options.sent;
      rows.push(`${t},fake-massive,,,,,${sent},`);
      appendFileSync(csv, `${rows.join('\n')}\n`);
      process.stdout.write(`  ${t}s sent ${sent} produced ${produced} dropped ${dropped} lag ${[...maxLag].map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
    }
  } finally {
    sampling = false;
    await statusLoop;
    for (const { p } of procs) await p.stop();
    await servers.stocks.close();
    await servers.options.close();
  }

  const sent = sources.stocks.sent + sources.options.sent;
  const lines: string[] = [];
  const say = (s: string): void => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };
  say('');
  say(`soak ${o.minutes} min at ${o.rate} events/s: sent ${sent}, produced ${produced} (+ filtered/DLQ), dropped ${dropped}`);
  say(`${'process'.padEnd(34)}${'RSS start MB'.padStart(13)}${'RSS end MB'.padStart(11)}${'slope MB/h'.padStart(12)}  memory`);
  for (const [name, all] of rss) {
    // Steady state: the second half. The first minutes fill the processors' state (allowed lateness,
    // as-of look-back, open windows) and the sinks' first segments; a fit over them reads as growth.
    const points = all.filter(([t]) => t >= (o.minutes * 60) / 2);
    if (points.length === 0) continue;
    const slope = slopePerHour(points);
    const mean = points.reduce((s, p) => s + p[1], 0) / points.length;
    // flat: the fitted growth over the whole run stays under 10% of the mean RSS
    const verdict = Number.isNaN(slope) ? 'too few samples' : Math.abs(slope) * (o.minutes / 60) < 0.1 * mean ? 'flat' : 'GROWING';
    say(`${name.padEnd(34)}${all[0][1].toFixed(0).padStart(13)}${points[points.length - 1][1].toFixed(0).padStart(11)}${slope.toFixed(1).padStart(12)}  ${verdict}`);
  }
  say(`${'group'.padEnd(34)}${'max lag'.padStart(13)}${'max wm lag s'.padStart(14)}`);
  for (const [name, lag] of maxLag) say(`${name.padEnd(34)}${String(lag).padStart(13)}${(maxWmLag.get(name)?.toFixed(1) ?? '-').padStart(14)}`);
  const unexpected = procs.filter(({ p }) => p.unexpectedExits > 0).map(({ p }) => `${p.name} ×${p.unexpectedExits}`);
  if (unexpected.length) say(`unexpected exits (restarted): ${unexpected.join(', ')}`);
  say(`plot: ${plot(csv, join(root, 'soak.png'))}`);
  writeFileSync(join(root, 'report.txt'), `${lines.join('\n')}\n`);
}

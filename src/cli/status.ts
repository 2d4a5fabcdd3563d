import { createRegistry } from '../avro/serde';
import { loadConfig } from '../config';
import { Cluster } from '../ops/cluster';
import { toJsonLine } from '../ops/decode';
import { GroupStatus, StatusReader, StatusSnapshot } from '../ops/status';
import { buildTopology } from '../../topology/topology';
import { parseFlags, stringFlag, UsageError } from './args';
import { flushStdout, out } from './output';

const USAGE = 'usage: optflow status [--watch] [--json] [--interval SECONDS]';

/**
 * `optflow status`: the whole topology at a glance, read from the cluster. Rates come from two
 * snapshots `--interval` seconds apart (default 2); `--watch` redraws in place on a TTY (a new block
 * per refresh otherwise); `--json` prints the same snapshot, one JSON document per refresh.
 */
export async function statusCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { watch: { type: 'boolean' }, json: { type: 'boolean' }, interval: { type: 'string' } });
  if (flags.positionals.length > 0) throw new UsageError(USAGE);
  const interval = Number(stringFlag(flags, 'interval') ?? '2');
  if (!(interval > 0)) throw new UsageError('--interval must be a positive number of seconds');
  const config = loadConfig();
  const cluster = await Cluster.connect(config, 'status');
  const reader = new StatusReader(cluster, config, buildTopology(config), createRegistry(config.schema_registry));
  let stopped = false;
  const stop = () => (stopped = true);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    let previous = await reader.snapshot();
    for (;;) {
      await sleepUnless(interval * 1000, () => stopped);
      if (stopped) return 0;
      const snapshot = await reader.snapshot(previous);
      await show(snapshot, flags.values.json === true, flags.values.watch === true);
      if (!flags.values.watch) {
        await flushStdout();
        return 0;
      }
      previous = snapshot;
    }
  } finally {
    await cluster.close();
  }
}

async function sleepUnless(ms: number, stopped: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !stopped()) await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
}

async function show(snapshot: StatusSnapshot, json: boolean, watch: boolean): Promise<void> {
  if (json) return out(`${toJsonLine(snapshot)}\n`);
  const text = renderStatus(snapshot);
  // Redraw in place: cursor home, clear screen. Without a TTY each refresh is a new block.
  await out(watch && process.stdout.isTTY ? `\x1b[H\x1b[2J${text}` : `${text}\n`);
}

export function renderStatus(s: StatusSnapshot): string {
  const p = s.producers;
  const lines = [
    `optflow status  ${s.at}  kafka ${s.brokers.join(',')}`,
    `producers (flatfile checkpoints): files ${p.files.done} done, ${p.files.in_progress} in progress, ${p.files.failed} failed; ` +
      `${p.records} records, ${p.deadLetters} dead letters; last event ${p.lastEventTime ?? '-'}; updated ${p.updatedAt ?? '-'}`,
    '',
    row(['group', 'state', 'members', 'lag', 'watermark', 'wm lag', 'in/s', 'out/s', 'late', 'dlq']),
  ];
  for (const g of s.groups) lines.push(...renderGroup(g));
  return `${lines.join('\n')}\n`;
}

const WIDTHS = [30, 12, 7, 9, 24, 10, 9, 9, 7, 7];

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(WIDTHS[i]) : c.padStart(WIDTHS[i]))).join(' ');
}

function renderGroup(g: GroupStatus): string[] {
  const lag = g.inputs.reduce((n, i) => n + i.lag, 0n);
  const wm = g.watermark;
  const wmLag = wm ? seconds(wm.lagHeadSeconds ?? wm.lagWallSeconds) : '-';
  const out = [
    row([g.name, g.state, String(g.members.length), String(lag), wm ? wm.iso.slice(0, 19) + 'Z' : '-', wmLag, rate(g.inPerSecond), rate(g.outPerSecond), num(g.late), num(g.dlq)]),
  ];
  for (const m of g.members) {
    const parts = Object.entries(m.partitions).map(([t, ps]) => `${shortTopic(t)}[${ps.join(',')}]`);
    out.push(`    member ${m.clientId}@${m.host}  ${parts.join(' ') || '(no partitions)'}`);
  }
  if (g.inputs.length > 1 || lag > 0n) out.push(`    lag per input: ${g.inputs.map((i) => `${shortTopic(i.topic)} ${i.lag}`).join(', ')}`);
  if (wm) out.push(`    watermark lag: ${seconds(wm.lagWallSeconds)} behind wall time${wm.lagHeadSeconds === null ? '' : `, ${seconds(wm.lagHeadSeconds)} behind the producers' last event`}`);
  if (g.metrics && g.members.length > 0) out.push(`    metrics ${g.metrics}`);
  if (g.flags) {
    const f = g.flags;
    out.push(`    of the last ${f.sampled} enriched trades: no IV ${pct(f.noIvShare)}, aggressor UNKNOWN ${pct(f.unknownAggressorShare)}`);
  }
  return out;
}

const shortTopic = (t: string) => t;
const rate = (r: number | null) => (r === null ? '-' : r.toFixed(r < 10 ? 1 : 0));
const num = (n: number | null) => (n === null ? '-' : String(n));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function seconds(s: number): string {
  const a = Math.abs(s);
  if (a < 120) return `${s.toFixed(1)}s`;
  if (a < 7200) return `${(s / 60).toFixed(1)}m`;
  if (a < 172800) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86400).toFixed(0)}d`;
}

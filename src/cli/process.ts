import { loadConfig } from '../config';
import { Cluster, LiveMembersError } from '../ops/cluster';
import { describePlan, executeRewinds, planReprocess, planReset, RefusedError } from '../ops/reprocess';
import { ProcessorRuntime } from '../processors/runtime/runtime';
import { processorByName, PROCESSORS } from '../../topology/processors';
import { parseFlags, stringFlag, UsageError } from './args';
import { untilStopped } from './lifetime';
import { out } from './output';

/** `optflow process <name>`: one member of the processor's consumer group, until SIGTERM/SIGINT. */
export async function processCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { 'metrics-port': { type: 'string' } });
  const name = flags.positionals[0];
  if (!name) throw new UsageError(`usage: optflow process <${PROCESSORS.map((p) => p.name).join('|')}> [--metrics-port N]`);
  const config = loadConfig();
  const port = stringFlag(flags, 'metrics-port');
  const runtime = new ProcessorRuntime(config, processorByName(name), { metricsPort: port ? Number(port) : undefined });
  await runtime.start();
  return untilStopped(runtime, `process ${name}`);
}

/**
 * `optflow reset --group <group|processor> --to-earliest | --to-datetime <iso> [--dry-run]`: rewinds a
 * stopped consumer group (src/ops/reprocess.ts, the same rewind as `reprocess`). A processor keeps its
 * output version: the next run writes the same outputs again, with the same generation, after the old
 * ones. To replace outputs (one version in the topic's latest and in the lake) use `optflow reprocess`.
 */
export async function resetCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    group: { type: 'string' },
    'to-earliest': { type: 'boolean' },
    'to-datetime': { type: 'string' },
    'dry-run': { type: 'boolean' },
  });
  const config = loadConfig();
  const groupArg = stringFlag(flags, 'group');
  const datetime = stringFlag(flags, 'to-datetime');
  if (!groupArg || (!flags.values['to-earliest'] === !datetime)) {
    throw new UsageError('usage: optflow reset --group <group|processor> (--to-earliest | --to-datetime 2025-03-07T14:30:00Z) [--dry-run]');
  }
  const target = datetime ? { ms: parseInstant(datetime) } : { earliest: true as const };
  const dryRun = flags.values['dry-run'] === true;
  const cluster = await Cluster.connect(config, 'reset');
  try {
    const rewind = await planReset(cluster, config, groupArg, target);
    if (!dryRun) await executeRewinds(cluster, [rewind]);
    const lines = [`${dryRun ? 'plan: reset' : 'reset'} ${rewind.group}`];
    for (const o of rewind.offsets) lines.push(`  ${o.topic} p${o.partition} ${o.was ?? '-'}->${o.offset} (${o.why})`);
    if (dryRun) lines.push('dry run: nothing was changed');
    await out(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof RefusedError || err instanceof LiveMembersError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  } finally {
    await cluster.close();
  }
}

/**
 * `optflow reprocess --from D [--to D] [--processors greeks,features] [--dry-run]`: recompute history
 * from day D as a new generation (src/ops/reprocess.ts). Refuses, changing nothing, while any affected
 * group has a live member.
 */
export async function reprocessCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    processors: { type: 'string' },
    'dry-run': { type: 'boolean' },
  });
  const fromDay = stringFlag(flags, 'from');
  if (!fromDay) throw new UsageError(`usage: optflow reprocess --from YYYY-MM-DD [--to YYYY-MM-DD] [--processors ${PROCESSORS.map((p) => p.name).join(',')}] [--dry-run]`);
  const config = loadConfig();
  const chosen = stringFlag(flags, 'processors')?.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const dryRun = flags.values['dry-run'] === true;
  const cluster = await Cluster.connect(config, 'reprocess');
  try {
    const plan = await planReprocess(cluster, config, { fromDay, toDay: stringFlag(flags, 'to'), processors: chosen });
    if (!dryRun) await executeRewinds(cluster, plan.groups);
    await out(`${describePlan(plan, !dryRun)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof RefusedError || err instanceof LiveMembersError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  } finally {
    await cluster.close();
  }
}

/** Any ISO instant, as epoch ms. */
function parseInstant(iso: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new UsageError(`not a date-time: ${iso}`);
  return t;
}

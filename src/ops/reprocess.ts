import { Config } from '../config';
import { ProcessorDefinition } from '../processors/runtime/types';
import { decodeVersion, encodeRewindMetadata, latestVersion, OutputVersion } from '../processors/runtime/restore';
import { buildTopology, ProcessorSpec, SinkSpec, Topology } from '../../topology/topology';
import { PROCESSORS } from '../../topology/processors';
import { Cluster, GroupState, LiveMembersError, OffsetToCommit } from './cluster';

/**
 * `optflow reprocess` and `optflow reset`: rewinding consumer groups, planned from the declared
 * topology and carried out with one offset commit per group.
 *
 * A reprocess from day D (UTC, the lake's `dt`) gives every affected processor group — the chosen
 * processors and every processor downstream of them — a new output version (restore.ts): the next
 * generation, and D's first instant as the first event time it emits. In topological order, each
 * input partition is rewound to:
 *  - an output of another affected processor: its current end. That processor is stopped and rewound
 *    too, so the new generation of its output starts exactly there; what lies before is the old one.
 *  - any other input: the first offset whose record timestamp is at or after D's start minus the
 *    processor's state horizon (record timestamps are the time a record was produced, never before
 *    its event time, so no record of D is skipped; a backfilled topic rewinds further back, and the
 *    records before D only rebuild state: nothing before D is emitted again).
 * The sinks need no rewind: the new generation arrives after their position, and a lake partition
 * that receives a newer generation replaces the older one (src/sinks/parquet). They must be stopped all
 * the same, like the processors: every affected group is checked for live members first, and the
 * reprocess refuses, changing nothing, if any has one.
 */

export interface GroupRewind {
  kind: 'processor' | 'sink';
  /** Processor name, or the sink's topic. */
  name: string;
  group: string;
  /** Version before and after (processors). */
  from?: OutputVersion;
  to?: OutputVersion;
  offsets: (OffsetToCommit & { was: bigint | undefined; why: string })[];
  /** What happens to the group, in words (sinks). */
  note?: string;
}

export interface ReprocessPlan {
  fromDay: string;
  toDay?: string;
  fromNs: bigint;
  groups: GroupRewind[];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function dayStartMs(day: string): number {
  if (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new Error(`not a date (YYYY-MM-DD): ${day}`);
  return Date.parse(`${day}T00:00:00Z`);
}

/**
 * The chosen processors, the processors upstream of them (whose outputs they read), and every processor
 * downstream of any of these; in topological order. Upstream processors are reprocessed too because a
 * processor's output topic holds every generation written so far, one after the other, and the one
 * offset known to start exactly one generation is the end of the topic when its writer is rewound:
 * features reads enriched trades from there, so greeks must write them again (it is the fast step).
 */
export function affectedProcessors(topology: Topology, chosen: string[]): ProcessorSpec[] {
  const unknown = chosen.filter((c) => !topology.processors.some((p) => p.name === c));
  if (unknown.length > 0) throw new Error(`unknown processor(s) ${unknown.join(', ')}; one of: ${topology.processors.map((p) => p.name).join(', ')}`);
  const affected = new Set(chosen);
  const reads = (reader: ProcessorSpec, writer: ProcessorSpec) => reader.inputs.some((i) => writer.outputs.includes(i));
  const close = (joins: (p: ProcessorSpec, member: ProcessorSpec) => boolean) => {
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of topology.processors) {
        if (affected.has(p.name) || !topology.processors.some((q) => affected.has(q.name) && joins(p, q))) continue;
        affected.add(p.name);
        grew = true;
      }
    }
  };
  close((p, member) => reads(member, p)); // upstream: p writes what a member reads
  close((p, member) => reads(p, member)); // downstream: p reads what a member writes
  const order: ProcessorSpec[] = [];
  const pending = topology.processors.filter((p) => affected.has(p.name));
  while (pending.length > 0) {
    const next = pending.findIndex((p) => !pending.some((q) => q !== p && q.outputs.some((o) => p.inputs.includes(o))));
    if (next < 0) throw new Error(`the topology has a cycle among ${pending.map((p) => p.name).join(', ')}`);
    order.push(...pending.splice(next, 1));
  }
  return order;
}

/** The sinks of the topics the processors write. */
export function affectedSinks(topology: Topology, processors: ProcessorSpec[]): SinkSpec[] {
  return topology.sinks.filter((s) => processors.some((p) => p.outputs.includes(s.topic)));
}

function definitionOf(name: string): ProcessorDefinition {
  return PROCESSORS.find((d) => d.name === name)!;
}

/** Live members of the groups, as one message per group that has any (empty: none). */
export function liveMembers(states: GroupState[]): string[] {
  return states
    .filter((g) => g.members.length > 0)
    .map((g) => `${g.groupId}: ${g.members.length} live member(s) (${g.members.map((m) => `${m.clientId}@${m.host}`).join(', ')})`);
}

export class RefusedError extends Error {}

export async function planReprocess(cluster: Cluster, config: Config, options: { fromDay: string; toDay?: string; processors?: string[] }): Promise<ReprocessPlan> {
  const topology = buildTopology(config);
  const fromMs = dayStartMs(options.fromDay);
  if (options.toDay !== undefined && dayStartMs(options.toDay) < fromMs) throw new Error(`--to ${options.toDay} is before --from ${options.fromDay}`);
  const fromNs = BigInt(fromMs) * 1_000_000n;
  const processors = affectedProcessors(topology, options.processors ?? topology.processors.map((p) => p.name));
  const sinks = affectedSinks(topology, processors);
  const live = liveMembers(await cluster.groups([...processors.map((p) => p.consumerGroup), ...sinks.map((s) => s.consumerGroup)]));
  if (live.length > 0) {
    throw new RefusedError(`refusing to reprocess: stop every member of the affected groups first (nothing was changed)\n  ${live.join('\n  ')}`);
  }
  const rewritten = new Set(processors.flatMap((p) => p.outputs));
  const groups: GroupRewind[] = [];
  for (const p of processors) {
    const committed = await cluster.committed(p.consumerGroup, p.inputs);
    const current = latestVersion(committed.map((c) => decodeVersion(c.metadata)));
    const next: OutputVersion = { generation: current.generation + 1, fromNs };
    const metadata = encodeRewindMetadata(next);
    const horizonMs = Number(definitionOf(p.name).stateHorizonNs(config) / 1_000_000n);
    const offsets: GroupRewind['offsets'] = [];
    for (const topic of p.inputs) {
      const was = new Map(committed.filter((c) => c.topic === topic).map((c) => [c.partition, c.offset]));
      if (rewritten.has(topic)) {
        for (const r of await cluster.ranges(topic)) offsets.push({ topic, partition: r.partition, offset: r.high, metadata, was: was.get(r.partition), why: 'end: the new generation starts here' });
      } else {
        const at = new Date(fromMs - horizonMs).toISOString();
        for (const [partition, offset] of await cluster.offsetsAt(topic, fromMs - horizonMs)) {
          offsets.push({ topic, partition, offset, metadata, was: was.get(partition), why: `first record timestamp >= ${at}` });
        }
      }
    }
    groups.push({ kind: 'processor', name: p.name, group: p.consumerGroup, from: current, to: next, offsets });
  }
  for (const s of sinks) {
    groups.push({
      kind: 'sink',
      name: s.topic,
      group: s.consumerGroup,
      offsets: [],
      note: `stays where it is: the new generation follows on ${s.topic}, and each lake partition from dt=${options.fromDay} is replaced when its first new file is published`,
    });
  }
  return { fromDay: options.fromDay, toDay: options.toDay, fromNs, groups };
}

/**
 * Commits each group's rewind, in the plan's (topological) order. Each group is one commit, checked
 * for live members as it is made; a failure stops there, and re-running the same command completes it
 * (its offsets are computed again; generations only grow).
 */
export async function executeRewinds(cluster: Cluster, groups: GroupRewind[]): Promise<void> {
  for (const g of groups) {
    if (g.offsets.length === 0) continue;
    const live = liveMembers(await cluster.groups([g.group]));
    if (live.length > 0) throw new LiveMembersError(`refusing: ${live.join('; ')}`);
    await cluster.commitToEmptyGroup(g.group, g.offsets);
  }
}

/** A plan as text (what `--dry-run` prints, and what a reprocess did). */
export function describePlan(plan: ReprocessPlan, done: boolean): string {
  const lines: string[] = [];
  const range = plan.toDay && plan.toDay !== plan.fromDay ? `${plan.fromDay} to ${plan.toDay}` : plan.fromDay;
  lines.push(`${done ? 'reprocessed' : 'plan: reprocess'} ${range} (from ${new Date(Number(plan.fromNs / 1_000_000n)).toISOString()}, UTC days as in the lake's dt)`);
  for (const g of plan.groups) {
    if (g.kind === 'sink') {
      lines.push(`  sink ${g.group}: ${g.note}`);
      continue;
    }
    lines.push(`  processor ${g.name} (${g.group}): generation ${g.from!.generation} -> ${g.to!.generation}, ${done ? 'rewound' : 'rewind'}:`);
    const byTopic = new Map<string, typeof g.offsets>();
    for (const o of g.offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    for (const [topic, offsets] of byTopic) {
      const parts = offsets.sort((a, b) => a.partition - b.partition).map((o) => `p${o.partition} ${o.was ?? '-'}->${o.offset}`);
      lines.push(`    ${topic} (${offsets[0].why}): ${parts.join(' ')}`);
    }
  }
  lines.push(
    done
      ? 'next: start the processors and sinks (optflow run-all, or optflow process ... and optflow sink parquet ...); they write the new generation'
      : 'dry run: nothing was changed',
  );
  if (plan.toDay !== undefined) lines.push(`note: a consumer group reads on to the end of its log, so every day after ${plan.toDay} is recomputed too (new generation)`);
  return lines.join('\n');
}

/** `optflow reset`: one group to its earliest offsets or to a record timestamp; the output version is kept. */
export async function planReset(cluster: Cluster, config: Config, groupArg: string, target: { earliest: true } | { ms: number }): Promise<GroupRewind> {
  const topology = buildTopology(config);
  const processor = topology.processors.find((p) => p.name === groupArg || p.consumerGroup === groupArg);
  const sink = topology.sinks.find((s) => s.consumerGroup === groupArg || `sink:${s.topic}` === groupArg);
  const group = processor?.consumerGroup ?? sink?.consumerGroup ?? groupArg;
  const committed = await cluster.committed(group, processor?.inputs ?? (sink ? [sink.topic] : undefined));
  const topics = processor?.inputs ?? (sink ? [sink.topic] : [...new Set(committed.map((c) => c.topic))]);
  if (topics.length === 0) throw new Error(`group ${group} has no committed offsets and is not a processor or sink of the topology`);
  const version = latestVersion(committed.map((c) => decodeVersion(c.metadata)));
  // A processor keeps its version (its outputs are written again with the same generation); a sink's
  // seal is dropped: it rebuilds from the target.
  const metadata = processor && version.generation > 0 ? encodeRewindMetadata(version) : null;
  const offsets: GroupRewind['offsets'] = [];
  for (const topic of topics) {
    const was = new Map(committed.filter((c) => c.topic === topic).map((c) => [c.partition, c.offset]));
    if ('earliest' in target) {
      for (const r of await cluster.ranges(topic)) offsets.push({ topic, partition: r.partition, offset: r.low, metadata, was: was.get(r.partition), why: 'earliest' });
    } else {
      for (const [partition, offset] of await cluster.offsetsAt(topic, target.ms)) {
        offsets.push({ topic, partition, offset, metadata, was: was.get(partition), why: `first record timestamp >= ${new Date(target.ms).toISOString()}` });
      }
    }
  }
  const live = liveMembers(await cluster.groups([group]));
  if (live.length > 0) throw new RefusedError(`refusing to reset: stop the group's members first (nothing was changed)\n  ${live.join('\n  ')}`);
  return { kind: processor ? 'processor' : 'sink', name: processor?.name ?? groupArg, group, from: version, to: version, offsets };
}

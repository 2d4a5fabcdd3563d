import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Config } from '../config';
import { metricsPort } from '../kafka/metrics';
import { decodeMetadata } from '../processors/runtime/restore';
import { NO_WATERMARK } from '../processors/runtime/watermarks';
import { loadState, stateTopics } from '../producers/flatfile/ingest/state';
import { Topology } from '../../topology/topology';
import { Cluster, GroupState, PartitionRange } from './cluster';
import { RecordDecoder } from './decode';
import { TopicReader } from './reader';

/**
 * One snapshot of the whole topology, read from the cluster itself (groups, committed offsets and
 * their metadata, topic ends, the producers' checkpoint topic), so it sees members on any machine.
 * Rates need two snapshots: `previous` is the one taken a few seconds before.
 */

export interface PartitionLag {
  partition: number;
  /** Next offset the group will process (for processors: the processed position, not the restore point). */
  position: bigint | null;
  high: bigint;
  lag: bigint;
}

export interface InputStatus {
  topic: string;
  lag: bigint;
  partitions: PartitionLag[];
}

export interface WatermarkStatus {
  /** The group's committed watermark: the lowest task watermark (ns). */
  ns: bigint;
  iso: string;
  /** Wall clock minus the watermark. */
  lagWallSeconds: number;
  /** The producers' last event time minus the watermark (the input's head, when the flatfile producer wrote it). */
  lagHeadSeconds: number | null;
}

export interface GreeksFlags {
  /** Trades read from the end of the enriched topic for the shares below. */
  sampled: number;
  noIvShare: number;
  unknownAggressorShare: number;
}

export interface GroupStatus {
  kind: 'processor' | 'sink';
  name: string;
  groupId: string;
  state: string;
  members: { clientId: string; host: string; partitions: Record<string, number[]> }[];
  inputs: InputStatus[];
  watermark: WatermarkStatus | null;
  /** Records per second, from the previous snapshot; null on the first. */
  inPerSecond: number | null;
  outPerSecond: number | null;
  late: number | null;
  dlq: number | null;
  flags: GreeksFlags | null;
  /** Where the group's role serves Prometheus metrics (its first member on each host). */
  metrics: string | null;
  /** Total offsets of the outputs (records and transaction markers), for the out rate. */
  outputOffsets: bigint;
  processed: bigint;
}

export interface ProducerStatus {
  files: { done: number; in_progress: number; failed: number };
  records: number;
  deadLetters: number;
  lastEventTime: string | null;
  lastEventTimeNs: bigint | null;
  updatedAt: string | null;
}

export interface StatusSnapshot {
  at: string;
  atMs: number;
  brokers: string[];
  groups: GroupStatus[];
  producers: ProducerStatus;
}

interface GroupSpec {
  kind: 'processor' | 'sink';
  name: string;
  groupId: string;
  inputs: string[];
  outputs: string[];
}

const FLAG_SAMPLE_PER_PARTITION = 1000n;
const COUNT_LIMIT = 200_000n;
const MARKER_TAIL = 16n;

export class StatusReader {
  private readonly decoder: RecordDecoder;

  constructor(
    private readonly cluster: Cluster,
    private readonly config: Config,
    private readonly topology: Topology,
    registry: SchemaRegistry,
  ) {
    this.decoder = new RecordDecoder(registry);
  }

  async snapshot(previous?: StatusSnapshot): Promise<StatusSnapshot> {
    const atMs = Date.now();
    const ranges = new RangeCache(this.cluster);
    const producers = await this.producers();
    const specs: GroupSpec[] = [
      ...this.topology.processors.map((p) => ({ kind: 'processor' as const, name: p.name, groupId: p.consumerGroup, inputs: p.inputs, outputs: p.outputs })),
      ...this.topology.sinks.map((s) => ({ kind: 'sink' as const, name: s.name, groupId: s.consumerGroup, inputs: [s.topic], outputs: [] })),
    ];
    const states = new Map((await this.cluster.groups(specs.map((s) => s.groupId))).map((g) => [g.groupId, g]));
    const groups = await Promise.all(
      specs.map((spec) => this.group(spec, states.get(spec.groupId), ranges, { atMs, head: producers.lastEventTimeNs, previous })),
    );
    return { at: new Date(atMs).toISOString(), atMs, brokers: this.config.kafka.brokers, groups, producers };
  }

  private async group(spec: GroupSpec, state: GroupState | undefined, ranges: RangeCache, at: { atMs: number; head: bigint | null; previous?: StatusSnapshot }): Promise<GroupStatus> {
    const { inputs, watermarks } = await this.inputs(spec, ranges);
    const processed = inputs.flatMap((i) => i.partitions).reduce((s, p) => s + (p.position ?? 0n), 0n);
    const dataOutputs = spec.outputs.filter((o) => !o.endsWith('.late') && !o.endsWith('.dlq'));
    const outputOffsets = await sumHigh(ranges, dataOutputs);
    const before = at.previous?.groups.find((g) => g.groupId === spec.groupId);
    const seconds = at.previous ? (at.atMs - at.previous.atMs) / 1000 : 0;
    const rate = (now: bigint, then: bigint | undefined) => (before && seconds > 0 && then !== undefined ? Number(now - then) / seconds : null);
    const isProcessor = spec.kind === 'processor';
    return {
      kind: spec.kind,
      name: spec.name,
      groupId: spec.groupId,
      state: state?.state ?? 'Unknown',
      members: (state?.members ?? []).map((m) => ({ clientId: m.clientId, host: m.host, partitions: m.assignment })),
      inputs,
      watermark: watermarkStatus(watermarks, at.atMs, at.head),
      inPerSecond: rate(processed, before?.processed),
      outPerSecond: isProcessor ? rate(outputOffsets, before?.outputOffsets) : null,
      late: await this.count(ranges, spec.outputs.find((o) => o.endsWith('.late'))),
      dlq: await this.count(ranges, spec.outputs.find((o) => o.endsWith('.dlq'))),
      flags: spec.name === 'greeks' ? await this.greeksFlags(ranges, dataOutputs[0]) : null,
      metrics: this.metricsUrl(spec.kind === 'processor' ? `processor:${spec.name}` : `sink:${spec.name.replace(/^parquet:/, '')}`),
      outputOffsets,
      processed,
    };
  }

  /** Lag per input partition from the committed offsets; for processors, the position and watermark in their metadata. */
  private async inputs(spec: GroupSpec, ranges: RangeCache): Promise<{ inputs: InputStatus[]; watermarks: bigint[] }> {
    const committed = await this.cluster.committed(spec.groupId, spec.inputs);
    const watermarks: bigint[] = [];
    const inputs: InputStatus[] = [];
    for (const topic of spec.inputs) {
      const partitions: PartitionLag[] = [];
      for (const r of await ranges.get(topic)) {
        const c = committed.find((x) => x.topic === topic && x.partition === r.partition);
        const meta = spec.kind === 'processor' ? decodeMetadata(c?.metadata) : undefined;
        if (meta && meta.watermark !== NO_WATERMARK) watermarks.push(meta.watermark);
        const position = meta?.position ?? c?.offset ?? null;
        partitions.push({ partition: r.partition, position, high: r.high, lag: r.high - (position ?? r.low) });
      }
      await this.settleMarkers(topic, partitions);
      inputs.push({ topic, lag: partitions.reduce((s, p) => s + p.lag, 0n), partitions });
    }
    return { inputs, watermarks };
  }

  /**
   * Offsets count transaction markers too: a group that processed everything still sits one offset
   * (the commit marker) behind the end of each transactional partition. Short tails are read, so that
   * the lag shown is in data records and reads 0 when the group is caught up.
   */
  private async settleMarkers(topic: string, partitions: PartitionLag[]): Promise<void> {
    const short = partitions.filter((p) => p.position !== null && p.lag > 0n && p.lag <= MARKER_TAIL);
    if (short.length === 0) return;
    const records = new Map(short.map((p) => [p.partition, 0n]));
    const spec = { topic, starts: new Map(short.map((p) => [p.partition, p.position ?? 0n])), ends: new Map(short.map((p) => [p.partition, p.high])) };
    await new TopicReader(this.cluster.config).read(spec, (r) => {
      // Watermark markers (no value) are not data a group is behind on.
      if (r.value && r.value.length > 0) records.set(r.partition, (records.get(r.partition) ?? 0n) + 1n);
      return true;
    });
    for (const p of short) p.lag = records.get(p.partition) ?? 0n;
  }

  private metricsUrl(role: string): string | null {
    const m = this.config.metrics;
    return m.base_port ? `http://${m.host}:${metricsPort(this.config, role)}/metrics` : null;
  }

  /** Records (not transaction markers) in a late or dead-letter topic: read, so exact up to a bound. */
  private async count(ranges: RangeCache, topic: string | undefined): Promise<number | null> {
    if (!topic) return null;
    const rs = await ranges.get(topic);
    const offsets = rs.reduce((s, r) => s + (r.high - r.low), 0n);
    if (offsets === 0n) return 0;
    if (offsets > COUNT_LIMIT) return Number(offsets);
    let n = 0;
    await new TopicReader(this.cluster.config).read(rangeSpec(topic, rs), (r) => {
      if (r.value && r.value.length > 0) n += 1;
      return true;
    });
    return n;
  }

  /** Shares of the last trades of the enriched topic with no IV and with an UNKNOWN aggressor side. */
  private async greeksFlags(ranges: RangeCache, topic: string | undefined): Promise<GreeksFlags | null> {
    if (!topic) return null;
    const rs = (await ranges.get(topic)).map((r) => ({ ...r, low: r.high - FLAG_SAMPLE_PER_PARTITION > r.low ? r.high - FLAG_SAMPLE_PER_PARTITION : r.low }));
    let sampled = 0;
    let noIv = 0;
    let unknown = 0;
    await new TopicReader(this.cluster.config).read(rangeSpec(topic, rs), async (raw) => {
      const value = (await this.decoder.decode(raw)).value as { iv?: unknown; aggressor_side?: unknown } | null;
      if (!value || typeof value !== 'object') return true;
      sampled += 1;
      if (value.iv === null) noIv += 1;
      if (value.aggressor_side === 'UNKNOWN' || value.aggressor_side === null) unknown += 1;
      return true;
    });
    return { sampled, noIvShare: sampled ? noIv / sampled : 0, unknownAggressorShare: sampled ? unknown / sampled : 0 };
  }

  private async producers(): Promise<ProducerStatus> {
    const topics = stateTopics(this.config);
    const empty: ProducerStatus = { files: { done: 0, in_progress: 0, failed: 0 }, records: 0, deadLetters: 0, lastEventTime: null, lastEventTimeNs: null, updatedAt: null };
    if (!(await this.cluster.topicExists(topics.progress))) return empty;
    const { files } = await loadState(this.cluster.config, topics);
    const out = empty;
    let updated = 0;
    for (const c of files.values()) {
      out.files[c.status] += 1;
      out.records += c.producedRecords;
      out.deadLetters += c.deadLetters;
      if (c.maxEventTimeNs && (out.lastEventTimeNs === null || BigInt(c.maxEventTimeNs) > out.lastEventTimeNs)) out.lastEventTimeNs = BigInt(c.maxEventTimeNs);
      updated = Math.max(updated, c.updatedAtMs);
    }
    out.lastEventTime = out.lastEventTimeNs === null ? null : nsIso(out.lastEventTimeNs);
    out.updatedAt = updated ? new Date(updated).toISOString() : null;
    return out;
  }
}

function rangeSpec(topic: string, rs: PartitionRange[]) {
  return { topic, starts: new Map(rs.map((r) => [r.partition, r.low])), ends: new Map(rs.map((r) => [r.partition, r.high])) };
}

async function sumHigh(ranges: RangeCache, topics: string[]): Promise<bigint> {
  let total = 0n;
  for (const t of topics) for (const r of await ranges.get(t)) total += r.high;
  return total;
}

function watermarkStatus(watermarks: bigint[], atMs: number, head: bigint | null): WatermarkStatus | null {
  if (watermarks.length === 0) return null;
  const ns = watermarks.reduce((a, b) => (b < a ? b : a));
  return {
    ns,
    iso: nsIso(ns),
    lagWallSeconds: (atMs * 1e6 - Number(ns)) / 1e9,
    lagHeadSeconds: head === null ? null : Math.max(0, Number(head - ns) / 1e9),
  };
}

export function nsIso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

/** Topic ends, fetched once per snapshot. */
class RangeCache {
  private readonly cache = new Map<string, Promise<PartitionRange[]>>();

  constructor(private readonly cluster: Cluster) {}

  get(topic: string): Promise<PartitionRange[]> {
    let r = this.cache.get(topic);
    if (!r) {
      r = this.cluster.ranges(topic).catch(() => []);
      this.cache.set(topic, r);
    }
    return r;
  }
}

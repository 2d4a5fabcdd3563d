import { Config } from '../config';
import { Admin, createAdmin } from '../kafka/client';
import { commitToEmptyGroup } from '../kafka/consumer';
import { partitionOf } from '../kafka/partitioner';

/**
 * Every read of cluster state that `status` and `inspect` need, in one place and as plain data, so
 * that the Kafka client underneath can be swapped without touching the views.
 */

export interface PartitionRange {
  partition: number;
  /** First offset still in the log. */
  low: bigint;
  /** Next offset to be written (the high watermark). */
  high: bigint;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: bigint | undefined;
  metadata: string | null;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  /** topic -> partitions owned. */
  assignment: Record<string, number[]>;
}

export interface GroupState {
  groupId: string;
  state: string;
  members: GroupMember[];
}

export class Cluster {
  private constructor(
    readonly config: Pick<Config, 'kafka'>,
    private readonly admin: Admin,
  ) {}

  static async connect(config: Pick<Config, 'kafka'>, role: string): Promise<Cluster> {
    const admin = createAdmin(config, role);
    await admin.connect();
    return new Cluster(config, admin);
  }

  close(): Promise<void> {
    return this.admin.disconnect();
  }

  async topicExists(topic: string): Promise<boolean> {
    return (await this.admin.listTopics()).includes(topic);
  }

  async ranges(topic: string): Promise<PartitionRange[]> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return offsets
      .map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** Per partition, the first offset with a timestamp at or after `ms` (the high watermark if none). */
  async offsetsAt(topic: string, ms: number): Promise<Map<number, bigint>> {
    const found = await this.admin.fetchTopicOffsetsByTimestamp(topic, ms);
    const ranges = await this.ranges(topic);
    const high = new Map(ranges.map((r) => [r.partition, r.high]));
    return new Map(found.map((o) => [o.partition, BigInt(o.offset) < 0n ? (high.get(o.partition) ?? 0n) : BigInt(o.offset)]));
  }

  /** The partition a key lands on: the same murmur2 partitioner the producers use. */
  async partitionFor(topic: string, key: string): Promise<number> {
    const metadata = await this.admin.fetchTopicMetadata({ topics: [topic] });
    return partitionOf(key, metadata[0].partitions.length);
  }

  async groups(groupIds: string[]): Promise<GroupState[]> {
    if (groupIds.length === 0) return [];
    const { groups } = await this.admin.describeGroups(groupIds);
    return groups.map((g) => ({
      groupId: g.groupId,
      state: GROUP_STATES[g.state] ?? 'Unknown',
      members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignment: byTopic(m.assignment?.topicPartitions ?? []) })),
    }));
  }

  /** Committed offsets of a group for the topics (all topics it committed when not given). */
  async committed(groupId: string, topics?: string[]): Promise<CommittedOffset[]> {
    const result = await this.admin.fetchOffsets(topics ? { groupId, topics } : { groupId });
    return result.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.topic,
        partition: p.partition,
        offset: BigInt(p.offset) >= 0n ? BigInt(p.offset) : undefined,
        metadata: p.metadata,
      })),
    );
  }

  /**
   * Commits a rewind (offsets with metadata) for a group with no live member, in ONE offset commit
   * (the coordinator applies it as one write: a reader never sees half of a rewind). The coordinator
   * refuses it, committing nothing, if a member has joined since the caller's check.
   */
  async commitToEmptyGroup(groupId: string, offsets: OffsetToCommit[]): Promise<void> {
    if (!(await commitToEmptyGroup(this.config, 'rewind', groupId, offsets))) {
      throw new LiveMembersError(`group ${groupId} gained a live member while rewinding; nothing was committed`);
    }
  }
}

/** An offset to commit for a group, with its metadata (null: none). */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: bigint;
  metadata: string | null;
}

export class LiveMembersError extends Error {}

/** Kafka's names of the client's ConsumerGroupStates values. */
const GROUP_STATES = ['Unknown', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty'];

function byTopic(partitions: readonly { topic: string; partition: number }[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const p of partitions) (out[p.topic] ??= []).push(p.partition);
  for (const list of Object.values(out)) list.sort((a, b) => a - b);
  return out;
}

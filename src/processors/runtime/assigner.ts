import { AssignerProtocol, PartitionAssigner } from 'kafkajs';

/**
 * Co-partitioned assignment: partition p of every subscribed topic goes to the same member, so a task
 * (partition p) sees a key's records from all inputs. Partition numbers are spread round-robin over the
 * members sorted by id, which keeps the assignment deterministic for a given membership.
 */
export const CO_PARTITIONED = 'optflow-copartitioned';

export function assignCoPartitioned(members: string[], topicPartitions: Map<string, number>): Map<string, Map<string, number[]>> {
  const sorted = [...members].sort();
  const maxPartitions = Math.max(0, ...topicPartitions.values());
  const plan = new Map<string, Map<string, number[]>>(sorted.map((m) => [m, new Map()]));
  for (let p = 0; p < maxPartitions; p += 1) {
    const owner = plan.get(sorted[p % sorted.length])!;
    for (const [topic, count] of topicPartitions) {
      if (p >= count) continue;
      owner.set(topic, [...(owner.get(topic) ?? []), p]);
    }
  }
  return plan;
}

export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED,
  version: 1,
  async assign({ members, topics }) {
    const topicPartitions = new Map<string, number>();
    for (const topic of topics) topicPartitions.set(topic, cluster.findTopicPartitionMetadata(topic).length);
    const plan = assignCoPartitioned(
      members.map((m) => m.memberId),
      topicPartitions,
    );
    return [...plan].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: Object.fromEntries(assignment),
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return { name: CO_PARTITIONED, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
  },
});

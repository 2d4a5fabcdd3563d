import { GroupMember } from '../../src/kafka/member';
import type { ConsumedRecord, TopicPartitionOffset } from '../../src/kafka/consumer';
import { connectTestKafka, createTopics, TestKafka, uniqueName } from './helpers';
import { sendRaw, until } from './kafka-io';

/**
 * The member's stale-batch rule on the real broker. The member keeps one consume in flight while
 * its user processes a batch, so every reposition (a task rebuilt after an aborted transaction)
 * happens with a request already out that was aimed past the new position. A first version of the
 * rule re-seeked while that request was in flight and lost the records between (caught then only by
 * the runtime's kill -9 tests). Here the user rewinds a partition every few batches and checks that
 * each partition's records arrive gap-free from wherever it was last sent.
 */

const PER_PARTITION = 10_000;
const REWINDS = 40;

let t: TestKafka;
beforeAll(async () => {
  t = await connectTestKafka();
});
afterAll(async () => t.close());

test('a partition rewound while a batch is in flight resumes exactly at the rewind point, never past it', async () => {
  const topic = uniqueName('member-rewind');
  await createTopics(t.admin, [topic], 2);
  for (const partition of [0, 1]) {
    const messages = Array.from({ length: PER_PARTITION }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`${partition}:${i}`) }));
    await sendRaw(t.kafka, topic, messages, partition);
  }
  const member = new GroupMember(t.config, { group: uniqueName('member-rewind-group'), topics: [topic], clientSuffix: 'test-rewind', maxBatch: 200 });
  const expected = new Map<number, bigint>();
  const faults: string[] = [];
  let batches = 0;
  let rewinds = 0;
  let firstBatchMs = 0;
  const fetched = async (batch: Iterable<ConsumedRecord>): Promise<void> => {
    const records = [...batch];
    if (records.length > 0 && firstBatchMs === 0) firstBatchMs = Date.now();
    for (const r of records) {
      const want = expected.get(r.partition)!;
      if (r.offset !== want) faults.push(`partition ${r.partition}: got offset ${r.offset}, expected ${want}`);
      expected.set(r.partition, r.offset + 1n);
    }
    if (records.length === 0 || ++batches % 3 !== 0 || rewinds >= REWINDS) return;
    const partition = records[records.length - 1].partition;
    const to = expected.get(partition)! > 150n ? expected.get(partition)! - 150n : 0n;
    expected.set(partition, to);
    rewinds++;
    member.reposition([{ topic, partition, offset: to }]);
  };
  try {
    await member.start({
      assigned: async (partitions): Promise<TopicPartitionOffset[]> => {
        for (const p of partitions) expected.set(p.partition, 0n);
        return partitions.map((p) => ({ ...p, offset: 0n }));
      },
      revoked: async () => undefined,
      fetched,
      tick: async () => undefined,
    });
    const done = (): boolean => faults.length > 0 || (rewinds === REWINDS && [0, 1].every((p) => expected.get(p) === BigInt(PER_PARTITION)));
    await until('both partitions read to the end after every rewind', done, 120_000, () => `rewinds ${rewinds}, positions ${[...expected].join(' ')}, faults ${faults.length}`);
    expect(faults.slice(0, 5)).toEqual([]);
    expect(rewinds).toBe(REWINDS);
    // run-all's quiet check: the time of the last batch that carried records, not moved by empty ones
    const quietSince = member.lastRecordsMs;
    expect(quietSince).toBeGreaterThanOrEqual(firstBatchMs);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(member.lastRecordsMs).toBe(quietSince);
  } finally {
    await member.stop();
    await t.admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  }
}, 180_000);

test('partitions held back and released over and over arrive complete, in order, with nothing while held beyond the batch in flight', async () => {
  const topics = [uniqueName('member-hold-a'), uniqueName('member-hold-b')];
  for (const topic of topics) {
    await createTopics(t.admin, [topic], 2);
    for (const partition of [0, 1]) {
      const messages = Array.from({ length: PER_PARTITION }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`${partition}:${i}`) }));
      await sendRaw(t.kafka, topic, messages, partition);
    }
  }
  const key = (topic: string, partition: number): string => `${topic}|${partition}`;
  const member = new GroupMember(t.config, { group: uniqueName('member-hold-group'), topics, clientSuffix: 'test-hold', maxBatch: 200 });
  const expected = new Map<string, bigint>();
  const heldSinceBatch = new Map<string, number>();
  const faults: string[] = [];
  let batches = 0;
  let holds = 0;
  let rewinds = 0;
  const fetched = async (batch: Iterable<ConsumedRecord>): Promise<void> => {
    const records = [...batch];
    batches++;
    for (const r of records) {
      const k = key(r.topic, r.partition);
      const want = expected.get(k)!;
      if (r.offset !== want) faults.push(`${k}: got offset ${r.offset}, expected ${want}`);
      expected.set(k, r.offset + 1n);
      // The batch in flight when the hold was placed may still carry the partition; later ones may not.
      const since = heldSinceBatch.get(k);
      if (since !== undefined && batches > since + 2) faults.push(`${k}: record ${r.offset} arrived ${batches - since} batches into a hold`);
    }
    // Every batch: hold one partition that is not held (if fewer than three are), release the oldest hold after 4 batches, rewind now and then.
    const all = topics.flatMap((topic) => [0, 1].map((partition) => ({ topic, partition })));
    for (const p of all) {
      const since = heldSinceBatch.get(key(p.topic, p.partition));
      if (since !== undefined && batches - since >= 4) {
        member.release([p]);
        heldSinceBatch.delete(key(p.topic, p.partition));
      }
    }
    const candidates = all.filter((p) => !heldSinceBatch.has(key(p.topic, p.partition)) && expected.get(key(p.topic, p.partition))! < BigInt(PER_PARTITION));
    if (heldSinceBatch.size < 3 && candidates.length > 1) {
      const p = candidates[batches % candidates.length];
      member.hold([p]);
      expect(member.isHeld(p.topic, p.partition)).toBe(true);
      heldSinceBatch.set(key(p.topic, p.partition), batches);
      holds++;
    }
    if (batches % 10 === 0 && records.length > 0 && rewinds < 10) {
      const last = records[records.length - 1];
      const k = key(last.topic, last.partition);
      const to = expected.get(k)! > 100n ? expected.get(k)! - 100n : 0n;
      expected.set(k, to);
      rewinds++;
      member.reposition([{ topic: last.topic, partition: last.partition, offset: to }]);
    }
  };
  try {
    await member.start({
      assigned: async (partitions): Promise<TopicPartitionOffset[]> => {
        for (const p of partitions) expected.set(key(p.topic, p.partition), 0n);
        return partitions.map((p) => ({ ...p, offset: 0n }));
      },
      revoked: async () => undefined,
      fetched,
      tick: async () => {
        // Once everything else is read, let the held partitions go.
        if ([...expected].every(([k, at]) => heldSinceBatch.has(k) || at === BigInt(PER_PARTITION))) {
          for (const k of heldSinceBatch.keys()) {
            const [topic, partition] = k.split('|');
            member.release([{ topic, partition: Number(partition) }]);
          }
          heldSinceBatch.clear();
        }
      },
    });
    const done = (): boolean => faults.length > 0 || (expected.size === 4 && [...expected.values()].every((at) => at === BigInt(PER_PARTITION)));
    await until('every partition read to the end through holds and releases', done, 150_000, () => `holds ${holds}, rewinds ${rewinds}, positions ${[...expected].join(' ')}, faults ${faults.length}`);
    expect(faults.slice(0, 5)).toEqual([]);
    expect(holds).toBeGreaterThan(50);
    expect(rewinds).toBeGreaterThanOrEqual(5);
  } finally {
    await member.stop();
    await t.admin.deleteTopics({ topics }).catch(() => undefined);
  }
}, 200_000);


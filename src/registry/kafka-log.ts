import { Kafka, Producer } from 'kafkajs';
import { createProducer } from '../kafka/client';
import { createTopicsWithLeaders, type Durability, withDurability } from '../kafka/topics';
import { RegistryLog } from './server';
import { RegistryEvent } from './state';

export const SCHEMAS_TOPIC = '_schemas';

/**
 * Registry events in a compacted single-partition topic, keyed like Confluent's (`keytype`,
 * `subject`, `version`) so compaction keeps the latest value of each key and replay rebuilds ids.
 */
export class KafkaRegistryLog implements RegistryLog {
  private producer?: Producer;

  constructor(
    private readonly kafka: Kafka,
    private readonly durability: Durability = { replicationFactor: -1, minInsyncReplicas: -1 },
  ) {}

  static keyOf(event: RegistryEvent): string {
    switch (event.type) {
      case 'schema':
        return JSON.stringify({ keytype: 'SCHEMA', subject: event.subject, version: event.version, magic: 1 });
      case 'config':
        return JSON.stringify({ keytype: 'CONFIG', subject: event.subject, magic: 0 });
      case 'delete-subject':
        return JSON.stringify({ keytype: 'DELETE_SUBJECT', subject: event.subject, magic: 0 });
    }
  }

  async ensureTopic(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      if (!topics.includes(SCHEMAS_TOPIC)) {
        await createTopicsWithLeaders(admin, [
          withDurability({ topic: SCHEMAS_TOPIC, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }, this.durability),
        ]);
      }
    } finally {
      await admin.disconnect();
    }
  }

  /** Reads the whole log once, in order. */
  async replay(apply: (event: RegistryEvent) => void): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(SCHEMAS_TOPIC);
    await admin.disconnect();
    const end = BigInt(offsets[0]?.high ?? '0');
    const start = BigInt(offsets[0]?.low ?? '0');
    if (end <= start) return 0;
    const groupId = `_schemas-replay-${process.pid}-${Date.now()}`;
    const consumer = this.kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic: SCHEMAS_TOPIC, fromBeginning: true });
    let applied = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            if (message.value) {
              apply(JSON.parse(message.value.toString('utf8')) as RegistryEvent);
              applied += 1;
            }
            if (BigInt(message.offset) + 1n >= end) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    const groupAdmin = this.kafka.admin();
    await groupAdmin.connect();
    await groupAdmin.deleteGroups([groupId]).catch(() => undefined);
    await groupAdmin.disconnect();
    return applied;
  }

  async append(event: RegistryEvent): Promise<void> {
    if (!this.producer) {
      this.producer = createProducer(this.kafka, { idempotent: true, maxInFlightRequests: 1 });
      await this.producer.connect();
    }
    await this.producer.send({
      topic: SCHEMAS_TOPIC,
      acks: -1,
      messages: [{ key: KafkaRegistryLog.keyOf(event), value: JSON.stringify(event) }],
    });
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}

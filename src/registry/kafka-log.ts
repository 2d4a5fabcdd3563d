import { Config } from '../config';
import { Admin, createAdmin } from '../kafka/client';
import { readTopicToEnd } from '../kafka/consumer';
import { RecordProducer } from '../kafka/producer';
import { createMissingTopics, durabilityOf, type TopicAdmin } from '../kafka/topics';
import { RegistryLog } from './server';
import { RegistryEvent } from './state';

export const SCHEMAS_TOPIC = '_schemas';

/**
 * Registry events in a compacted single-partition topic, keyed like Confluent's (`keytype`,
 * `subject`, `version`) so compaction keeps the latest value of each key and replay rebuilds ids.
 */
export class KafkaRegistryLog implements RegistryLog {
  private producer?: RecordProducer;

  constructor(private readonly config: Pick<Config, 'kafka' | 'topics'>) {}

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

  /** Creates `_schemas` if missing, with the configured replication factor and min ISR (through `existing`, else an admin of its own). */
  async ensureTopic(existing?: TopicAdmin): Promise<void> {
    const create = (admin: TopicAdmin) =>
      createMissingTopics(admin, [{ name: SCHEMAS_TOPIC, partitions: 1, configs: { 'cleanup.policy': 'compact' }, durability: durabilityOf(this.config) }]);
    if (existing) {
      await create(existing);
      return;
    }
    const admin: Admin = createAdmin(this.config, 'registry-admin');
    await admin.connect();
    try {
      await create(admin);
    } finally {
      await admin.disconnect();
    }
  }

  /** Reads the whole log once, in order. */
  async replay(apply: (event: RegistryEvent) => void): Promise<number> {
    let applied = 0;
    await readTopicToEnd(this.config, 'registry-replay', SCHEMAS_TOPIC, (record) => {
      if (!record.value) return;
      apply(JSON.parse(record.value.toString('utf8')) as RegistryEvent);
      applied += 1;
    });
    return applied;
  }

  async append(event: RegistryEvent): Promise<void> {
    this.producer ??= await RecordProducer.connect(this.config, { clientSuffix: 'registry' });
    await this.producer.send([{ topic: SCHEMAS_TOPIC, key: KafkaRegistryLog.keyOf(event), value: Buffer.from(JSON.stringify(event)) }]);
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}

import { Kafka, logLevel } from 'kafkajs';
import { Config } from '../config';

/**
 * Topic configs of existing topics. The one admin call the librdkafka-based client's Node binding
 * does not expose (DescribeConfigs/AlterConfigs), so it goes through kafkajs's admin, here only.
 */
export async function alterTopicConfigs(config: Pick<Config, 'kafka'>, topics: readonly { name: string; configs: Record<string, string> }[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = new Kafka({ clientId: `${config.kafka.client_id}-configs`, brokers: config.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: topics.map((t) => ({ type: 2, name: t.name, configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })) })),
    });
  } finally {
    await admin.disconnect();
  }
}

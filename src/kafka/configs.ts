import { Admin, ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { Config } from '../config';
import { kafkajsOptions, kafkaSecurity } from './security';

/**
 * Configs of topics and brokers: the admin calls the librdkafka-based client's Node binding does not
 * expose (DescribeConfigs/AlterConfigs), so they go through kafkajs's admin, here only, with the same
 * [kafka] security as every other client (credentials from the environment, see security.ts).
 */
async function withConfigAdmin<T>(config: Pick<Config, 'kafka'>, run: (admin: Admin) => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const admin = new Kafka({
    clientId: `${config.kafka.client_id}-configs`,
    brokers: config.kafka.brokers,
    ...kafkajsOptions(kafkaSecurity(config, env)),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Sets the given configs of existing topics (AlterConfigs: configs not named go back to their defaults). */
export async function alterTopicConfigs(config: Pick<Config, 'kafka'>, topics: readonly { name: string; configs: Record<string, string> }[]): Promise<void> {
  if (topics.length === 0) return;
  await withConfigAdmin(config, (admin) =>
    admin.alterConfigs({
      validateOnly: false,
      resources: topics.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name, configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })) })),
    }),
  );
}

/** The values of some configs of a topic (the broker's defaults included). */
export async function topicConfigValues(config: Pick<Config, 'kafka'>, topic: string, names: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Record<string, string>> {
  const described = await withConfigAdmin(
    config,
    (admin) => admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [...names] }] }),
    env,
  );
  return Object.fromEntries((described.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]));
}

/**
 * The replication factor a topic created with -1 gets: the broker's default.replication.factor;
 * undefined when the cluster does not let us describe broker configs (a managed cluster).
 */
export async function brokerDefaultReplication(config: Pick<Config, 'kafka'>): Promise<number | undefined> {
  try {
    return await withConfigAdmin(config, async (admin) => {
      const { brokers } = await admin.describeCluster();
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.BROKER, name: String(brokers[0].nodeId), configNames: ['default.replication.factor'] }],
      });
      const value = Number(described.resources[0]?.configEntries.find((e) => e.configName === 'default.replication.factor')?.configValue);
      return Number.isInteger(value) && value > 0 ? value : undefined;
    });
  } catch {
    return undefined;
  }
}

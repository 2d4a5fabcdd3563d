import { GenericContainer, Wait } from 'testcontainers';
import { loadConfig } from '../../src/config';
import { serveRegistry } from '../../src/registry/main';

/** With a Docker engine: Kafka and S3Mock in containers, the registry in-process against them. */
export async function startContainers(): Promise<void> {
  const kafka = await new GenericContainer('apache/kafka:4.4.0')
    .withExposedPorts({ container: 19092, host: 19092 })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:19092,CONTROLLER://localhost:19093',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:19092',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:19093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const s3 = await new GenericContainer('adobe/s3mock:3.12.0')
    .withExposedPorts({ container: 9090, host: 19390 })
    .withWaitStrategy(Wait.forListeningPorts())
    .start();
  process.env.KAFKA_BROKERS = '127.0.0.1:19092';
  process.env.S3_ENDPOINT = 'http://127.0.0.1:19390';
  const config = loadConfig();
  await serveRegistry(config, config.stack.registry_port);
  process.env.SCHEMA_REGISTRY_URL = `http://127.0.0.1:${config.stack.registry_port}`;
  (globalThis as { __optflowContainers?: unknown[] }).__optflowContainers = [kafka, s3];
}

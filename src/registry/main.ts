import { Config } from '../config';
import { createKafka } from '../kafka/client';
import { logger } from '../util/log';
import { KafkaRegistryLog } from './kafka-log';
import { SchemaRegistryServer } from './server';
import { RegistryState } from './state';

const log = logger('registry');

/** Starts the registry: replays `_schemas`, then serves until SIGTERM/SIGINT. */
export async function serveRegistry(config: Config, port: number): Promise<SchemaRegistryServer> {
  const store = new KafkaRegistryLog(createKafka(config, 'registry'));
  await store.ensureTopic();
  const state = new RegistryState();
  const events = await store.replay((e) => state.apply(e));
  const server = new SchemaRegistryServer(state, store);
  const bound = await server.listen(port);
  log.warn('registry_listening', { port: bound, replayed_events: events });
  const stop = async () => {
    await server.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  return server;
}

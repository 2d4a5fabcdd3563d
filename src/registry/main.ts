import { Config } from '../config';
import { registryAuth } from '../kafka/security';
import { logger } from '../util/log';
import { KafkaRegistryLog } from './kafka-log';
import { SchemaRegistryServer } from './server';
import { RegistryState } from './state';

const log = logger('registry');

/**
 * Reads `_schemas` from the start. A broker that just restarted answers metadata requests before its
 * partitions have leaders again, so this retries for a while instead of failing the registry.
 */
async function loadState(store: KafkaRegistryLog, attempts = 60): Promise<{ state: RegistryState; events: number }> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await store.ensureTopic();
      const state = new RegistryState();
      const events = await store.replay((e) => state.apply(e));
      return { state, events };
    } catch (err) {
      // (Refused credentials end the process at once: the CLI races every command against whenRefused.)
      if (attempt >= attempts) throw err;
      log.warn('schemas_log_not_ready', { attempt, error: (err as Error).message });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Starts the registry: replays `_schemas`, then serves until SIGTERM/SIGINT. */
export async function serveRegistry(config: Config, port: number): Promise<SchemaRegistryServer> {
  const store = new KafkaRegistryLog(config);
  const { state, events } = await loadState(store);
  const server = new SchemaRegistryServer(state, store, config.schema_registry.basic_auth ? registryAuth(config) : undefined);
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

import { Config } from '../config';
import { LocalStack } from './stack';

/** True when the configuration points at this checkout's local stack (the default ports on 127.0.0.1). */
export function usesLocalStack(config: Config): boolean {
  const s = config.stack;
  return config.kafka.brokers.join(',') === `127.0.0.1:${s.kafka_port}` && config.schema_registry.url.replace(/\/$/, '') === `http://127.0.0.1:${s.registry_port}`;
}

/**
 * Starts the local stack's Kafka and registry unless they serve already or the config points
 * elsewhere; says what it starts on `say`. Returns where the stack is, for a status line.
 */
export async function ensureStack(config: Config, say: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<string> {
  const stack = new LocalStack(config);
  if (!usesLocalStack(config)) return `configured (kafka ${config.kafka.brokers.join(',')}, registry ${config.schema_registry.url})`;
  const status = await stack.status();
  const needed = [...new Set(status.filter((s) => s.service !== 's3' && !s.serving).map((s) => s.service))];
  if (needed.length > 0) {
    say(`starting the local stack (${needed.join(', ')}) ...`);
    await stack.up(needed);
  }
  return `local (kafka ${stack.address('kafka')}, registry ${stack.address('registry')}; stop with npm run stack:down)`;
}

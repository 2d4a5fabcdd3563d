import { KafkaJS, Producer } from '@confluentinc/kafka-javascript';
import { Config } from '../config';
import { LogLevel, logger, logLevel } from '../util/log';
import { kafkaSecurity, librdkafkaProperties } from './security';

/**
 * Client set-up for every Kafka user of the product: Confluent's client (librdkafka inside). The hot
 * paths (producing, the consumer-group loop, transactions) use its low-level API through
 * producer.ts and consumer.ts; administration uses its KafkaJS-compatible admin.
 */

export type Admin = KafkaJS.Admin;
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- librdkafka callbacks (rebalance_cb) are properties too
export type ClientProperties = Record<string, string | number | boolean | Function>;

const kafkaLog = logger('kafka');

/** librdkafka log severities are syslog levels: 0–3 errors, 4 warning, 5–6 info, 7 debug. */
export function librdkafkaLineLevel(severity: number, fac: string, message: string): LogLevel {
  // Connection loss to a broker that is restarting or gone: librdkafka reconnects by itself.
  if (/Connection refused|Disconnected|connection reset|All broker connections are down/i.test(message) || fac === 'FAIL') return 'debug';
  if (severity <= 3) return 'warn';
  return severity === 4 ? 'info' : 'debug';
}

/**
 * librdkafka's security properties for [kafka] (security.protocol, sasl.*, ssl.*.location); the SASL
 * credentials come from KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD in `env` (see security.ts).
 * librdkafka never logs them (it redacts sensitive properties), and neither does this module.
 */
export function securityProperties(config: Pick<Config, 'kafka'>, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return librdkafkaProperties(kafkaSecurity(config, env));
}

/** Properties every client gets: brokers, client id, security, logging through ours. */
export function clientProperties(config: Pick<Config, 'kafka'>, clientSuffix = '', env: NodeJS.ProcessEnv = process.env): ClientProperties {
  return {
    'bootstrap.servers': config.kafka.brokers.join(','),
    'client.id': `${config.kafka.client_id}${clientSuffix ? `-${clientSuffix}` : ''}`,
    ...securityProperties(config, env),
    // Logs arrive as 'event.log' events (see routeLogs) instead of librdkafka's own stderr lines.
    event_cb: true,
    log_level: logLevel() === 'debug' ? 7 : 4,
    'broker.address.family': 'v4',
  };
}

interface LogEmitter {
  on(event: 'event.log', listener: (entry: { severity: number; fac: string; message: string }) => void): unknown;
  on(event: 'event.error', listener: (error: Error) => void): unknown;
}

/**
 * The cluster refused this process for good: wrong SASL credentials or mechanism, or a broker
 * certificate the configured CA does not vouch for. librdkafka would reconnect and be refused again
 * every few seconds for ever; no retry heals either, so the process stops instead (see whenRefused).
 */
export class KafkaRefusedError extends Error {
  override readonly name = 'KafkaRefusedError';
}

/** librdkafka's error codes for a failed SASL handshake and a failed TLS handshake. */
const ERR__AUTHENTICATION = -169;
const ERR__SSL = -181;

/** A refusal, not a passing fault: authentication failed, or TLS failed on the certificate's trust. */
export function isRefusal(error: { code?: unknown; message: string }): boolean {
  if (error.code === ERR__AUTHENTICATION || /SASL authentication error|Authentication failed/i.test(error.message)) return true;
  const tls = error.code === ERR__SSL || /SSL handshake failed/i.test(error.message);
  return tls && /certificate verify failed|unable to get local issuer|self.signed|unknown ca/i.test(error.message);
}

const refusalListeners = new Set<(err: KafkaRefusedError) => void>();
let refusal: KafkaRefusedError | undefined;

/**
 * Rejects with a KafkaRefusedError as soon as any Kafka client of this process is refused (the CLI
 * races every command against it, so a refused command ends within moments with a clear message).
 */
export function whenRefused(): Promise<never> {
  return new Promise((_, reject) => {
    if (refusal) reject(refusal);
    else refusalListeners.add(reject);
  });
}

/** Records a refusal once per process: one log line (librdkafka's reason: no credentials in it), then the listeners. */
function refused(client: string, message: string): void {
  if (refusal) return;
  refusal = new KafkaRefusedError(`Kafka refused the connection: ${message}`);
  kafkaLog.error('kafka_refused', { client, error: message });
  for (const listener of refusalListeners) listener(refusal);
  refusalListeners.clear();
}

/** Sends a low-level client's log lines and errors to the product's log at the right level. */
export function routeLogs(client: LogEmitter, name: string): void {
  // Only librdkafka's message and facility are logged, never the client's configuration.
  client.on('event.log', ({ severity, fac, message }) => kafkaLog[librdkafkaLineLevel(severity, fac, message)](message, { client: name, fac }));
  // Errors librdkafka reports but retries itself (transport, all brokers down); fatal ones surface in calls.
  client.on('event.error', (error) => {
    if (isRefusal(error as Error & { code?: unknown })) refused(name, error.message);
    else kafkaLog.debug('client_error', { client: name, error: error.message });
  });
}

/** The admin's log: the compat layer reports client errors as error lines ("Error: <librdkafka message>"). */
function compatLogger(name: string): KafkaJS.Logger {
  const at = (severity: number) => (message: string, extra?: object) => {
    if (severity <= 3 && isRefusal({ message })) return refused(name, message.replace(/^Error: /, ''));
    kafkaLog[librdkafkaLineLevel(severity, String((extra as { fac?: unknown } | undefined)?.fac ?? ''), message)](message, extra as Record<string, unknown>);
  };
  return {
    info: at(6),
    warn: at(4),
    error: at(3),
    debug: at(7),
    namespace: () => compatLogger(name),
    setLogLevel: () => undefined,
  };
}

/** An admin client (KafkaJS-compatible API) with the configured security; connect() before use. */
export function createAdmin(config: Pick<Config, 'kafka'>, clientSuffix = 'admin', env: NodeJS.ProcessEnv = process.env): Admin {
  return new KafkaJS.Kafka({
    // librdkafka properties beside the kafkaJS block: the block's `ssl` takes only a boolean.
    ...securityProperties(config, env),
    kafkaJS: { brokers: config.kafka.brokers, clientId: `${config.kafka.client_id}-${clientSuffix}`, logger: compatLogger(clientSuffix) },
  }).admin();
}

/**
 * The ids of the brokers the cluster reports, from one metadata request of a short-lived client
 * (the compat admin has no describeCluster); [] when the cluster does not answer within `timeoutMs`.
 * A probe's failures are its answer (the stack polls nodes that are starting): debug lines only.
 */
export async function clusterBrokers(config: Pick<Config, 'kafka'>, env: NodeJS.ProcessEnv = process.env, timeoutMs = 5000): Promise<number[]> {
  const client = new Producer(clientProperties(config, 'probe', env) as Record<string, string | number | boolean>);
  client.on('event.log', ({ fac, message }) => kafkaLog.debug(message, { client: 'probe', fac }));
  client.on('event.error', (error) => kafkaLog.debug('client_error', { client: 'probe', error: error.message }));
  const ids = await new Promise<number[] | undefined>((resolve) =>
    client.connect({ allTopics: false, timeout: timeoutMs }, (err, metadata) => resolve(err ? undefined : metadata.brokers.map((b) => b.id))),
  );
  // A failed connect has disconnected the client already.
  if (ids) await new Promise<void>((resolve) => client.disconnect(2000, () => resolve()));
  return ids ?? [];
}

/**
 * On a secured cluster, authenticates once before a command's clients start, with short metadata
 * requests (2 s, then 4 s, then 8 s). A refusal then ends the process within moments: a process exits
 * only once its native calls return, and the clients' own first calls wait up to 30 s for a broker that
 * accepts them. Resolves when the cluster answers, or after the attempts (an unreachable cluster is the
 * command's own business: its clients wait for it as usual); rejects with the KafkaRefusedError.
 */
export async function authenticate(config: Pick<Config, 'kafka'>, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (config.kafka.security_protocol === 'PLAINTEXT') return;
  const admin = createAdmin(config, 'authenticate', env);
  await admin.connect();
  try {
    for (const timeout of [2000, 4000, 8000]) {
      try {
        await admin.listTopics({ timeout });
        return;
      } catch (err) {
        if (refusal) throw refusal;
        kafkaLog.debug('authenticate_retry', { timeout, error: (err as Error).message });
      }
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

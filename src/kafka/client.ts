import { KafkaJS } from '@confluentinc/kafka-javascript';
import { Config } from '../config';
import { LogLevel, logger, logLevel } from '../util/log';

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

/** Properties every client gets: brokers, client id, logging through ours. */
export function clientProperties(config: Pick<Config, 'kafka'>, clientSuffix = ''): ClientProperties {
  return {
    'bootstrap.servers': config.kafka.brokers.join(','),
    'client.id': `${config.kafka.client_id}${clientSuffix ? `-${clientSuffix}` : ''}`,
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

/** Sends a low-level client's log lines and errors to the product's log at the right level. */
export function routeLogs(client: LogEmitter, name: string): void {
  client.on('event.log', ({ severity, fac, message }) => kafkaLog[librdkafkaLineLevel(severity, fac, message)](message, { client: name, fac }));
  // Errors librdkafka reports but retries itself (transport, all brokers down); fatal ones surface in calls.
  client.on('event.error', (error) => kafkaLog.debug('client_error', { client: name, error: error.message }));
}

function compatLogger(): KafkaJS.Logger {
  const at = (severity: number) => (message: string, extra?: object) =>
    kafkaLog[librdkafkaLineLevel(severity, String((extra as { fac?: unknown } | undefined)?.fac ?? ''), message)](message, extra as Record<string, unknown>);
  return {
    info: at(6),
    warn: at(4),
    error: at(3),
    debug: at(7),
    namespace: () => compatLogger(),
    setLogLevel: () => undefined,
  };
}

/** An admin client (KafkaJS-compatible API); connect() before use. */
export function createAdmin(config: Pick<Config, 'kafka'>, clientSuffix = 'admin'): Admin {
  return new KafkaJS.Kafka({
    kafkaJS: { brokers: config.kafka.brokers, clientId: `${config.kafka.client_id}-${clientSuffix}`, logger: compatLogger() },
  }).admin();
}

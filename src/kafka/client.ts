import { createRequire } from 'node:module';
import { Kafka, logLevel as KafkaLogLevel, LogEntry, Partitioners, Producer, ProducerConfig } from 'kafkajs';
import { Config } from '../config';
import { LogLevel, logger, logLevel } from '../util/log';
import { kafkaSecurity, kafkajsOptions } from './security';

const kafkaLog = logger('kafkajs');

const levelOf: Record<string, KafkaLogLevel> = {
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};

/**
 * kafkajs logs retriable conditions (coordinator not yet available or moving, rebalance in progress,
 * leader election) at ERROR while it retries them; when it gives up, the error reaches our code and is
 * reported there. So those lines are debug, other kafkajs errors are warnings, and kafkajs warnings are
 * info: at the default level a user sees the product's own lines plus real warnings.
 * Retries are bounded on purpose: a send that fails aborts its transaction and the task restarts from
 * committed state, so kafkajs's warning that bounded retries endanger exactly-once does not apply.
 */
const IGNORED = new Set(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);
/** Normal group life (a rebalance when a member joins or leaves, a member re-joining after a restart). */
const ROUTINE = [/re-joining the group/, /group is rebalancing/, /Failed to connect to broker, reconnecting/, /concurrent operation on the same transaction/];

/** The messages of the broker errors kafkajs retries by itself (its protocol table), read once. */
function retriableMessages(): Set<string> {
  try {
    const table: unknown = createRequire(__filename)('kafkajs/src/protocol/error').errorCodes;
    if (!Array.isArray(table)) return new Set();
    return new Set(table.filter((e: { retriable?: unknown }) => e.retriable === true).map((e: { message?: unknown }) => String(e.message)));
  } catch {
    return new Set(['The group coordinator is not available', 'This is not the correct coordinator for this group']);
  }
}
const RETRIABLE = retriableMessages();

/** The level an optflow user should see a kafkajs line at. */
export function kafkaLineLevel(level: KafkaLogLevel, event: string, error: string): LogLevel | 'ignore' {
  if (IGNORED.has(event)) return 'ignore';
  if (RETRIABLE.has(error) || RETRIABLE.has(event) || ROUTINE.some((r) => r.test(event) || r.test(error))) return 'debug';
  if (level <= KafkaLogLevel.ERROR) return 'warn';
  return level === KafkaLogLevel.WARN ? 'info' : 'debug';
}

function logCreator() {
  return ({ level, log }: LogEntry) => {
    const { message, ...fields } = log;
    const event = String(message);
    const target = kafkaLineLevel(level, event, String(fields.error ?? ''));
    if (target !== 'ignore') kafkaLog[target](event, fields);
  };
}

export function createKafka(config: Pick<Config, 'kafka'>, clientSuffix = '', env: NodeJS.ProcessEnv = process.env): Kafka {
  return new Kafka({
    clientId: `${config.kafka.client_id}${clientSuffix ? `-${clientSuffix}` : ''}`,
    brokers: config.kafka.brokers,
    ...kafkajsOptions(kafkaSecurity(config, env)),
    // kafkajs' INFO lines are per-connection chatter; our own level governs what is printed.
    logLevel: levelOf[logLevel()] === KafkaLogLevel.DEBUG ? KafkaLogLevel.INFO : KafkaLogLevel.WARN,
    logCreator,
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

/** Java-compatible murmur2 partitioner, so keys land where Kafka's own clients would put them. */
export function createProducer(kafka: Kafka, options: ProducerConfig = {}): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...options });
}

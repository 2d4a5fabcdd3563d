import { Kafka, logLevel as KafkaLogLevel, LogEntry, Partitioners, Producer, ProducerConfig } from 'kafkajs';
import { Config } from '../config';
import { logger, logLevel } from '../util/log';

const kafkaLog = logger('kafkajs');

const levelOf: Record<string, KafkaLogLevel> = {
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};

/**
 * kafkajs logs retriable conditions (coordinator moving, rebalance in progress) as errors; its levels
 * are shifted down one step so that quiet-by-default output holds only what needs a person.
 * Retries are bounded on purpose: a send that fails aborts its transaction and the task restarts from
 * committed state, so kafkajs's warning that bounded retries endanger exactly-once does not apply.
 */
const IGNORED = new Set(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);
/** Retried by kafkajs: the broker is still completing the previous transaction's markers. */
const RETRIED = /concurrent operation on the same transaction/;

function logCreator() {
  return ({ level, log }: LogEntry) => {
    const { message, ...fields } = log;
    const event = String(message);
    if (IGNORED.has(event)) return;
    if (RETRIED.test(event) || RETRIED.test(String(fields.error ?? ''))) return kafkaLog.debug(event, fields);
    if (level <= KafkaLogLevel.ERROR) kafkaLog.warn(event, fields);
    else if (level === KafkaLogLevel.WARN) kafkaLog.info(event, fields);
    else kafkaLog.debug(event, fields);
  };
}

export function createKafka(config: Pick<Config, 'kafka'>, clientSuffix = ''): Kafka {
  return new Kafka({
    clientId: `${config.kafka.client_id}${clientSuffix ? `-${clientSuffix}` : ''}`,
    brokers: config.kafka.brokers,
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

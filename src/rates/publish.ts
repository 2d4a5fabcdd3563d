import { randomBytes } from 'node:crypto';
import { createRegistry, TopicSerde } from '../avro/serde';
import { Config, physicalName } from '../config';
import { TreasuryYields } from '../domain/rates/treasury';
import { Admin, createAdmin } from '../kafka/client';
import { RecordProducer } from '../kafka/producer';
import { GlobalTables } from '../kafka/global-table';
import { requireTopics } from '../kafka/topics';
import { Logger } from '../util/log';

/**
 * Writes dates of yields to the compacted rates.treasury topic (key = date), idempotently: the
 * topic is read first and only dates whose record would change are written, all in one Kafka
 * transaction (readers are read_committed: a failed run leaves nothing behind). Re-running the
 * same load writes nothing.
 */

export const RATES_TOPIC = 'rates.treasury';

export interface PublishReport {
  topic: string;
  received: number;
  written: number;
  unchanged: number;
}

export async function publishYields(config: Config, rows: TreasuryYields[], log: Logger): Promise<PublishReport> {
  const topic = physicalName(config, RATES_TOPIC);
  const admin = createAdmin(config, 'rates-admin');
  await admin.connect();
  try {
    const registry = createRegistry(config.schema_registry);
    await requireTopics(admin, [topic]);
    const serde = await TopicSerde.forTopic<TreasuryYields>(registry, topic, 'TreasuryYields');
    const current = await readCurrent(admin, config, topic, serde, log);
    const changed = rows.filter((r) => current.get(r.date)?.equals(serde.type.toBuffer(r)) !== true);
    if (changed.length > 0) await writeInOneTransaction(config, topic, changed.map((r) => ({ key: r.date, value: serde.encode(r) })));
    return { topic, received: rows.length, written: changed.length, unchanged: rows.length - changed.length };
  } finally {
    await admin.disconnect();
  }
}

/** Avro body of the latest committed record per date. */
async function readCurrent(
  admin: Admin,
  config: Config,
  topic: string,
  serde: TopicSerde<TreasuryYields>,
  log: Logger,
): Promise<Map<string, Buffer>> {
  const tables = new GlobalTables(config, admin, `rates-reader-${randomBytes(4).toString('hex')}`, log);
  const bodies = new Map<string, Buffer>();
  try {
    await tables.load([{ topic, logical: RATES_TOPIC, serde }], async (r) => tables.put(r));
    for (const r of tables.records()) bodies.set(r.key, serde.type.toBuffer(r.value));
  } finally {
    await tables.stop();
  }
  return bodies;
}

async function writeInOneTransaction(config: Config, topic: string, messages: { key: string; value: Buffer }[]): Promise<void> {
  // One transactional id for every loader: a second concurrent run fences the first.
  const producer = await RecordProducer.connect(config, { clientSuffix: 'rates', transactionalId: physicalName(config, 'optflow.rates.writer') });
  try {
    await producer.inTransaction(messages.map((m) => ({ topic, ...m })));
  } finally {
    await producer.disconnect();
  }
}

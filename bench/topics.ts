import { Config } from '../src/config';
import { createAdmin } from '../src/kafka/client';

/** Deletes a bench run's topics (every topic under its prefix). */
export async function dropTopics(config: Pick<Config, 'kafka'>, prefix: string): Promise<void> {
  const admin = createAdmin(config, 'bench');
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

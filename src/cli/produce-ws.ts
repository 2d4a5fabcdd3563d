import { loadConfig } from '../config';
import { WebSocketProducer } from '../producers/ws/producer';
import { parseFlags, stringFlag, UsageError } from './args';

const USAGE = 'usage: optflow produce ws [--feed stocks|options] [--subscribe T.SPY,Q.SPY] [--metrics-port N] [--verbose]\n' +
  '       (API key from env MASSIVE_API_KEY; runs until SIGTERM/SIGINT)';

/** `optflow produce ws ...`: the live Massive WebSocket feed into the market topics, until SIGTERM. */
export async function produceWsCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    feed: { type: 'string' },
    subscribe: { type: 'string' },
    'metrics-port': { type: 'string' },
  });
  if (flags.positionals[0] !== 'ws' || flags.positionals.length > 1) throw new UsageError(USAGE);
  const feed = stringFlag(flags, 'feed') ?? 'stocks';
  if (feed !== 'stocks' && feed !== 'options') throw new UsageError(`--feed must be stocks or options\n${USAGE}`);
  const subscribe = stringFlag(flags, 'subscribe');
  if (subscribe !== undefined && subscribe.trim() === '') throw new UsageError(`--subscribe is empty\n${USAGE}`);
  const apiKey = process.env.MASSIVE_API_KEY;
  if (!apiKey) throw new UsageError('set MASSIVE_API_KEY (the Massive API key; it is never logged)');
  const config = loadConfig();
  const metricsPort = stringFlag(flags, 'metrics-port');
  const producer = new WebSocketProducer(config, { feed, subscriptions: subscribe, apiKey, metricsPort: metricsPort ? Number(metricsPort) : undefined });
  await producer.start();
  let stopping: Promise<void> | null = null;
  const stop = (): void => {
    stopping ??= producer.stop();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await producer.finished();
    await (stopping ?? producer.stop());
    return 0;
  } catch (err) {
    await producer.stop();
    process.stderr.write(`optflow produce ws: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.removeListener('SIGTERM', stop);
    process.removeListener('SIGINT', stop);
  }
}

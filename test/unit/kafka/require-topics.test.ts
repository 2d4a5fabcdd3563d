import { MissingTopicsError, requireTopics } from '../../../src/kafka/topics';

const admin = (existing: string[]) => ({ listTopics: async () => existing });

test('a role whose topics exist starts', async () => {
  await expect(requireTopics(admin(['p.equity.trades', 'p.features']), ['p.equity.trades', 'p.features'])).resolves.toBeUndefined();
});

test('a role started before `topology apply` fails naming each missing topic once, and what to run', async () => {
  const err = await requireTopics(admin(['p.equity.trades']), ['p.equity.trades', 'p.option.trades', 'p.option.trades.dlq', 'p.option.trades']).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MissingTopicsError);
  expect((err as MissingTopicsError).topics).toEqual(['p.option.trades', 'p.option.trades.dlq']);
  expect((err as Error).message).toBe(
    'topics p.option.trades, p.option.trades.dlq not found: run `optflow topology apply` first (it creates the topology\'s topics and registers their schemas)',
  );
});

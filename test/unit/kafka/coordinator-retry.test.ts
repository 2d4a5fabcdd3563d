import { CODES } from '@confluentinc/kafka-javascript';
import { whileCoordinatorMoves } from '../../../src/kafka/consumer';

const kafkaError = (code: number, message: string) => Object.assign(new Error(message), { code });

test('a commit answered "waiting for coordinator" twice (a broker restarting) is retried until it goes through', async () => {
  let calls = 0;
  const result = await whileCoordinatorMoves(() => {
    calls += 1;
    if (calls <= 2) throw kafkaError(CODES.ERRORS.ERR__WAIT_COORD, 'Local: Waiting for coordinator');
    return 'committed';
  });
  expect(result).toBe('committed');
  expect(calls).toBe(3);
});

test('a fenced member (illegal generation) is not retried: the error is the answer', async () => {
  let calls = 0;
  const failing = whileCoordinatorMoves(() => {
    calls += 1;
    throw kafkaError(CODES.ERRORS.ERR_ILLEGAL_GENERATION, 'Broker: Specified group generation id is not valid');
  });
  await expect(failing).rejects.toThrow('generation');
  expect(calls).toBe(1);
});

test('a coordinator that stays away past the budget: the last error is thrown', async () => {
  let calls = 0;
  const failing = whileCoordinatorMoves(() => {
    calls += 1;
    throw kafkaError(CODES.ERRORS.ERR_NOT_COORDINATOR, 'Broker: Not coordinator');
  }, 400);
  await expect(failing).rejects.toThrow('Not coordinator');
  expect(calls).toBeGreaterThanOrEqual(2);
});

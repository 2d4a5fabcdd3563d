import { firstFailure, untilStopped, type LongRunningRole } from '../../../src/cli/lifetime';

/** A role whose member can fail on demand; stop() settles `stopped` with null unless it failed first. */
function fakeRole(): LongRunningRole & { fail(err: Error): void; stops: number } {
  let settle: (v: Error | null) => void = () => undefined;
  const stopped = new Promise<Error | null>((r) => (settle = r));
  return {
    stopped,
    stops: 0,
    fail(err: Error) {
      settle(err);
    },
    async stop() {
      this.stops += 1;
      settle(null);
    },
  };
}

test('a role that fails by itself is stopped and the process exit code is 1', async () => {
  const role = fakeRole();
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const exit = untilStopped(role, 'sink parquet --topic features');
  role.fail(new Error('Broker: Unknown member'));
  expect(await exit).toBe(1);
  expect(role.stops).toBe(1);
  expect(stderr).toHaveBeenCalledWith('optflow sink parquet --topic features: stopped by a failure: Broker: Unknown member\n');
  stderr.mockRestore();
});

test('SIGTERM stops the role gracefully: exit code 0, no error', async () => {
  const role = fakeRole();
  const exit = untilStopped(role, 'process greeks');
  process.emit('SIGTERM', 'SIGTERM');
  expect(await exit).toBe(0);
  expect(role.stops).toBe(1);
});

test('firstFailure: the first error among several roles, or null once all stopped cleanly', async () => {
  const [a, b] = [fakeRole(), fakeRole()];
  const failure = firstFailure([a.stopped, b.stopped]);
  b.fail(new Error('boom'));
  expect((await failure)?.message).toBe('boom');
  const [c, d] = [fakeRole(), fakeRole()];
  const clean = firstFailure([c.stopped, d.stopped]);
  await c.stop();
  await d.stop();
  expect(await clean).toBeNull();
});

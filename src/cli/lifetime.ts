/** A started role (processor member, sink member, a set of them) that runs until stopped. */
export interface LongRunningRole {
  stop(): Promise<void>;
  /** Settles once the role stopped: null after stop(), or the error that stopped it by itself. */
  readonly stopped: Promise<Error | null>;
}

/** The first failure among roles, or null once every one stopped cleanly. */
export function firstFailure(stopped: readonly Promise<Error | null>[]): Promise<Error | null> {
  return new Promise((resolve) => {
    for (const s of stopped) void s.then((failure) => failure && resolve(failure));
    void Promise.all(stopped).then((all) => resolve(all.find((f) => f !== null) ?? null));
  });
}

/**
 * Runs a started role until SIGTERM/SIGINT (a graceful stop, exit 0) or until it fails by itself:
 * then it is stopped, the error goes to stderr and the exit code is 1, for a supervisor to restart
 * the process. A process that stayed alive with a dead consumer would stall its partitions silently.
 */
export function untilStopped(role: LongRunningRole, name: string): Promise<number> {
  return new Promise((resolve) => {
    const onSignal = (): void => {
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      role.stop().then(() => resolve(0), () => resolve(1));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    void role.stopped.then((failure) => {
      if (failure === null) return;
      process.stderr.write(`optflow ${name}: stopped by a failure: ${failure.message}\n`);
      role.stop().then(() => resolve(1), () => resolve(1));
    });
  });
}

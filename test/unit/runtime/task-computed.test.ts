import { Offload, Offloadable, offloadable } from '../../../src/processors/runtime/offload';
import { Task } from '../../../src/processors/runtime/task';
import { BoundProcessor, InputRecord, output, ProcessorContext } from '../../../src/processors/runtime/types';
import { WatermarkTracker } from '../../../src/processors/runtime/watermarks';
import type { FeatureRecord } from '../../../src/domain/features/window-features';

/**
 * emitComputed: an output computed elsewhere keeps its place among the task's outputs, the drain that
 * holds it waits for it, and a replaying task computes nothing.
 */

const TOPIC = 'in';
const OUT = output('features', 'Features', { eventTime: (v) => v.window_start_ns });
type Args = { start: bigint };
const toRecord = ({ start }: Args): FeatureRecord => ({ window_start_ns: start }) as FeatureRecord;
const JOB: Offloadable<Args, FeatureRecord> = offloadable('/nowhere/jobs.js', 'toRecord', toRecord);

/** Runs jobs later, settled by the test in any order. */
class DeferredOffload implements Offload {
  readonly started: { args: Args; settle: () => void }[] = [];
  run<A, R>(job: Offloadable<A, R>, args: A): Promise<R> {
    return new Promise<R>((resolve) => this.started.push({ args: args as unknown as Args, settle: () => resolve(job.fn(args)) }));
  }
  get backlog(): number {
    return this.started.length;
  }
  below = async (): Promise<void> => undefined;
  close = async (): Promise<void> => undefined;
}

/** A processor that emits one output per record: computed when the value is odd, directly when even. */
const processor: BoundProcessor = {
  process: (record: InputRecord<unknown>, ctx: ProcessorContext) => {
    const start = record.value as bigint;
    if (start % 2n === 1n) ctx.emitComputed(OUT, `k${start}`, JOB, { start });
    else ctx.emit(OUT, `k${start}`, toRecord({ start }));
  },
  table: () => undefined,
  onWatermark: () => undefined,
  close: () => undefined,
};

function task(offload: Offload, options: { replayUntil?: bigint; fromNs?: bigint } = {}): Task {
  const committed = new Map(
    options.replayUntil === undefined ? [] : [[TOPIC, { restorePoint: 0n, metadata: { position: options.replayUntil, watermark: 0n, maxEventTime: 0n, markerFloor: 0n, version: { generation: 0, fromNs: 0n } } }]],
  );
  return new Task({
    partition: 0, inputs: [TOPIC], processor, committed, stateHorizonNs: 0n,
    watermarks: new WatermarkTracker([TOPIC], 0n, Number.MAX_SAFE_INTEGER, 0),
    version: { generation: 0, fromNs: options.fromNs ?? 0n },
    encode: (out, key, value) => ({ topic: out.topic, key, value: Buffer.from(String((value as FeatureRecord).window_start_ns)) }),
    lateTopic: 'late', dlqTopic: 'dlq', deadLetter: () => Buffer.alloc(0), offload,
  });
}

function feed(t: Task, starts: bigint[]): void {
  for (const [i, start] of starts.entries()) t.process(TOPIC, { topic: TOPIC, partition: 0, offset: BigInt(i), key: null, value: start, eventTime: 1n }, Buffer.alloc(0), 0);
}

const keysOf = (outputs: { key?: unknown }[]): unknown[] => outputs.map((o) => o.key);

describe('Task.emitComputed', () => {
  it('keeps the emitted order whatever order the computations finish in', async () => {
    const offload = new DeferredOffload();
    const t = task(offload);
    feed(t, [1n, 2n, 3n, 4n, 5n]);
    expect(t.pendingOutputs).toBe(5);
    const { outputs } = t.drain();
    expect(outputs).toBeInstanceOf(Promise);
    for (const i of [2, 0, 1]) offload.started[i].settle();
    expect(keysOf(await outputs)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
    expect((await outputs).map((o) => String(o.value))).toEqual(['1', '2', '3', '4', '5']);
    // the next drain starts empty and synchronous
    feed(t, [6n]);
    expect(keysOf(t.drain().outputs as { key?: unknown }[])).toEqual(['k6']);
  });

  it('drains synchronously when nothing is being computed, and inline jobs encode at once', () => {
    const t = task({ run: (job, args) => job.fn(args), backlog: 0, below: async () => undefined, close: async () => undefined });
    feed(t, [1n, 2n, 3n]);
    const { outputs } = t.drain();
    expect(Array.isArray(outputs)).toBe(true);
    expect(keysOf(outputs as { key?: unknown }[])).toEqual(['k1', 'k2', 'k3']);
  });

  it('computes nothing while the task replays', async () => {
    const offload = new DeferredOffload();
    const t = task(offload, { replayUntil: 2n });
    feed(t, [1n, 3n, 5n]);
    expect(offload.started.map((s) => s.args.start)).toEqual([5n]);
    offload.started[0].settle();
    expect(keysOf(await t.drain().outputs)).toEqual(['k5']);
  });

  it('drops a computed output before the version\'s first instant, as emit does', async () => {
    const offload = new DeferredOffload();
    const t = task(offload, { fromNs: 4n });
    feed(t, [1n, 2n, 5n, 6n, 3n]);
    for (const s of offload.started) s.settle();
    expect(keysOf(await t.drain().outputs)).toEqual(['k5', 'k6']);
  });
});

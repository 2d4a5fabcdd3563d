import * as path from 'node:path';
import { INLINE, Offloadable, offloadable, WorkerOffload } from '../../../src/processors/runtime/offload';

/** The fixture module is plain JavaScript, so it runs in a real worker thread under jest too. */
const JOBS = path.join(__dirname, 'fixtures', 'offload-jobs.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jobs = require(JOBS) as { sortAndSum: SortAndSum['fn']; fails: (a: { why: string }) => never; exits: () => never };

type SortArgs = { label: string; values: Float64Array; delayMs?: number };
type SortAndSum = Offloadable<SortArgs, { label: string; sum: bigint; sorted: number[]; mainThread: boolean }>;
const SORT_AND_SUM: SortAndSum = offloadable(JOBS, 'sortAndSum', jobs.sortAndSum, (a) => [a.values.buffer as ArrayBuffer]);

describe('WorkerOffload', () => {
  let pool: WorkerOffload;
  beforeEach(() => {
    pool = new WorkerOffload(2);
  });
  afterEach(async () => {
    await pool.close();
  });

  it('runs a job in a worker thread and moves its buffers there', async () => {
    const values = new Float64Array([3, 1, 2]);
    const pending = pool.run(SORT_AND_SUM, { label: 'a', values });
    expect(pending).toBeInstanceOf(Promise);
    // transferred, not copied: the caller's view is detached
    expect(values.length).toBe(0);
    expect(pool.backlog).toBe(1);
    await expect(pending).resolves.toEqual({ label: 'a', sum: 6n, sorted: [1, 2, 3], mainThread: false });
    expect(pool.backlog).toBe(0);
  });

  it('answers each job with its own result when they finish out of order', async () => {
    const slow = pool.run(SORT_AND_SUM, { label: 'slow', values: new Float64Array([5, 4]), delayMs: 200 });
    const fast = pool.run(SORT_AND_SUM, { label: 'fast', values: new Float64Array([9, 7, 8]) });
    const finished: string[] = [];
    await Promise.all([slow, fast].map(async (p) => finished.push((await p).label)));
    expect(finished).toEqual(['fast', 'slow']);
    expect((await slow).sorted).toEqual([4, 5]);
    expect((await fast).sum).toBe(24n);
  });

  it('below() waits until the backlog is at most the limit', async () => {
    const running = [30, 60, 90].map((delayMs, i) => pool.run(SORT_AND_SUM, { label: String(i), values: new Float64Array([i]), delayMs }));
    expect(pool.backlog).toBe(3);
    await pool.below(1);
    expect(pool.backlog).toBeLessThanOrEqual(1);
    await Promise.all(running);
    await expect(pool.below(0)).resolves.toBeUndefined();
  });

  it('rejects a job that throws with the worker\'s error, and goes on with the next', async () => {
    await expect(pool.run(offloadable(JOBS, 'fails', jobs.fails), { why: 'bad window' })).rejects.toThrow(/offloaded job failed: RangeError: bad window/);
    await expect(pool.run(offloadable(JOBS, 'notAFunction', jobs.fails), { why: '' })).rejects.toThrow(/exports no function notAFunction/);
    await expect(pool.run(SORT_AND_SUM, { label: 'b', values: new Float64Array([2, 1]) })).resolves.toMatchObject({ sorted: [1, 2] });
  });

  it('rejects the jobs of a worker that dies, and starts another for later jobs', async () => {
    await expect(pool.run(offloadable(JOBS, 'exits', jobs.exits), {})).rejects.toThrow(/exited with code 3/);
    await expect(pool.run(SORT_AND_SUM, { label: 'c', values: new Float64Array([1]) })).resolves.toMatchObject({ sum: 1n, mainThread: false });
  });

  it('runs a job from TypeScript sources inline: a worker cannot load them', () => {
    const ts = offloadable<{ n: number }, number>(path.join(__dirname, 'not-compiled.ts'), 'double', ({ n }) => 2 * n);
    expect(pool.run(ts, { n: 21 })).toBe(42);
    expect(pool.backlog).toBe(0);
  });
});

describe('INLINE', () => {
  it('runs the job on the caller\'s thread and returns its result', () => {
    const values = new Float64Array([2, 1]);
    expect(INLINE.run(SORT_AND_SUM, { label: 'i', values })).toEqual({ label: 'i', sum: 3n, sorted: [1, 2], mainThread: true });
    expect(values.length).toBe(2);
  });
});

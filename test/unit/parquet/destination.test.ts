import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalDestination } from '../../../src/sinks/parquet/destination';
import { generationOfFile, sealBefore, emptyStats, addToStats, segmentFileName } from '../../../src/sinks/parquet/layout';

describe('LocalDestination', () => {
  it('publishes by rename and removes only the stale staging files of the given topic and partition', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-dest-'));
    const dest = new LocalDestination(root);
    const rel = 'dt=2025-03-07/underlying=SPY/equity.trades+0+00000000000000000700.parquet';
    const staging = await dest.stagingPath(rel);
    expect(path.basename(staging).startsWith('.equity.trades+0+')).toBe(true);
    fs.writeFileSync(staging, 'complete file');
    expect(await dest.publish(staging, rel, 0)).toBe('published');
    expect(fs.readFileSync(path.join(root, rel), 'utf8')).toBe('complete file');

    const dir = path.join(root, 'dt=2025-03-08/underlying=QQQ');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, '.equity.trades+0+00000000000000001400.parquet.4242.tmp'), 'left by a killed writer');
    fs.writeFileSync(path.join(dir, '.equity.trades+1+00000000000000001400.parquet.4242.tmp'), 'another partition');
    expect(await dest.discardStale('equity.trades+0+')).toBe(1);
    expect(fs.readdirSync(dir).sort()).toEqual(['.equity.trades+1+00000000000000001400.parquet.4242.tmp']);
    expect(fs.existsSync(path.join(root, rel))).toBe(true);
    fs.rmSync(root, { recursive: true, force: true });
  });

  const write = async (dest: LocalDestination, rel: string, text: string, generation: number) => {
    const staging = await dest.stagingPath(rel);
    fs.writeFileSync(staging, text);
    return dest.publish(staging, rel, generation);
  };
  const listing = (dir: string) => fs.readdirSync(dir).sort();

  it('a newer generation replaces the partition directory whole; an older one is superseded; replays land the same', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-dest-'));
    const root = path.join(out, 'features');
    const dest = new LocalDestination(root);
    const part = 'dt=2025-03-07/underlying=SPY/window=5m';
    const dir = path.join(root, part);
    const other = path.join(root, 'dt=2025-03-06/underlying=SPY/window=5m');
    // generation 0: two segments of one Kafka partition, one of another (the old key spread windows)
    expect(await write(dest, `${part}/${segmentFileName('features', 5, 10n)}`, 'old a', 0)).toBe('published');
    expect(await write(dest, `${part}/${segmentFileName('features', 5, 90n)}`, 'old b', 0)).toBe('published');
    expect(await write(dest, `${part}/${segmentFileName('features', 2, 40n)}`, 'old c', 0)).toBe('published');
    expect(await write(dest, `dt=2025-03-06/underlying=SPY/window=5m/${segmentFileName('features', 5, 1n)}`, 'day before', 0)).toBe('published');
    expect(listing(dir)).toHaveLength(3);

    // generation 1 arrives: the directory holds only it
    const first = segmentFileName('features', 5, 500n, 1);
    expect(first).toBe('features+5+00000000000000000500+g1.parquet');
    expect(await write(dest, `${part}/${first}`, 'new a', 1)).toBe('replaced');
    expect(listing(dir)).toEqual([first]);
    // the same segment replayed after a kill: same file, same single version
    expect(await write(dest, `${part}/${first}`, 'new a', 1)).toBe('published');
    expect(listing(dir)).toEqual([first]);
    // a later segment of the same generation adds to it
    const second = segmentFileName('features', 5, 700n, 1);
    expect(await write(dest, `${part}/${second}`, 'new b', 1)).toBe('published');
    expect(listing(dir)).toEqual([first, second]);
    // an old-generation file that a lagging partition publishes afterwards is superseded
    expect(await write(dest, `${part}/${segmentFileName('features', 2, 60n)}`, 'old d', 0)).toBe('superseded');
    expect(listing(dir)).toEqual([first, second]);
    expect(fs.readFileSync(path.join(dir, first), 'utf8')).toBe('new a');
    // other partitions are untouched, and nothing is left beside or under the root
    expect(listing(other)).toEqual([segmentFileName('features', 5, 1n)]);
    expect(listing(out).filter((n) => n !== 'features')).toEqual(['.features.swap']);
    expect(listing(path.join(out, '.features.swap'))).toEqual([]);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('a kill between the two renames leaves the partition absent, and the replayed publish restores it; stale swap dirs are removed', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-dest-'));
    const root = path.join(out, 'features');
    const dest = new LocalDestination(root);
    const part = 'dt=2025-03-07/underlying=SPY/window=5m';
    await write(dest, `${part}/${segmentFileName('features', 5, 10n)}`, 'old', 0);
    const name = segmentFileName('features', 5, 500n, 1);
    // what a kill -9 after `rename(dir, old)` leaves: the old directory beside the root, none in place
    const swap = path.join(out, '.features.swap');
    fs.mkdirSync(path.join(swap, `${name}.next`), { recursive: true });
    fs.renameSync(path.join(root, part), path.join(swap, `${name}.old`));
    expect(fs.existsSync(path.join(root, part))).toBe(false);
    expect(await dest.discardStale('features+5+')).toBe(2);
    expect(await write(dest, `${part}/${name}`, 'new', 1)).toBe('published');
    expect(listing(path.join(root, part))).toEqual([name]);
    expect(listing(swap)).toEqual([]);
    fs.rmSync(out, { recursive: true, force: true });
  });
});

describe('segment layout and generations', () => {
  it('file names carry the generation above 0; other names have none', () => {
    expect(generationOfFile(segmentFileName('t', 0, 7n))).toBe(0);
    expect(generationOfFile(segmentFileName('option.trades.enriched', 3, 7n, 12))).toBe(12);
    expect(generationOfFile('.t+0+00000000000000000007.parquet.123.tmp')).toBeUndefined();
    expect(generationOfFile('_manifest.json')).toBeUndefined();
  });

  it('a segment holds one generation: a record of another generation seals it first', () => {
    const limits = { maxRecords: 100, maxBytes: 1 << 20, maxSpanNs: 10n ** 12n };
    const stats = emptyStats();
    const t = 1741357800000000000n;
    const day = '2025-03-07';
    expect(sealBefore(stats, 10, t, day, limits, 1)).toBe(false);
    addToStats(stats, 10, t, day, 0);
    expect(sealBefore(stats, 10, t + 1n, day, limits, 0)).toBe(false);
    expect(sealBefore(stats, 10, t + 1n, day, limits, 1)).toBe(true);
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalDestination } from '../../../src/sinks/parquet/destination';

describe('LocalDestination', () => {
  it('publishes by rename and removes only the stale staging files of the given topic and partition', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-dest-'));
    const dest = new LocalDestination(root);
    const rel = 'dt=2025-03-07/underlying=SPY/equity.trades+0+00000000000000000700.parquet';
    const staging = await dest.stagingPath(rel);
    expect(path.basename(staging).startsWith('.equity.trades+0+')).toBe(true);
    fs.writeFileSync(staging, 'complete file');
    await dest.publish(staging, rel);
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
});

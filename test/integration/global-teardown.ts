import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/config';
import { LocalStack } from '../../src/stack/stack';

const STATE = path.join(__dirname, '..', '..', '.optflow', 'test-stack.json');

export default async function globalTeardown(): Promise<void> {
  if (fs.existsSync(STATE)) {
    const { startedByTests } = JSON.parse(fs.readFileSync(STATE, 'utf8')) as { startedByTests: boolean };
    fs.rmSync(STATE);
    if (startedByTests && !process.env.OPTFLOW_KEEP_STACK) await new LocalStack(loadConfig()).down();
  }
  const g = globalThis as { __optflowContainers?: { stop(): Promise<unknown> }[] };
  for (const c of g.__optflowContainers ?? []) await c.stop();
}

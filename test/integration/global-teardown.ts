import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/config';
import { LocalStack, ServiceName } from '../../src/stack/stack';

const STATE = path.join(__dirname, '..', '..', '.optflow', 'test-stack.json');

export default async function globalTeardown(): Promise<void> {
  if (fs.existsSync(STATE)) {
    const { started = [] } = JSON.parse(fs.readFileSync(STATE, 'utf8')) as { started?: ServiceName[] };
    fs.rmSync(STATE);
    if (started.length > 0 && !process.env.OPTFLOW_KEEP_STACK) await new LocalStack(loadConfig()).down(started);
  }
  const g = globalThis as { __optflowContainers?: { stop(): Promise<unknown> }[] };
  for (const c of g.__optflowContainers ?? []) await c.stop();
}

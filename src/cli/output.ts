import { once } from 'node:events';

/** Writes with backpressure; the CLI exits right after the command returns, so nothing may stay queued. */
export async function out(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

export function flushStdout(): Promise<void> {
  return new Promise((resolve) => process.stdout.write('', () => resolve()));
}

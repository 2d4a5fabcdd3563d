import { existsSync } from 'node:fs';

/**
 * A worker thread's compiled script: the first of `candidates` that exists (beside the calling module
 * when it runs compiled; under ts-jest, where that module is .ts, the build's copy).
 */
export function workerScript(candidates: readonly string[]): string {
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) throw new Error(`worker script not found at ${candidates.join(' or ')} (run npm run build)`);
  return found;
}

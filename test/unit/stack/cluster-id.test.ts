import { newClusterId } from '../../../src/stack/stack';

/** Regression: a fresh stack home failed to format 1 time in 64 (CI, stack.test.ts): its id began with '-'. */
describe('newClusterId', () => {
  it('draws again when the id would start with "-" (kafka-storage reads that as a flag)', () => {
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)];
    const id = newClusterId(() => draws.shift()!);
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(id).toBe(Buffer.alloc(16, 0x01).toString('base64url'));
    expect(draws).toHaveLength(0);
  });

  it('is 22 base64url characters', () => {
    for (let i = 0; i < 200; i++) expect(newClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});

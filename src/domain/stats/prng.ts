/**
 * Seeded PRNG for the opt-in bootstrap p-value, so that a replay of a window gives bit-identical
 * output (DESIGN 5.3). Generator: xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/),
 * 32-bit state words, with doubles made from 53 bits of two successive outputs.
 * Seed: the first 16 bytes of SHA-256 over the UTF-8 of the seed parts joined by NUL, read as four
 * little-endian uint32 state words.
 */
import { createHash } from 'node:crypto';

export class Xoshiro128ss {
  private readonly s: Uint32Array;

  constructor(state: ArrayLike<number>) {
    this.s = Uint32Array.from(state);
    if (this.s.length !== 4 || this.s.every((w) => w === 0)) throw new RangeError('xoshiro128** needs 4 state words, not all zero');
  }

  static fromParts(...parts: string[]): Xoshiro128ss {
    const digest = createHash('sha256').update(parts.join('\u0000'), 'utf8').digest();
    return new Xoshiro128ss([0, 4, 8, 12].map((o) => digest.readUInt32LE(o)));
  }

  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Seeded, bounded input mutation for the boundary fuzz tests (issue 16). Every mutation is drawn from
 * one xoshiro128** stream, so a failing case is reproduced by its seed and index alone.
 */
import { Xoshiro128ss } from '../../../src/domain/stats/prng';

export class Fuzz {
  private readonly rng: Xoshiro128ss;

  constructor(seed: string) {
    this.rng = Xoshiro128ss.fromParts('optflow-fuzz', seed);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.rng.nextDouble() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chance(p: number): boolean {
    return this.rng.nextDouble() < p;
  }

  digits(n: number): string {
    let s = String(1 + this.int(9));
    while (s.length < n) s += String(this.int(10));
    return s;
  }
}

/** Numbers at and beyond the edges of double, int32 and int64 (as text). */
export const HUGE_NUMBERS: readonly string[] = [
  '9223372036854775807', '9223372036854775808', '9999999999999999999', '18446744073709551616',
  '-9223372036854775809', '2147483648', '-2147483649', '1e308', '1e309', '-1e309', '179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000.5',
  '0.0000000000000000000000000000000000000000000000001', '-0', '00000000000000000000001', 'NaN', 'Infinity', '0x10', '1_000',
];

/** Bytes that are not valid UTF-8 on their own (lone continuation, overlong lead, invalid lead). */
export const NON_UTF8: readonly number[][] = [[0xff], [0xfe, 0xff], [0xc3], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];

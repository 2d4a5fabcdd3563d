/**
 * Per-stream sequence checks (DESIGN 2): a stream is an event type + symbol (`T.SPY`). A `q` more
 * than one past the last seen is a gap of the numbers skipped; a `q` at or below the last seen is a
 * regression (duplicate or reordering). State survives reconnects, so events missed while the
 * socket was down show up as gaps.
 */

export type SequenceVerdict = { kind: 'first' } | { kind: 'next' } | { kind: 'gap'; missing: bigint } | { kind: 'regression' };

export class SequenceTracker {
  private readonly last = new Map<string, bigint>();
  gaps = 0;
  missing = 0n;
  regressions = 0;

  observe(stream: string, sequence: bigint | null): SequenceVerdict {
    if (sequence === null) return { kind: 'next' };
    const previous = this.last.get(stream);
    if (previous === undefined) {
      this.last.set(stream, sequence);
      return { kind: 'first' };
    }
    if (sequence <= previous) {
      this.regressions++;
      return { kind: 'regression' };
    }
    this.last.set(stream, sequence);
    if (sequence === previous + 1n) return { kind: 'next' };
    const missing = sequence - previous - 1n;
    this.gaps++;
    this.missing += missing;
    return { kind: 'gap', missing };
  }

  get streams(): number {
    return this.last.size;
  }
}

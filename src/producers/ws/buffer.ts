/**
 * Bounded FIFO between the socket reader and the Kafka producer. push never blocks: when full, the
 * new item is dropped and counted, so a slow broker costs data (visible) rather than stalling the
 * socket until the server disconnects us.
 */
export class BoundedBuffer<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;
  dropped = 0;
  private waiter: (() => void) | null = null;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new Error(`buffer capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** false (and counted) when full. */
  push(item: T): boolean {
    if (this.count === this.capacity) {
      this.dropped++;
      return false;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
    const w = this.waiter;
    this.waiter = null;
    w?.();
    return true;
  }

  /** Removes and returns up to `max` items, oldest first. */
  take(max: number): T[] {
    const n = Math.min(max, this.count);
    const out: T[] = new Array<T>(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.items[this.head] as T;
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.count -= n;
    return out;
  }

  /** Resolves when an item is pushed (at once if any is waiting) or after `timeoutMs`. One waiter at a time. */
  wait(timeoutMs: number): Promise<void> {
    if (this.count > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve();
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Wakes a pending wait() without an item (shutdown). */
  wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

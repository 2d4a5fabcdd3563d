/**
 * Re-publication dedupe. Each emitted item gets a 64-bit hash of its dedupe key (DESIGN 3:
 * ticker, sip_timestamp, sequence/id, price, size; quotes: both sides instead of price/size; dead
 * letters: reason + raw line). The hashes of every committed chunk go to `_optflow.flatfile.hashes`
 * in the chunk's transaction. A new generation loads the earlier generations' hashes as a MULTISET
 * and emits an item only once its hash has occurred more often in the new file than before, so
 * legitimately identical prints (same contract, ns, price and size) keep their multiplicity.
 */
import type { MarketRecord } from '../parse/normalise';

/**
 * Two independent 32-bit multiplicative hashes over UTF-16 code units (murmur3 finaliser), fed one unit
 * at a time: `hash64` feeds a string's; the byte-level row writers (byte-rows.ts) feed a line's ASCII
 * bytes, which are the same units, without making the string. The length comes first.
 */
export class Hash64 {
  private h1 = 0;
  private h2 = 0;

  begin(length: number): this {
    this.h1 = 0x9747b28c ^ length;
    this.h2 = 0x85ebca6b ^ length;
    return this;
  }

  unit(c: number): void {
    const h1 = Math.imul(this.h1 ^ c, 0x5bd1e995);
    this.h1 = h1 ^ (h1 >>> 15);
    const h2 = Math.imul(this.h2 ^ c, 0x27d4eb2f);
    this.h2 = (h2 << 13) | (h2 >>> 19);
  }

  /** `unit` of each byte, with the state in locals (a field store per byte was a seventh of a row's writing). */
  bytes(buf: Uint8Array, start: number, end: number): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = start; i < end; i++) {
      const c = buf[i];
      const a = Math.imul(h1 ^ c, 0x5bd1e995);
      h1 = a ^ (a >>> 15);
      const b = Math.imul(h2 ^ c, 0x27d4eb2f);
      h2 = (b << 13) | (b >>> 19);
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  get hi(): number {
    return fmix32(this.h1) >>> 0;
  }

  get lo(): number {
    return fmix32(this.h2 ^ this.h1) >>> 0;
  }
}

const scratch = new Hash64();

export function hash64(text: string): [number, number] {
  const hash = scratch.begin(text.length);
  for (let i = 0; i < text.length; i++) hash.unit(text.charCodeAt(i));
  return [hash.hi, hash.lo];
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function text(v: bigint | number | string | null): string {
  return v === null ? '' : String(v);
}

/** The dedupe key of a market record as text. */
export function dedupeKey(r: MarketRecord): string {
  if ('price' in r) {
    const seqOrId = r.sequence_number !== null ? text(r.sequence_number) : 'id' in r ? text(r.id) : '';
    return `T|${r.ticker}|${r.sip_timestamp}|${seqOrId}|${r.price}|${r.size}`;
  }
  return `Q|${r.ticker}|${r.sip_timestamp}|${text(r.sequence_number)}|${text(r.bid_price)}|${text(r.bid_size)}|${text(r.ask_price)}|${text(r.ask_size)}`;
}

export function deadLetterKey(reason: string, raw: string): string {
  return `D|${reason}|${raw}`;
}

/** Hashes per message of the hashes topic: 512 KiB, under the broker's default 1 MiB message limit whatever transaction_records is. */
const HASHES_PER_MESSAGE = 65_536;

/**
 * A transaction's hashes as they are added, (hi, lo) as big-endian uint32s (HashMultiset.addPacked
 * reads them back), taken as messages of at most HASHES_PER_MESSAGE hashes. Written once into one
 * buffer, where a number array and a second pass cost the real day's merge about a second.
 */
export class PackedHashes {
  private buf = Buffer.allocUnsafe(8 * 1024);
  private length = 0;

  get size(): number {
    return this.length / 8;
  }

  push(hi: number, lo: number): void {
    if (this.length + 8 > this.buf.length) {
      const grown = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    const buf = this.buf;
    const at = this.length;
    buf[at] = hi >>> 24;
    buf[at + 1] = hi >>> 16;
    buf[at + 2] = hi >>> 8;
    buf[at + 3] = hi;
    buf[at + 4] = lo >>> 24;
    buf[at + 5] = lo >>> 16;
    buf[at + 6] = lo >>> 8;
    buf[at + 7] = lo;
    this.length = at + 8;
  }

  messages(): Buffer[] {
    const messages: Buffer[] = [];
    for (let from = 0; from < this.length; from += 8 * HASHES_PER_MESSAGE) messages.push(Buffer.from(this.buf.subarray(from, Math.min(this.length, from + 8 * HASHES_PER_MESSAGE))));
    return messages;
  }
}

/** Open-addressing multiset of 64-bit hashes held as (hi, lo) uint32 pairs; count 0 marks an empty slot. */
export class HashMultiset {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private counts: Uint32Array;
  private used = 0;
  private total = 0;

  constructor(capacityHint = 1024) {
    let cap = 1024;
    while (cap < capacityHint * 2) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.counts = new Uint32Array(cap);
  }

  /** Number of hashes added (with multiplicity). */
  get size(): number {
    return this.total;
  }

  add(hi: number, lo: number): void {
    if ((this.used + 1) * 2 > this.hi.length) this.grow();
    const slot = this.slotOf(hi, lo);
    if (this.counts[slot] === 0) this.used++;
    this.counts[slot]++;
    this.total++;
  }

  count(hi: number, lo: number): number {
    return this.counts[this.slotOf(hi, lo)];
  }

  /** Adds the 8-byte big-endian hashes packed in `buf`. */
  addPacked(buf: Buffer): void {
    for (let i = 0; i + 8 <= buf.length; i += 8) this.add(buf.readUInt32BE(i), buf.readUInt32BE(i + 4));
  }

  *entries(): Generator<[number, number, number]> {
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i] > 0) yield [this.hi[i], this.lo[i], this.counts[i]];
  }

  /** The slot holding (hi, lo), or the empty slot where it would go (claimed for it). */
  private slotOf(hi: number, lo: number): number {
    const mask = this.hi.length - 1;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    while (this.counts[slot] !== 0 && (this.hi[slot] !== hi || this.lo[slot] !== lo)) slot = (slot + 1) & mask;
    this.hi[slot] = hi;
    this.lo[slot] = lo;
    return slot;
  }

  private grow(): void {
    const { hi, lo, counts } = this;
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(lo.length * 2);
    this.counts = new Uint32Array(counts.length * 2);
    for (let i = 0; i < hi.length; i++) {
      if (counts[i] === 0) continue;
      const slot = this.slotOf(hi[i], lo[i]);
      this.counts[slot] = counts[i];
    }
  }
}

/**
 * Decides, item by item in sequence order, whether a new generation emits it: the n-th occurrence
 * of a hash in the new file is emitted only when earlier generations emitted fewer than n.
 */
export class RepublishFilter {
  private readonly seen = new HashMultiset();

  constructor(private readonly prior: HashMultiset) {}

  isNew(hi: number, lo: number): boolean {
    this.seen.add(hi, lo);
    return this.seen.count(hi, lo) > this.prior.count(hi, lo);
  }

  /** Items earlier generations emitted that the new file no longer contains (they stay downstream). */
  vanished(): number {
    let n = 0;
    for (const [hi, lo, count] of this.prior.entries()) n += Math.max(0, count - this.seen.count(hi, lo));
    return n;
  }
}

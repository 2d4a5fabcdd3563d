/**
 * A record as the day's sort, merge and transactions carry it: encoded once, when its file is read.
 * It holds its sort key, what quote reduction decides by, its dedupe hash and its Kafka value in
 * the Confluent wire format. The produce phase only merges and sends bytes: no Avro decode of the
 * spilled runs and no second encode (together a third of the producer's time before).
 */
import type { Type } from 'avsc';
import { wireHeader } from '../../../avro/serde';
import { decodeAvro, encodeAvro, typeOf } from '../../../avro/types';
import type { Dataset } from '../datasets';
import { dedupeKey, hash64 } from '../ingest/dedupe';
import { recordKey, type MarketRecord } from '../parse/normalise';
import type { RecordCodec, SortKey } from '../sort/order';
import { utf8Text } from '../../../util/short-strings';

export interface EncodedRecord extends SortKey {
  /** Contract (options) or ticker (stocks). */
  ticker: string;
  /** The Kafka value, wire header included. */
  value: Buffer;
  /** 64-bit hash of the dedupe key (dedupe.ts), as two uint32. */
  hashHi: number;
  hashLo: number;
}

/** The Kafka value of a record. */
export type ValueEncoder = (record: MarketRecord) => Buffer;

export function encodeRecord(record: MarketRecord, encodeValue: ValueEncoder): EncodedRecord {
  const [hashHi, hashLo] = hash64(dedupeKey(record));
  const time = record.sip_timestamp;
  return {
    group: recordKey(record), time, roughTime: Number(time), seq: record.sequence_number,
    ticker: record.ticker, value: encodeValue(record), hashHi, hashLo,
  };
}

/**
 * Spill frame: time i64, has-seq u8, seq i64, hashHi u32, hashLo u32, group and ticker (u16 length +
 * UTF-8 each), then the value to the end of the frame. The offsets inside a frame payload:
 */
export const FRAME = { TIME: 0, HAS_SEQ: 8, SEQ: 9, HASH_HI: 17, HASH_LO: 21, GROUP_LENGTH: 25, GROUP: 27 } as const;
const FIXED = FRAME.GROUP_LENGTH;

/**
 * Number(time) from the time's two 32-bit halves, without making the bigint: hi·2³² is exact, so the
 * sum's one rounding is Number's (event times are positive). Compared before the exact time, it keeps
 * the exact order.
 */
export function roughTime(hi: number, lo: number): number {
  return hi * 0x1_0000_0000 + lo;
}

/** Bytes of `r`'s spill frame payload. */
export function encodedSize(r: EncodedRecord): number {
  const tickerBytes = r.ticker === r.group ? 0 : Buffer.byteLength(r.ticker, 'utf8');
  return FIXED + 2 + Buffer.byteLength(r.group, 'utf8') + 2 + tickerBytes + r.value.length;
}

const int64 = new BigInt64Array(1);
const halves = new Uint32Array(int64.buffer);

/** A 64-bit value's two 32-bit halves (lo at 0, hi at 1) without bigint arithmetic (which allocates); valid until the next call. */
export function halvesOf(value: bigint): Uint32Array {
  int64[0] = value;
  return halves;
}

/** The non-negative 64-bit value whose 32-bit halves are hi and lo (the inverse of halvesOf for times). */
export function fromHalves(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function writeInt64(value: bigint, out: Buffer, pos: number): void {
  const h = halvesOf(value);
  out.writeUInt32LE(h[0], pos);
  out.writeUInt32LE(h[1], pos + 4);
}

/**
 * The frame payload's key part (everything before the value) at `pos`; returns the position after
 * it. Positional, so the row encoder's hot path makes no object for it.
 */
function writeFrameHead(out: Buffer, pos: number, time: bigint, seq: bigint | null, hashHi: number, hashLo: number, group: string, ticker: string): number {
  writeInt64(time, out, pos + FRAME.TIME);
  out[pos + FRAME.HAS_SEQ] = seq === null ? 0 : 1;
  writeInt64(seq ?? 0n, out, pos + FRAME.SEQ);
  out.writeUInt32LE(hashHi, pos + FRAME.HASH_HI);
  out.writeUInt32LE(hashLo, pos + FRAME.HASH_LO);
  pos += FIXED;
  const groupBytes = out.write(group, pos + 2, 'utf8');
  out.writeUInt16LE(groupBytes, pos);
  pos += 2 + groupBytes;
  // A stock's ticker is its group: stored once, length 0xffff marks it.
  if (ticker === group) {
    out.writeUInt16LE(0xffff, pos);
    return pos + 2;
  }
  const tickerBytes = out.write(ticker, pos + 2, 'utf8');
  out.writeUInt16LE(tickerBytes, pos);
  return pos + 2 + tickerBytes;
}

/** Writes `r`'s frame payload at `pos`; returns the position after it. */
export function writeEncoded(r: EncodedRecord, out: Buffer, pos: number): number {
  const valueAt = writeFrameHead(out, pos, r.time, r.seq, r.hashHi, r.hashLo, r.group, r.ticker);
  return valueAt + r.value.copy(out, valueAt);
}

/**
 * A frame read back (sort, spill, merge), for the produce phase: what every record needs (its key,
 * rough time, hash and value) is read at once; its ticker, exact time and sequence, which only quote
 * reduction, ties of the merge and markers ask for, when asked. Two million records a file made the
 * eager strings and bigints a third of the produce phase's own work, with their GC.
 */
class FrameRecord implements EncodedRecord {
  readonly roughTime: number;
  readonly hashHi: number;
  readonly hashLo: number;
  private tickerText: string | null = null;

  /** The frame is `block[at, end)`, its value from `valueAt` (no view of either is made). */
  constructor(readonly block: Buffer, private readonly at: number, readonly group: string, private readonly tickerAt: number, readonly valueAt: number, readonly end: number) {
    this.roughTime = roughTime(block.readUInt32LE(at + FRAME.TIME + 4), block.readUInt32LE(at + FRAME.TIME));
    this.hashHi = block.readUInt32LE(at + FRAME.HASH_HI);
    this.hashLo = block.readUInt32LE(at + FRAME.HASH_LO);
  }

  /** A view of the value, made when asked: the produce phase copies it from the block instead (copyValue). */
  get value(): Buffer {
    return this.block.subarray(this.valueAt, this.end);
  }

  get time(): bigint {
    return this.block.readBigInt64LE(this.at + FRAME.TIME);
  }

  get seq(): bigint | null {
    return this.block[this.at + FRAME.HAS_SEQ] === 1 ? this.block.readBigInt64LE(this.at + FRAME.SEQ) : null;
  }

  get ticker(): string {
    if (this.tickerText === null) {
      const length = this.block.readUInt16LE(this.tickerAt);
      this.tickerText = length === 0xffff ? this.group : this.block.toString('utf8', this.tickerAt + 2, this.tickerAt + 2 + length);
    }
    return this.tickerText;
  }
}

/** The frame payload `block[start, end)`; its value is read from `block` when asked. */
function decodeFrameAt(block: Buffer, start: number, end: number): EncodedRecord {
  const groupBytes = block.readUInt16LE(start + FRAME.GROUP_LENGTH);
  const group = utf8Text(block, start + FRAME.GROUP, groupBytes);
  const tickerAt = start + FRAME.GROUP + groupBytes;
  const tickerBytes = block.readUInt16LE(tickerAt);
  const valueAt = tickerAt + 2 + (tickerBytes === 0xffff ? 0 : tickerBytes);
  return new FrameRecord(block, start, group, tickerAt, valueAt, end);
}

/** Bytes of `r`'s value. */
export function valueLength(r: EncodedRecord): number {
  return r instanceof FrameRecord ? r.end - r.valueAt : r.value.length;
}

/** Copies `r`'s value into `out` at `pos` (a merged frame's straight from its block, with no view of it made). */
export function copyValue(r: EncodedRecord, out: Buffer, pos: number): void {
  if (r instanceof FrameRecord) r.block.copy(out, pos, r.valueAt, r.end);
  else out.set(r.value, pos);
}

export const encodedRecordCodec: Required<RecordCodec<EncodedRecord>> = {
  encode(r: EncodedRecord): Buffer {
    const out = Buffer.allocUnsafe(encodedSize(r));
    writeEncoded(r, out, 0);
    return out;
  },

  /** The value is a view of `bytes`, not a copy. */
  decode(bytes: Buffer): EncodedRecord {
    return decodeFrameAt(bytes, 0, bytes.length);
  },

  decodeAt: decodeFrameAt,
};

/**
 * A dataset's values in the Confluent wire format under `schemaId` (what its topic's serde writes),
 * and back. Schema id 0 stands in for a registry in tests and the day bench's pure core.
 */
export function datasetValues(dataset: Dataset, schemaId = 0): { encode: ValueEncoder; decode(value: Buffer): MarketRecord } {
  const type = typeOf(dataset.kind);
  const header = wireHeader(schemaId);
  return {
    encode: (record) => encodeAvro(type, record, header),
    decode: (value) => decodeAvro(type, value, header.length) as MarketRecord,
  };
}

/**
 * Records as one buffer of u32-length-prefixed frames (how a worker hands its batch back). The
 * buffer owns its memory (never a slice of Node's shared pool), so it can be transferred.
 */
export function packEncoded(records: readonly EncodedRecord[]): Buffer {
  let total = 0;
  for (const r of records) total += 4 + encodedSize(r);
  const out = Buffer.allocUnsafeSlow(total);
  let pos = 0;
  for (const r of records) {
    const end = writeEncoded(r, out, pos + 4);
    out.writeUInt32LE(end - pos - 4, pos);
    pos = end;
  }
  return out;
}

/** The records of `packEncoded`; their values are views of `packed`. */
export function unpackEncoded(packed: Buffer): EncodedRecord[] {
  const records: EncodedRecord[] = [];
  for (let pos = 0; pos < packed.length; ) {
    const length = packed.readUInt32LE(pos);
    records.push(encodedRecordCodec.decodeAt(packed, pos + 4, pos + 4 + length));
    pos += 4 + length;
  }
  return records;
}


/**
 * Writes records straight into one buffer of packed frames (`packEncoded`'s bytes for
 * `encodeRecord`'s records), with no object or Buffer per record: how a file's rows are encoded.
 */
export class FrameWriter {
  private buf = Buffer.allocUnsafeSlow(1 << 20);
  private pos = 0;
  private readonly type: Type;
  /** The values' wire header (magic byte and schema id). */
  readonly header: Buffer;
  count = 0;

  constructor(dataset: Dataset, schemaId: number) {
    this.type = typeOf(dataset.kind);
    this.header = wireHeader(schemaId);
  }

  add(record: MarketRecord): void {
    for (;;) {
      const end = this.write(record, this.pos);
      if (end >= 0) {
        this.pos = end;
        this.count++;
        return;
      }
      this.grow();
    }
  }

  private grow(): void {
    const grown = Buffer.allocUnsafeSlow(this.buf.length * 2);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** Where the next frame starts in `reserve`'s buffer. */
  get position(): number {
    return this.pos;
  }

  /** The buffer, with room for `bytes` more from `position`: for a writer of its own frames (byte-rows.ts), which then `commit`s. */
  reserve(bytes: number): Buffer {
    while (this.pos + bytes > this.buf.length) this.grow();
    return this.buf;
  }

  /** One frame written from `position` up to `end`. */
  commit(end: number): void {
    this.pos = end;
    this.count++;
  }

  /** Takes back the last frame written, which starts at `position` (quote-reduction.ts BatchReadAhead). */
  dropLast(position: number): void {
    this.pos = position;
    this.count--;
  }

  /** The frames written since the last take, in a buffer of their own (transferable). */
  take(): Buffer {
    const out = this.copyOut(0, this.pos);
    this.pos = 0;
    this.count = 0;
    return out;
  }

  /** The frames written since the last take, those before `at` and those from `at` on, each in a buffer of its own. */
  takeSplit(at: number): [Buffer, Buffer] {
    const after = this.copyOut(at, this.pos);
    this.pos = at;
    return [this.take(), after];
  }

  private copyOut(from: number, to: number): Buffer {
    const out = Buffer.allocUnsafeSlow(to - from);
    this.buf.copy(out, 0, from, to);
    return out;
  }

  /** The frame's end, or -1 when the buffer is too small for it. */
  private write(record: MarketRecord, start: number): number {
    const buf = this.buf;
    const group = recordKey(record);
    const ticker = record.ticker;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; Buffer.write truncates silently, so room is checked first.
    let pos = start + 4;
    if (pos + FIXED + 4 + 3 * (group.length + ticker.length) + this.header.length > buf.length) return -1;
    const [hashHi, hashLo] = hash64(dedupeKey(record));
    pos = writeFrameHead(buf, pos, record.sip_timestamp, record.sequence_number, hashHi, hashLo, group, ticker);
    pos += this.header.copy(buf, pos);
    const end = this.type.encode(record, buf, pos);
    if (end < 0) return -1;
    buf.writeUInt32LE(end - start - 4, start);
    return end;
  }
}

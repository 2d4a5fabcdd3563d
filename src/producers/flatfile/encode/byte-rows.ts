/**
 * Rows of Massive's usual shape written straight from the line's bytes into their spill frame
 * (encoded.ts), with no field strings, bigints or record object: the parser's way spent most of a
 * worker's time making those for a frame that holds none of them. A row qualifies when every field is
 * plain and canonical (row-fields.ts); any other row is left to the parser (`row` returns false), which
 * also makes every rejection. The frames are byte for byte the parser's
 * (test/unit/flatfile/byte-rows.test.ts). One subclass per dataset: equity-trade-rows.ts,
 * option-trade-rows.ts, quote-rows.ts (stock and option quotes).
 */
import { writeZigzag64 } from '../../../avro/types';
import { FRAME, fromHalves, type FrameWriter } from './encoded';
import { avroString, type RowKey } from './row-keys';
import { RowFields, writeVarint } from './row-fields';
import { Hash64 } from '../ingest/dedupe';
import type { ColumnIndex, ColumnName } from '../parse/columns';
import type { RowShortcut } from '../parse/flat-file-parser';

const BAR = 124;

/** The latest event time seen, as the two 32-bit halves of the ns count (hi = -1: none yet). */
export class LatestTime {
  hi = -1;
  lo = 0;

  observe(hi: number, lo: number): void {
    if (hi > this.hi || (hi === this.hi && lo > this.lo)) {
      this.hi = hi;
      this.lo = lo;
    }
  }

  /** The latest time, and forgets it. */
  take(): bigint | null {
    const latest = this.hi < 0 ? null : fromHalves(this.hi, this.lo);
    this.hi = -1;
    this.lo = 0;
    return latest;
  }
}

/**
 * The columns a writer reads, by its own names for them; null when a `required` one is missing. An
 * absent optional column reads the fields' always-empty slot, as the parser's getter reads ''.
 */
export function columnPositions<Required extends string, Optional extends string>(
  columns: ColumnIndex, required: Record<Required, ColumnName>, optional: Record<Optional, ColumnName>,
): Record<Required | Optional, number> | null {
  const positions: Record<string, number> = {};
  for (const [field, name] of Object.entries<ColumnName>(required)) {
    positions[field] = columns.indexOf(name);
    if (positions[field] < 0) return null;
  }
  for (const [field, name] of Object.entries<ColumnName>(optional)) {
    const at = columns.indexOf(name);
    positions[field] = at < 0 ? columns.fieldCount : at;
  }
  return positions as Record<Required | Optional, number>;
}

/** An optional timestamp column (empty or "0": none), read and written as its union. */
export class OptionalTime {
  /** -1: none. */
  private hi = -1;
  private lo = 0;

  constructor(private readonly column: number) {}

  /** false when the field is neither none nor a plain timestamp. */
  read(f: RowFields, buf: Buffer): boolean {
    if (f.isNoTime(buf, this.column)) {
      this.hi = -1;
      return true;
    }
    if (!f.timestamp(buf, this.column)) return false;
    this.hi = f.hi;
    this.lo = f.lo;
    return true;
  }

  write(out: Buffer, pos: number): number {
    if (this.hi < 0) {
      out[pos] = 0;
      return pos + 1;
    }
    out[pos] = 2;
    return writeZigzag64(out, pos + 1, this.hi, this.lo);
  }
}

export abstract class ByteRows implements RowShortcut {
  protected readonly fields: RowFields;
  protected readonly hash = new Hash64();
  private readonly header: Buffer;
  private readonly origin: Buffer;
  /** Set by `read`: the row's key, event time and sequence (-1: none). */
  protected key: RowKey | null = null;
  protected timeHi = 0;
  protected timeLo = 0;
  protected sequence = -1;
  private parts: KeyParts | null = null;

  protected constructor(fieldCount: number, origin: string, private readonly frames: FrameWriter, private readonly latest: LatestTime) {
    this.fields = new RowFields(fieldCount);
    this.origin = avroString(origin);
    this.header = frames.header;
  }

  row(buf: Buffer, start: number, end: number, lineNumber: number): boolean {
    if (!this.fields.split(buf, start, end) || !this.read(buf)) return false;
    const { timeHi, timeLo } = this; // admit may write a held row, which reads it again
    if (!this.admit(buf, start, end, lineNumber)) {
      this.latest.observe(timeHi, timeLo);
      return true;
    }
    return this.writeFrame(buf, start, end, lineNumber);
  }

  /** A row `admit` held, written now: it read once, so it reads the same again. */
  protected writeHeld(buf: Buffer, start: number, end: number, lineNumber: number): void {
    if (!this.fields.split(buf, start, end) || !this.read(buf) || !this.writeFrame(buf, start, end, lineNumber)) {
      throw new Error(`held line ${lineNumber} no longer reads as it did`);
    }
  }

  /** The frame of the row just read; false (nothing committed) when a field is not plain. */
  private writeFrame(buf: Buffer, start: number, end: number, lineNumber: number): boolean {
    const parts = this.partsOf(this.key!);
    const frameAt = this.frames.position;
    const out = this.frames.reserve(64 + parts.head.length + parts.lead.length + this.origin.length + 4 * (end - start));
    let pos = this.writeHead(out, frameAt + 4, buf, parts);
    out.set(parts.lead, pos);
    pos = this.writeFields(out, pos + parts.lead.length, buf);
    if (pos < 0) return false; // nothing committed: the parser takes the row
    out[pos++] = 0; // source: flatfile, the enum's first symbol
    out.set(this.origin, pos);
    pos = writeVarint(out, pos + this.origin.length, lineNumber);
    putUint32(out, frameAt, pos - frameAt - 4);
    this.frames.commit(pos);
    this.latest.observe(this.timeHi, this.timeLo);
    return true;
  }

  /** The frame's bytes that depend on the key alone, made once per run of one key (a file's rows come grouped by ticker). */
  private partsOf(key: RowKey): KeyParts {
    if (this.parts?.key !== key) this.parts = keyParts(key, this.header);
    return this.parts;
  }

  /** Reads the split row: its key, time, sequence and what `writeFields` needs; false when a field is not plain. */
  protected abstract read(buf: Buffer): boolean;

  /** dedupe.ts's hash64 of the row's `dedupeKey`, from `hash.begin` on, over the line's own bytes. */
  protected abstract hashKey(buf: Buffer, key: RowKey): void;

  /** The value's fields after the key's and before source, origin and offset; -1 when one is not plain. */
  protected abstract writeFields(out: Buffer, pos: number, buf: Buffer): number;

  /**
   * false: a valid row not written now, dropped (quote reduction) or held for a later `writeHeld`; it
   * counts toward the latest time all the same.
   */
  protected admit(_buf: Buffer, _start: number, _end: number, _lineNumber: number): boolean {
    return true;
  }

  /** The dedupe key `${kind}|ticker|…` of fields taken as they are in the line, after the ticker. */
  protected hashFields(kind: number, buf: Buffer, key: RowKey, columns: readonly number[]): void {
    let length = 2 + key.bytes.length;
    for (const column of columns) length += 1 + this.fields.width(column);
    const hash = this.hash.begin(length);
    hash.unit(kind);
    hash.unit(BAR);
    hash.bytes(key.bytes, 0, key.bytes.length);
    for (const column of columns) this.fields.hashField(hash, buf, column);
  }

  /** The sequence number as the union's branch and value. */
  protected writeSequence(out: Buffer, pos: number): number {
    if (this.sequence < 0) {
      out[pos] = 0;
      return pos + 1;
    }
    out[pos] = 2;
    return writeVarint(out, pos + 1, this.sequence);
  }

  /** Reads an optional sequence_number column; false when not plain. */
  protected readSequence(buf: Buffer, column: number): boolean {
    if (this.fields.isEmpty(column)) this.sequence = -1;
    else if (this.fields.canonicalInteger(buf, column, true)) this.sequence = this.fields.number;
    else return false;
    return true;
  }

  /** Reads the event time (sip_timestamp); false when not plain. */
  protected readTime(buf: Buffer, column: number): boolean {
    if (!this.fields.timestamp(buf, column)) return false;
    this.timeHi = this.fields.hi;
    this.timeLo = this.fields.lo;
    return true;
  }

  /** The frame's key part (encoded.ts writeFrameHead's bytes); returns where the value starts. */
  private writeHead(out: Buffer, head: number, buf: Buffer, parts: KeyParts): number {
    putUint32(out, head + FRAME.TIME, this.timeLo);
    putUint32(out, head + FRAME.TIME + 4, this.timeHi);
    const sequence = this.sequence;
    out[head + FRAME.HAS_SEQ] = sequence < 0 ? 0 : 1;
    putUint32(out, head + FRAME.SEQ, sequence < 0 ? 0 : sequence % 0x1_0000_0000);
    putUint32(out, head + FRAME.SEQ + 4, sequence < 0 ? 0 : Math.floor(sequence / 0x1_0000_0000));
    this.hashKey(buf, parts.key);
    putUint32(out, head + FRAME.HASH_HI, this.hash.hi);
    putUint32(out, head + FRAME.HASH_LO, this.hash.lo);
    out.set(parts.head, head + FRAME.GROUP_LENGTH);
    return head + FRAME.GROUP_LENGTH + parts.head.length;
  }
}

/**
 * A key's fixed bytes: `head` its group and ticker with their u16 lengths (a stock's ticker is its
 * group: stored once, length 0xffff), `lead` the wire header and the value's leading fields. Copied
 * as two pieces, where a row was five copies (Buffer.copy's own checks cost more than the bytes).
 */
interface KeyParts {
  key: RowKey;
  head: Buffer;
  lead: Buffer;
}

function keyParts(key: RowKey, header: Buffer): KeyParts {
  const ticker = key.group === key.bytes ? Buffer.alloc(0) : key.bytes;
  const head = Buffer.alloc(4 + key.group.length + ticker.length);
  head.writeUInt16LE(key.group.length, 0);
  key.group.copy(head, 2);
  head.writeUInt16LE(key.group === key.bytes ? 0xffff : ticker.length, 2 + key.group.length);
  ticker.copy(head, 4 + key.group.length);
  return { key, head, lead: Buffer.concat([header, key.avro]) };
}

/** `value` as a little-endian uint32 at `pos`, without writeUInt32LE's argument checks (the values are ours). */
function putUint32(out: Buffer, pos: number, value: number): void {
  out[pos] = value;
  out[pos + 1] = value >>> 8;
  out[pos + 2] = value >>> 16;
  out[pos + 3] = value >>> 24;
}

import * as avro from 'avsc';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { MAGIC_BYTE } from '../avro/serde';
import { WATERMARK_HEADER } from '../kafka/markers';
import { RawRecord } from './reader';

/**
 * A record as a person or a script reads it: the value decoded with the writer's schema, found in the
 * registry by the id in the Confluent wire header (so any topic decodes, whatever its schema), with
 * longs exact (ns timestamps). Watermark markers and undecodable values are shown, never dropped.
 */

export interface DecodedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: string;
  key: string | null;
  /** The value's schema name, e.g. optflow.ops.DeadLetter. */
  schema?: string;
  value: unknown;
  /** A producer's watermark marker (event time, ns). */
  watermark?: bigint;
  /** Why the value could not be decoded. */
  error?: string;
}

export class RecordDecoder {
  private readonly types = new Map<number, Promise<avro.Type>>();

  constructor(private readonly registry: SchemaRegistry) {}

  async decode(raw: RawRecord): Promise<DecodedRecord> {
    const base = { topic: raw.topic, partition: raw.partition, offset: raw.offset, timestamp: new Date(raw.timestampMs).toISOString(), key: raw.key };
    const marker = raw.headers[WATERMARK_HEADER];
    if (marker !== undefined && (!raw.value || raw.value.length === 0)) return { ...base, value: null, watermark: BigInt(marker) };
    if (!raw.value || raw.value.length === 0) return { ...base, value: null };
    if (raw.value.length < 5 || raw.value.readUInt8(0) !== MAGIC_BYTE) return { ...base, ...plainValue(raw.value) };
    const id = raw.value.readUInt32BE(1);
    try {
      const type = await this.typeOf(id);
      return { ...base, schema: type.name, value: type.fromBuffer(raw.value.subarray(5)) };
    } catch (err) {
      return { ...base, value: bytesValue(raw.value), error: `schema id ${id}: ${(err as Error).message}` };
    }
  }

  private typeOf(id: number): Promise<avro.Type> {
    let type = this.types.get(id);
    if (!type) {
      // The registry client parses with the project's Avro options: longs are bigint.
      type = this.registry.getSchema(id) as unknown as Promise<avro.Type>;
      this.types.set(id, type);
    }
    return type;
  }
}

/** A value outside the wire format: JSON (the producers' checkpoints) is shown parsed, anything else as bytes. */
function plainValue(buffer: Buffer): Pick<DecodedRecord, 'schema' | 'value' | 'error'> {
  const value = bytesValue(buffer);
  if (typeof value === 'string' && /^\s*[[{]/.test(value)) {
    try {
      return { schema: 'json', value: JSON.parse(value) as unknown };
    } catch {
      // not JSON after all
    }
  }
  return { value, error: 'not Confluent wire format' };
}

/** Text when the bytes are printable UTF-8 (dead letters' raw lines), else base64. */
export function bytesValue(buffer: Buffer): string | { base64: string } {
  const text = buffer.toString('utf8');
  const printable = Buffer.from(text, 'utf8').equals(buffer) && ![...text].some((c) => c.charCodeAt(0) < 9 || (c.charCodeAt(0) > 13 && c.charCodeAt(0) < 32));
  return printable ? text : { base64: buffer.toString('base64') };
}

const BIG = '\u0000big:';

/** One JSON line; bigints are written as exact JSON numbers (Python's json and jq keep all digits). */
export function toJsonLine(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${BIG}${v.toString()}`;
    if (Buffer.isBuffer(v)) return bytesValue(v);
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return bytesValue(Buffer.from((v as { data: number[] }).data));
    }
    return v;
  });
  return text.replace(/"\\u0000big:(-?\d+)"/g, '$1');
}

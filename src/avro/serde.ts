import * as avro from 'avsc';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Config } from '../config';
import { registryAuth } from '../kafka/security';
import { compileProjectedReader, type ProjectedReader } from './projected-reader';
import { AVRO_OPTIONS, avroType, decodeAvro, encodeAvro, loadSchema, projection, SchemaName } from './types';

/**
 * Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro binary body.
 * Encoding uses the id registered for `<topic>-value`; decoding resolves the writer's schema (by id)
 * to the reader's, so BACKWARD-compatible evolution reads old records.
 */

export const MAGIC_BYTE = 0;

export type PoisonReason = 'empty_value' | 'bad_magic_byte' | 'unknown_schema_id' | 'undecodable_avro';

export class PoisonRecordError extends Error {
  constructor(
    readonly reason: PoisonReason,
    message: string,
  ) {
    super(message);
  }
}

export function subjectFor(topic: string): string {
  return `${topic}-value`;
}

/** A registry client; basic auth from SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO (see src/kafka/security.ts). */
export function createRegistry(registry: string | Config['schema_registry'], env: NodeJS.ProcessEnv = process.env): SchemaRegistry {
  const settings = typeof registry === 'string' ? { url: registry } : registry;
  const auth = registryAuth(typeof registry === 'string' ? undefined : { schema_registry: registry }, env);
  return new SchemaRegistry({ host: settings.url, retry: { retries: 5 }, ...(auth ? { auth: { username: auth.username, password: auth.password } } : {}) }, { [SchemaType.AVRO]: AVRO_OPTIONS });
}

export function wireHeader(schemaId: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeUInt32BE(schemaId, 1);
  return header;
}

/** The writer's schema id from the Confluent wire header; poison when there is none. */
function writerSchemaId(buffer: Buffer | null): number {
  if (!buffer || buffer.length === 0) throw new PoisonRecordError('empty_value', 'record has no value');
  if (buffer.length < 5 || buffer.readUInt8(0) !== MAGIC_BYTE) {
    throw new PoisonRecordError('bad_magic_byte', `first byte is ${buffer.length ? buffer.readUInt8(0) : 'missing'}, expected ${MAGIC_BYTE}`);
  }
  return buffer.readUInt32BE(1);
}

export class TopicSerde<T> {
  private readonly resolvers = new Map<number, avro.Resolver>();
  private readonly header: Buffer;
  /** What values decode to: the schema, or the projection of it onto the fields read. */
  private readonly reader: avro.Type;
  /** From our own schema to a projection; undefined when values decode whole. */
  private readonly ownResolver: avro.Resolver | undefined;
  /** Values of our own schema, whole or projected, compiled (projected-reader.ts); null: avsc reads them. */
  private readonly ownReader: ProjectedReader | null;

  private constructor(
    private readonly registry: SchemaRegistry,
    readonly topic: string,
    readonly schemaId: number,
    readonly type: avro.Type,
    reader?: avro.Type,
  ) {
    this.header = wireHeader(schemaId);
    this.reader = reader ?? type;
    this.ownResolver = reader ? reader.createResolver(type) : undefined;
    this.ownReader = compileProjectedReader(type, (this.reader as avro.types.RecordType).fields?.map((f) => f.name) ?? []);
  }

  /**
   * Registers the schema under `<topic>-value` (idempotent) and returns a serde bound to its id.
   * With `reads`, values decode to those fields only (`projection`): a consumer that reads four of
   * seventeen fields does not pay for building the rest. Encoding always writes the whole schema.
   */
  static async forTopic<T>(registry: SchemaRegistry, topic: string, schema: SchemaName, reads?: readonly string[]): Promise<TopicSerde<T>> {
    const { text, json } = loadSchema(schema);
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: text }, { subject: subjectFor(topic) });
    return new TopicSerde<T>(registry, topic, id, avroType(json), reads ? projection(schema, reads) : undefined);
  }

  encode(value: T): Buffer {
    return encodeAvro(this.type, value, this.header);
  }

  async decode(buffer: Buffer | null): Promise<T> {
    const id = writerSchemaId(buffer);
    return this.read(buffer!, id, await this.readerFor(id));
  }

  /**
   * The value, decoded without waiting when its writer's schema is known here (ours, or resolved
   * before); undefined when the registry must be asked first (then `decode`). Poison throws as in
   * `decode`. The processors' hot path: no promise per record.
   */
  decodeKnown(buffer: Buffer | null): T | undefined {
    const id = writerSchemaId(buffer);
    if (id === this.schemaId) return this.read(buffer!, id, this.ownResolver);
    const resolver = this.resolvers.get(id);
    return resolver ? this.read(buffer!, id, resolver) : undefined;
  }

  private read(buffer: Buffer, id: number, reader: avro.Resolver | undefined): T {
    try {
      // Our own schema: the resolver is ownResolver (undefined when whole); another version's never is.
      if (reader === this.ownResolver && this.ownReader !== null) return this.ownReader(buffer, 5) as T;
      return decodeAvro(this.reader, buffer, 5, reader) as T;
    } catch (err) {
      throw new PoisonRecordError('undecodable_avro', `schema id ${id}: ${(err as Error).message}`);
    }
  }

  /** The resolver from the writer's schema (undefined when it is ours and values decode whole). */
  private async readerFor(id: number): Promise<avro.Resolver | undefined> {
    if (id === this.schemaId) return this.ownResolver;
    let resolver = this.resolvers.get(id);
    if (!resolver) {
      let writer: avro.Type;
      try {
        writer = (await this.registry.getSchema(id)) as unknown as avro.Type;
      } catch (err) {
        throw new PoisonRecordError('unknown_schema_id', `schema id ${id} is not in the registry: ${(err as Error).message}`);
      }
      try {
        resolver = this.reader.createResolver(writer);
      } catch (err) {
        throw new PoisonRecordError('undecodable_avro', `schema id ${id} cannot be read as ${this.topic}: ${(err as Error).message}`);
      }
      this.resolvers.set(id, resolver);
    }
    return resolver;
  }
}

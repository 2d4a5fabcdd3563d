import * as avro from 'avsc';

/**
 * The registry's state, rebuilt from the `_schemas` log on start. Pure: every change is an event
 * (SchemaRegistered, ConfigSet, SubjectDeleted) applied in log order, so replay gives the same ids.
 */

export type Compatibility =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

export const COMPATIBILITY_LEVELS: readonly Compatibility[] = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
];

export type RegistryEvent =
  | { type: 'schema'; subject: string; version: number; id: number; schema: string }
  | { type: 'config'; subject: string | null; compatibility: Compatibility }
  | { type: 'delete-subject'; subject: string };

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
}

export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Whitespace- and key-order-insensitive identity of a schema, so the same schema keeps its id. */
export function canonicalSchema(schema: string): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, sortKeys(o[k])]),
      );
    }
    return v;
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(schema);
  } catch (err) {
    throw new RegistryError(422, 42201, `Invalid schema: ${(err as Error).message}`);
  }
  try {
    return JSON.stringify(sortKeys(parsed));
  } catch (err) {
    // nesting deeper than the stack (JSON.parse takes it, the recursion above does not)
    throw new RegistryError(422, 42201, `Invalid schema: ${(err as Error).message}`);
  }
}

function parseAvro(schema: string): avro.Type {
  try {
    return avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
  } catch (err) {
    throw new RegistryError(422, 42201, `Invalid schema: ${(err as Error).message}`);
  }
}

/** True when data written with `writer` can be read with `reader` (Avro schema resolution). */
export function canRead(reader: avro.Type, writer: avro.Type): boolean {
  try {
    reader.createResolver(writer);
    return true;
  } catch {
    return false;
  }
}

export function isCompatible(level: Compatibility, candidate: string, existing: string[]): boolean {
  if (level === 'NONE' || existing.length === 0) return true;
  const transitive = level.endsWith('_TRANSITIVE');
  const against = (transitive ? existing : existing.slice(-1)).map(parseAvro);
  const next = parseAvro(candidate);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  return against.every((prev) => (!backward || canRead(next, prev)) && (!forward || canRead(prev, next)));
}

export class RegistryState {
  private readonly idsBySchema = new Map<string, number>();
  private readonly schemasById = new Map<number, string>();
  private readonly subjects = new Map<string, SubjectVersion[]>();
  private readonly subjectConfig = new Map<string, Compatibility>();
  private globalCompatibility: Compatibility = 'BACKWARD';
  private maxId = 0;

  apply(event: RegistryEvent): void {
    switch (event.type) {
      case 'schema': {
        const canonical = canonicalSchema(event.schema);
        if (!this.schemasById.has(event.id)) this.schemasById.set(event.id, event.schema);
        if (!this.idsBySchema.has(canonical)) this.idsBySchema.set(canonical, event.id);
        this.maxId = Math.max(this.maxId, event.id);
        const versions = this.subjects.get(event.subject) ?? [];
        if (!versions.some((v) => v.version === event.version)) versions.push({ ...event });
        this.subjects.set(event.subject, versions);
        return;
      }
      case 'config':
        if (event.subject === null) this.globalCompatibility = event.compatibility;
        else this.subjectConfig.set(event.subject, event.compatibility);
        return;
      case 'delete-subject':
        this.subjects.delete(event.subject);
        this.subjectConfig.delete(event.subject);
        return;
    }
  }

  /** The event that registering `schema` under `subject` would append, or the existing version. */
  planRegistration(subject: string, schema: string): { existing: SubjectVersion } | { event: RegistryEvent } {
    parseAvro(schema);
    const canonical = canonicalSchema(schema);
    const versions = this.subjects.get(subject) ?? [];
    const existing = versions.find((v) => canonicalSchema(v.schema) === canonical);
    if (existing) return { existing };
    const level = this.compatibility(subject);
    if (
      !isCompatible(
        level,
        schema,
        versions.map((v) => v.schema),
      )
    ) {
      throw new RegistryError(
        409,
        409,
        `Schema being registered is incompatible with an earlier schema for subject "${subject}" (${level})`,
      );
    }
    const id = this.idsBySchema.get(canonical) ?? this.maxId + 1;
    const version = versions.length === 0 ? 1 : Math.max(...versions.map((v) => v.version)) + 1;
    return { event: { type: 'schema', subject, version, id, schema } };
  }

  schemaById(id: number): string {
    const schema = this.schemasById.get(id);
    if (schema === undefined) throw new RegistryError(404, 40403, `Schema ${id} not found`);
    return schema;
  }

  subjectNames(): string[] {
    return [...this.subjects.keys()].sort();
  }

  versions(subject: string): SubjectVersion[] {
    const versions = this.subjects.get(subject);
    if (!versions || versions.length === 0) throw new RegistryError(404, 40401, `Subject '${subject}' not found.`);
    return versions;
  }

  version(subject: string, version: string): SubjectVersion {
    const versions = this.versions(subject);
    if (version === 'latest' || version === '-1') return versions[versions.length - 1];
    const found = versions.find((v) => v.version === Number(version));
    if (!found) throw new RegistryError(404, 40402, `Version ${version} not found.`);
    return found;
  }

  lookup(subject: string, schema: string): SubjectVersion {
    const canonical = canonicalSchema(schema);
    const found = this.versions(subject).find((v) => canonicalSchema(v.schema) === canonical);
    if (!found) throw new RegistryError(404, 40403, 'Schema not found');
    return found;
  }

  compatibility(subject: string | null): Compatibility {
    if (subject === null) return this.globalCompatibility;
    return this.subjectConfig.get(subject) ?? this.globalCompatibility;
  }

  subjectCompatibility(subject: string): Compatibility | undefined {
    return this.subjectConfig.get(subject);
  }

  checkCompatibility(subject: string, version: string, schema: string): boolean {
    parseAvro(schema);
    const versions = this.subjects.get(subject) ?? [];
    if (versions.length === 0) return true;
    const level = this.compatibility(subject);
    if (level.endsWith('_TRANSITIVE')) return isCompatible(level, schema, versions.map((v) => v.schema));
    return isCompatible(level, schema, [this.version(subject, version).schema]);
  }
}

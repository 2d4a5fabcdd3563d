import * as http from 'node:http';
import { basicAuthHeader, type RegistryAuth } from '../kafka/security';
import { logger } from '../util/log';
import { COMPATIBILITY_LEVELS, Compatibility, RegistryError, RegistryEvent, RegistryState } from './state';

/**
 * A Confluent-compatible schema registry (the REST subset that @kafkajs/confluent-schema-registry,
 * Kafka UI and the Java serdes use). Development stand-in only: production runs Confluent Schema
 * Registry. Single writer: run one instance per cluster.
 */

export interface RegistryLog {
  append(event: RegistryEvent): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const log = logger('registry');

type Handler = (params: string[], body: unknown, query: URLSearchParams) => Promise<unknown> | unknown;
interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

function bodySchema(body: unknown): string {
  const schema = (body as { schema?: unknown } | null)?.schema;
  const type = (body as { schemaType?: unknown } | null)?.schemaType;
  if (type !== undefined && type !== 'AVRO') throw new RegistryError(422, 42201, `Unsupported schemaType ${String(type)}`);
  if (typeof schema !== 'string') throw new RegistryError(422, 42201, 'Request body needs a "schema" string');
  return schema;
}

function bodyCompatibility(body: unknown): Compatibility {
  const level = String((body as { compatibility?: unknown } | null)?.compatibility ?? '').toUpperCase();
  if (!COMPATIBILITY_LEVELS.includes(level as Compatibility)) {
    throw new RegistryError(422, 42203, `Invalid compatibility level ${level}`);
  }
  return level as Compatibility;
}

/** A subject from the path; bad percent-encoding is the client's error (400), not the registry's (500). */
function subjectOf(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new RegistryError(400, 400, `Malformed subject in path: ${encoded.slice(0, 100)}`);
  }
}

export class SchemaRegistryServer {
  private readonly routes: Route[];
  private server?: http.Server;
  private writeChain: Promise<unknown> = Promise.resolve();

  private readonly authorization?: string;

  /** With `auth`, every request must carry it as HTTP basic auth (as Confluent's registry with basic auth on). */
  constructor(
    private readonly state: RegistryState,
    private readonly store: RegistryLog,
    auth?: RegistryAuth,
  ) {
    this.authorization = auth ? basicAuthHeader(auth) : undefined;
    const s = this.state;
    const subjectVersion = (p: string[]) => {
      const v = s.version(subjectOf(p[0]), p[1]);
      return { subject: v.subject, version: v.version, id: v.id, schema: v.schema };
    };
    this.routes = [
      { method: 'GET', pattern: /^\/$/, handler: () => ({}) },
      { method: 'GET', pattern: /^\/schemas\/ids\/(\d+)$/, handler: (p) => ({ schema: s.schemaById(Number(p[0])) }) },
      { method: 'GET', pattern: /^\/schemas\/ids\/(\d+)\/schema$/, handler: (p) => JSON.parse(s.schemaById(Number(p[0]))) },
      { method: 'GET', pattern: /^\/schemas\/types$/, handler: () => ['AVRO'] },
      { method: 'GET', pattern: /^\/subjects$/, handler: () => s.subjectNames() },
      {
        method: 'GET',
        pattern: /^\/subjects\/([^/]+)\/versions$/,
        handler: (p) => s.versions(subjectOf(p[0])).map((v) => v.version),
      },
      { method: 'GET', pattern: /^\/subjects\/([^/]+)\/versions\/(latest|-?\d+)$/, handler: subjectVersion },
      {
        method: 'GET',
        pattern: /^\/subjects\/([^/]+)\/versions\/(latest|-?\d+)\/schema$/,
        handler: (p) => JSON.parse(s.version(subjectOf(p[0]), p[1]).schema),
      },
      { method: 'POST', pattern: /^\/subjects\/([^/]+)\/versions$/, handler: (p, b) => this.register(subjectOf(p[0]), bodySchema(b)) },
      {
        method: 'POST',
        pattern: /^\/subjects\/([^/]+)$/,
        handler: (p, b) => {
          const v = s.lookup(subjectOf(p[0]), bodySchema(b));
          return { subject: v.subject, version: v.version, id: v.id, schema: v.schema };
        },
      },
      { method: 'DELETE', pattern: /^\/subjects\/([^/]+)$/, handler: (p) => this.deleteSubject(subjectOf(p[0])) },
      {
        method: 'POST',
        pattern: /^\/compatibility\/subjects\/([^/]+)\/versions\/(latest|-?\d+)$/,
        handler: (p, b) => ({ is_compatible: s.checkCompatibility(subjectOf(p[0]), p[1], bodySchema(b)) }),
      },
      { method: 'GET', pattern: /^\/config$/, handler: () => ({ compatibilityLevel: s.compatibility(null) }) },
      { method: 'PUT', pattern: /^\/config$/, handler: (_p, b) => this.setConfig(null, bodyCompatibility(b)) },
      {
        method: 'GET',
        pattern: /^\/config\/([^/]+)$/,
        handler: (p, _b, q) => {
          const subject = subjectOf(p[0]);
          const level = s.subjectCompatibility(subject) ?? (q.get('defaultToGlobal') === 'true' ? s.compatibility(null) : undefined);
          if (!level) throw new RegistryError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
          return { compatibilityLevel: level };
        },
      },
      { method: 'PUT', pattern: /^\/config\/([^/]+)$/, handler: (p, b) => this.setConfig(subjectOf(p[0]), bodyCompatibility(b)) },
    ];
  }

  /** Writes are serialised: an id is chosen from the state only after the previous write is applied. */
  private serialise<T>(work: () => Promise<T>): Promise<T> {
    const next = this.writeChain.then(work, work);
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  private register(subject: string, schema: string): Promise<{ id: number }> {
    return this.serialise(async () => {
      const plan = this.state.planRegistration(subject, schema);
      if ('existing' in plan) return { id: plan.existing.id };
      await this.store.append(plan.event);
      this.state.apply(plan.event);
      log.info('schema_registered', { ...plan.event, schema: undefined });
      return { id: (plan.event as { id: number }).id };
    });
  }

  private setConfig(subject: string | null, compatibility: Compatibility): Promise<{ compatibility: Compatibility }> {
    return this.serialise(async () => {
      const event: RegistryEvent = { type: 'config', subject, compatibility };
      await this.store.append(event);
      this.state.apply(event);
      return { compatibility };
    });
  }

  private deleteSubject(subject: string): Promise<number[]> {
    return this.serialise(async () => {
      const versions = this.state.versions(subject).map((v) => v.version);
      const event: RegistryEvent = { type: 'delete-subject', subject };
      await this.store.append(event);
      this.state.apply(event);
      return versions;
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://registry');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': CONTENT_TYPE });
      res.end(JSON.stringify(payload));
    };
    if (this.authorization !== undefined && req.headers.authorization !== this.authorization) {
      res.writeHead(401, { 'content-type': CONTENT_TYPE, 'www-authenticate': 'Basic realm="optflow registry"' });
      res.end(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
      return;
    }
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      const body: unknown = text ? JSON.parse(text) : null;
      for (const route of this.routes) {
        const match = route.method === req.method ? route.pattern.exec(url.pathname) : null;
        if (match) return send(200, await route.handler(match.slice(1), body, url.searchParams));
      }
      send(404, { error_code: 404, message: `HTTP 404 Not Found: ${req.method} ${url.pathname}` });
    } catch (err) {
      if (err instanceof RegistryError) return send(err.status, { error_code: err.errorCode, message: err.message });
      if (err instanceof SyntaxError) return send(400, { error_code: 400, message: `Malformed JSON: ${err.message}` });
      log.error('request_failed', { method: req.method, path: url.pathname, error: err });
      send(500, { error_code: 50001, message: (err as Error).message });
    }
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // A request Node's HTTP parser rejects never reaches handle(): answer it with a reason too.
    this.server.on('clientError', (err: Error, socket: import('node:stream').Duplex) => {
      if (!socket.writable) return socket.destroy();
      const body = JSON.stringify({ error_code: 400, message: `Bad request: ${err.message}` });
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: ${CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => {
        const address = this.server!.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * Fuzz (issue 16): bad requests to the schema registry (src/registry/server.ts, in process on an
 * ephemeral port, in-memory log): invalid or non-UTF-8 JSON, wrong body types, invalid Avro, deep
 * nesting, bad percent-encoding, odd versions and compatibility levels, on every route.
 * Expected: each answer is a 4xx with a Confluent error body (error_code, message) — never a 5xx,
 * never a hang — and the registry still serves its real subjects afterwards.
 */
import * as http from 'node:http';
import { SchemaRegistryServer } from '../../../src/registry/server';
import { RegistryState, type RegistryEvent } from '../../../src/registry/state';
import { loadSchema } from '../../../src/avro/types';
import { Fuzz, NON_UTF8 } from './mutate';

const REQUESTS = 600;

interface Answer {
  status: number;
  body: string;
}

function request(port: number, method: string, path: string, body: Buffer | null): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const SUBJECT = 'fuzz.equity.trades-value';

function badBody(fuzz: Fuzz, valid: string): Buffer {
  const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);
  const text = fuzz.pick<() => string>([
    () => '{',
    () => '{"schema":',
    () => 'null',
    () => '[]',
    () => '"schema"',
    () => '42',
    () => '{"schema": 42}',
    () => '{"schema": null}',
    () => '{"schema": {"type": "string"}}',
    () => '{"schema": "not json"}',
    () => '{"schema": "{\\"type\\": \\"nonsense\\"}"}',
    () => '{"schema": "{\\"type\\": \\"record\\", \\"name\\": \\"x\\", \\"fields\\": [{\\"name\\": \\"a\\"}]}"}',
    () => JSON.stringify({ schema: valid, schemaType: 'PROTOBUF' }),
    () => JSON.stringify({ schema: valid, schemaType: 7 }),
    () => JSON.stringify({ schema: deep(20_000, '[', ']') }),
    () => JSON.stringify({ schema: deep(5_000, '{"a":', '}').replace(/}$/, '1}') }),
    () => deep(20_000, '[', ']'),
    () => JSON.stringify({ schema: valid.slice(0, fuzz.int(valid.length)) }),
    () => JSON.stringify({ compatibility: fuzz.pick(['', 'full', 'SOMETIMES', 42, null, ['FULL'], { a: 1 }]) }),
    () => JSON.stringify({ schema: '"string"' }).replace('string', 'strin\u0000g'),
    () => valid.replace(/"/g, "'"),
  ])();
  const bytes = Buffer.from(text, 'utf8');
  if (fuzz.chance(0.2)) {
    const at = fuzz.int(bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, at), Buffer.from(fuzz.pick(NON_UTF8)), bytes.subarray(at)]);
  }
  return bytes;
}

function badSubject(fuzz: Fuzz): string {
  return fuzz.pick([SUBJECT, 'no-such-subject', '%E0%A4%A', '%', '%zz', encodeURIComponent('ü/x'), 'a'.repeat(5000), '%00', '..', '%2F%2F']);
}

function badVersion(fuzz: Fuzz): string {
  return fuzz.pick(['latest', '-1', '0', '-7', '99999999999999999999999', '3']);
}

describe('fuzz: bad requests to the schema registry', () => {
  let server: SchemaRegistryServer;
  let port: number;
  const valid = loadSchema('EquityTrade').text;

  beforeAll(async () => {
    const events: RegistryEvent[] = [];
    server = new SchemaRegistryServer(new RegistryState(), { append: async (e) => void events.push(e) });
    port = await server.listen(0);
    const ok = await request(port, 'POST', `/subjects/${SUBJECT}/versions`, Buffer.from(JSON.stringify({ schema: valid })));
    expect(ok.status).toBe(200);
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers every bad request with a 4xx and a reason, and keeps serving', async () => {
    const fuzz = new Fuzz('registry');
    const byStatus: Record<string, number> = {};
    const problems: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const subject = badSubject(fuzz);
      const [method, path, body] = fuzz.pick<() => [string, string, Buffer | null]>([
        () => ['POST', `/subjects/${subject}/versions`, badBody(fuzz, valid)],
        () => ['POST', `/subjects/${subject}`, badBody(fuzz, valid)],
        () => ['POST', `/compatibility/subjects/${subject}/versions/${badVersion(fuzz)}`, badBody(fuzz, valid)],
        () => ['PUT', `/config/${subject}`, badBody(fuzz, valid)],
        () => ['PUT', '/config', badBody(fuzz, valid)],
        () => ['GET', `/subjects/${subject}/versions/${badVersion(fuzz)}`, null],
        () => ['GET', `/schemas/ids/${fuzz.pick(['0', '999', '99999999999999999999999', '-1', 'x'])}`, null],
        () => ['GET', `/config/${subject}`, null],
        () => ['DELETE', `/subjects/${subject === SUBJECT ? 'no-such-subject' : subject}`, null],
        () => [fuzz.pick(['PATCH', 'OPTIONS', 'PUT']), `/subjects/${subject}/versions`, badBody(fuzz, valid)],
      ])();
      let answer: Answer;
      try {
        answer = await request(port, method, path, body);
      } catch (err) {
        problems.push(`${method} ${path.slice(0, 80)}: ${(err as Error).message}`);
        continue;
      }
      // some "bad" requests are fine requests (an existing subject's version, a valid level): 2xx is allowed
      const key = `${answer.status}`;
      byStatus[key] = (byStatus[key] ?? 0) + 1;
      if (answer.status >= 500) problems.push(`${method} ${path.slice(0, 80)} ${body?.toString('utf8').slice(0, 80)} → ${answer.status} ${answer.body.slice(0, 200)}`);
      if (answer.status >= 400) {
        let parsed: { error_code?: unknown; message?: unknown } = {};
        try {
          parsed = JSON.parse(answer.body) as typeof parsed;
        } catch {
          // reported below
        }
        if (typeof parsed.error_code !== 'number' || typeof parsed.message !== 'string' || parsed.message.length === 0) {
          problems.push(`${method} ${path.slice(0, 80)}: ${answer.status} without error_code and message: ${JSON.stringify(answer.body.slice(0, 100))}`);
        }
      }
    }
    process.stdout.write(`registry fuzz, answers to ${REQUESTS} bad requests by status: ${JSON.stringify(byStatus)}\n`);
    expect(problems.slice(0, 10)).toEqual([]);
    const still = await request(port, 'GET', `/subjects/${SUBJECT}/versions/latest`, null);
    expect(still.status).toBe(200);
    expect(JSON.parse(still.body)).toMatchObject({ subject: SUBJECT, version: 1, id: 1 });
    expect(byStatus['400'] ?? 0).toBeGreaterThan(0);
    expect(byStatus['404'] ?? 0).toBeGreaterThan(0);
    expect(byStatus['422'] ?? 0).toBeGreaterThan(0);
  });
});

describe('schema registry: regressions found by the fuzz', () => {
  let server: SchemaRegistryServer;
  let port: number;

  beforeAll(async () => {
    server = new SchemaRegistryServer(new RegistryState(), { append: async () => undefined });
    port = await server.listen(0);
    await request(port, 'POST', `/subjects/${SUBJECT}/versions`, Buffer.from(JSON.stringify({ schema: '"string"' })));
  });

  afterAll(async () => {
    await server.close();
  });

  it.each(['%E0%A4%A', '%', '%zz'])('a subject with bad percent-encoding (%s) is a 400 with a reason, not a 500', async (subject) => {
    for (const [method, path] of [['GET', `/subjects/${subject}/versions/latest`], ['DELETE', `/subjects/${subject}`], ['GET', `/config/${subject}`]]) {
      const answer = await request(port, method, path, null);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toEqual({ error_code: 400, message: expect.stringMatching(/^Malformed subject in path/) });
    }
  });

  it('a schema nested deeper than the stack is a 422 on lookup and register, not a 500', async () => {
    const deep = JSON.stringify({ schema: '['.repeat(50_000) + ']'.repeat(50_000) });
    for (const path of [`/subjects/${SUBJECT}`, `/subjects/${SUBJECT}/versions`]) {
      const answer = await request(port, 'POST', path, Buffer.from(deep));
      expect(answer.status).toBe(422);
      expect(JSON.parse(answer.body)).toMatchObject({ error_code: 42201, message: expect.stringMatching(/^Invalid schema/) });
    }
  });

  it("a request Node's HTTP parser rejects gets a 400 with a Confluent error body", async () => {
    const answer = await request(port, 'OPTIONS', `/subjects/${SUBJECT}/versions`, Buffer.from('{}'));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error_code: 400, message: expect.stringMatching(/^Bad request/) });
  });
});

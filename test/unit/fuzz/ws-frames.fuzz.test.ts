/**
 * Fuzz (issue 16): 10,000 mutated Massive WebSocket frames (5,000 per feed) through parseFrame, each
 * between two valid frames on the same connection, decoded from bytes the way the session does.
 * Expected: no throw; a mutant yields records, rejections (reason, detail, raw, position), status or
 * ignored events; a rejected event gets its own connection position; records encode with the topic's
 * Avro schema and rejections as DeadLetter exactly as the producer's drain loop does (an encoding
 * error there stops the producer); the valid frames around each mutant come out unchanged.
 */
import { isDeepStrictEqual } from 'node:util';
import { typeOf, type SchemaName } from '../../../src/avro/types';
import type { DeadLetter } from '../../../src/domain/records';
import { MAX_TIMESTAMP_NS, MIN_TIMESTAMP_NS } from '../../../src/producers/flatfile/parse/fields';
import { parseFrame, type Feed, type FrameContext, type FrameItem, type MarketTopic } from '../../../src/producers/ws/frames';
import { Fuzz, HUGE_NUMBERS, NON_UTF8 } from './mutate';

const PER_FEED = 5000;
const SCHEMAS: Record<MarketTopic, SchemaName> = {
  'equity.trades': 'EquityTrade', 'equity.quotes': 'EquityQuote', 'option.trades': 'OptionTrade', 'option.quotes': 'OptionQuote',
};
const T0 = 1741358400123456789n;

function goodEvent(fuzz: Fuzz, feed: Feed, i: number): Record<string, unknown> {
  const sym = feed === 'stocks' ? fuzz.pick(['SPY', 'QQQ', 'IWM', 'BRK.B']) : fuzz.pick(['O:SPY250307C00570000', 'O:QQQ250321P00480500', 'O:SPXW251219C06500000']);
  const t = fuzz.pick([`${T0 + BigInt(i) * 1000n}`, String(1741358400123 + i), String(1741358400123456 + i)]);
  if (fuzz.chance(0.5)) return { ev: 'T', sym, x: 4, i: String(i), z: 2, p: 1 + fuzz.int(50000) / 100, s: 1 + fuzz.int(500), c: [12, 37], t, q: i + 1 };
  return { ev: 'Q', sym, bx: 11, bp: 1 + fuzz.int(500) / 100, bs: 1 + fuzz.int(9), ax: 12, ap: 6 + fuzz.int(500) / 100, as: 1 + fuzz.int(9), c: [1], i: [604], t, q: i + 1, z: 1 };
}

/** JSON text with 19-digit timestamps written as bare numbers, as Massive sends them. */
function frameText(events: Record<string, unknown>[]): string {
  return JSON.stringify(events).replace(/"t":"(\d+)"/g, '"t":$1');
}

type Mutation = 'byte_flip' | 'truncate' | 'extra_field' | 'missing_field' | 'huge_number' | 'wrong_type' | 'non_utf8' | 'quote' | 'structure';
const MUTATIONS: readonly Mutation[] = ['byte_flip', 'truncate', 'extra_field', 'missing_field', 'huge_number', 'wrong_type', 'non_utf8', 'quote', 'structure'];
const ODD_VALUES: readonly unknown[] = [null, true, '', 'x', [], {}, [1, [2]], { a: 1 }, -1, 0, 1.5, '1e3', ' 12 ', -0.0];

function mutate(fuzz: Fuzz, events: Record<string, unknown>[], kind: Mutation): Buffer {
  const text = frameText(events);
  const bytes = Buffer.from(text, 'utf8');
  const e = events[fuzz.int(events.length)];
  const keys = Object.keys(e);
  switch (kind) {
    case 'byte_flip': {
      const out = Buffer.from(bytes);
      for (let k = 1 + fuzz.int(3); k > 0; k--) out[fuzz.int(out.length)] = fuzz.int(256);
      return out;
    }
    case 'truncate':
      return bytes.subarray(0, fuzz.int(bytes.length));
    case 'extra_field':
      e[fuzz.pick(['zz', 'ev', 'sym', 'p', 't', '__proto__', 'constructor'])] = fuzz.pick(ODD_VALUES);
      return Buffer.from(frameText(events), 'utf8');
    case 'missing_field':
      delete e[fuzz.pick(keys)];
      return Buffer.from(frameText(events), 'utf8');
    case 'huge_number': {
      const k = fuzz.pick(keys.filter((x) => x !== 'ev' && x !== 'sym'));
      const n = fuzz.chance(0.5) ? fuzz.pick(HUGE_NUMBERS) : fuzz.digits(16 + fuzz.int(400));
      return Buffer.from(frameText(events).replace(new RegExp(`"${k}":("[^"]*"|[^,}\\]]+|\\[[^\\]]*\\])`), `"${k}":${/^-?\d+(\.\d+)?(e\d+)?$/.test(n) ? n : JSON.stringify(n)}`), 'utf8');
    }
    case 'wrong_type':
      e[fuzz.pick(keys)] = fuzz.pick(ODD_VALUES);
      return Buffer.from(frameText(events), 'utf8');
    case 'non_utf8': {
      const at = fuzz.int(bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(fuzz.pick(NON_UTF8)), bytes.subarray(at)]);
    }
    case 'quote': {
      const at = fuzz.int(text.length + 1);
      return Buffer.from(text.slice(0, at) + fuzz.pick(['"', '\\', '\\"', '\\u12', '\\ud800']) + text.slice(at), 'utf8');
    }
    case 'structure':
      return Buffer.from(fuzz.pick([
        '', '[]', '{}', 'null', '42', '"x"', '[null]', '[[]]', '[1,2,3]', `[${text}]`, `${text}${text}`, '['.repeat(5000) + ']'.repeat(5000),
        JSON.stringify(events[0]), `[${'{"ev":"T"},'.repeat(50)}{}]`, '[{"ev":"status","status":"auth_failed","message":"x"}]',
      ]), 'utf8');
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function invariantViolations(record: Record<string, unknown>): string[] {
  const bad: string[] = [];
  const sip = record.sip_timestamp as bigint;
  if (sip < MIN_TIMESTAMP_NS || sip >= MAX_TIMESTAMP_NS) bad.push(`sip_timestamp ${sip} outside [2000, 2100)`);
  for (const [k, x] of Object.entries(record)) {
    if (typeof x === 'number' && !Number.isFinite(x)) bad.push(`${k} is not finite`);
    if (typeof x === 'bigint' && (x < INT64_MIN || x > INT64_MAX)) bad.push(`${k} exceeds int64`);
  }
  return bad;
}

function context(feed: Feed): FrameContext & { last: () => bigint } {
  let n = 0n;
  return { feed, origin: `ws:fuzz:${feed}`, rootMap: { SPXW: 'SPX' }, nextOffset: () => ++n, last: () => n };
}

/** Drops the per-connection position, which shifts with the mutants in between. */
function positionless(items: FrameItem[]): unknown[] {
  return items.map((i) => (i.kind === 'record' ? { ...i, record: { ...i.record, origin_offset: 0n } } : i));
}

describe('fuzz: mutated WebSocket frames through parseFrame', () => {
  const deadLetterType = typeOf('DeadLetter');
  const total: Record<string, number> = {};

  afterAll(() => {
    process.stdout.write(`WebSocket fuzz, items out of ${2 * PER_FEED} mutated frames: ${JSON.stringify(total)}\n`);
  });

  it.each(['stocks', 'options'] as const)('%s: every item of a mutant is well-formed; the valid frames around it are intact', (feed) => {
    const fuzz = new Fuzz(`ws:${feed}`);
    const ctx = context(feed);
    const alone = context(feed);
    const problems: string[] = [];
    const counts: Record<string, number> = {};
    const count = (k: string): void => {
      counts[k] = (counts[k] ?? 0) + 1;
      total[k] = (total[k] ?? 0) + 1;
    };
    const types = new Map<string, ReturnType<typeof typeOf>>();
    const typeFor = (topic: MarketTopic) => types.get(topic) ?? types.set(topic, typeOf(SCHEMAS[topic])).get(topic)!;
    const checkGood = (i: number): void => {
      const events = Array.from({ length: 1 + fuzz.int(4) }, (_v, k) => goodEvent(fuzz, feed, i * 10 + k));
      const text = frameText(events);
      const got = parseFrame(Buffer.from(text, 'utf8').toString('utf8'), ctx);
      if (!isDeepStrictEqual(positionless(got), positionless(parseFrame(text, alone))) || got.some((x) => x.kind !== 'record')) {
        problems.push(`valid frame ${i} harmed: ${text}`);
      }
    };
    for (let i = 0; i < PER_FEED; i++) {
      checkGood(i);
      const kind = fuzz.pick(MUTATIONS);
      const events = Array.from({ length: 1 + fuzz.int(3) }, (_v, k) => goodEvent(fuzz, feed, i * 10 + 5 + k));
      const text = mutate(fuzz, events, kind).toString('utf8'); // as session.ts decodes a message
      const before = ctx.last();
      let items: FrameItem[];
      try {
        items = parseFrame(text, ctx);
      } catch (err) {
        problems.push(`frame ${i} (${kind}) threw ${(err as Error).message}: ${text.slice(0, 200)}`);
        continue;
      }
      const positions: bigint[] = [];
      for (const item of items) {
        if (item.kind === 'record') {
          count('record');
          positions.push(item.record.origin_offset);
          const bad = invariantViolations(item.record as unknown as Record<string, unknown>);
          try {
            typeFor(item.topic).toBuffer(item.record);
          } catch (err) {
            bad.push(`Avro encoding fails: ${(err as Error).message}`);
          }
          if (typeof item.key !== 'string' || item.key.length === 0) bad.push('no key');
          if (bad.length > 0) problems.push(`frame ${i} (${kind}): ${bad.join('; ')}: ${text.slice(0, 300)}`);
        } else if (item.kind === 'reject') {
          count(item.reason);
          if (item.position > 0n) positions.push(item.position);
          if (item.detail.length === 0 || (item.raw.length === 0 && text.length > 0)) problems.push(`frame ${i}: rejection without detail or raw`);
          const letter: DeadLetter = {
            reason: item.reason, detail: item.detail, origin: item.origin, position: item.position,
            partition: null, event_time: null, raw: Buffer.from(item.raw, 'utf8'), recorded_at_ms: 0n,
          };
          try {
            deadLetterType.toBuffer(letter);
          } catch (err) {
            problems.push(`frame ${i}: dead letter does not encode: ${(err as Error).message}`);
          }
        } else count(item.kind === 'ignored' ? 'ignored' : 'status');
      }
      // each T/Q event takes the next connection position, once
      const expected = Array.from({ length: Number(ctx.last() - before) }, (_v, k) => before + 1n + BigInt(k));
      if (!isDeepStrictEqual(positions, expected)) problems.push(`frame ${i}: positions ${positions} not ${expected}`);
    }
    checkGood(PER_FEED);
    expect(problems.slice(0, 10)).toEqual([]);
    for (const reason of ['invalid_json', 'bad_field', 'missing_field', 'record']) expect(counts[reason]).toBeGreaterThan(0);
  });
});

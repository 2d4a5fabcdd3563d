/**
 * Fuzz (issue 16): 1,000 corrupt Avro values (wrong magic byte, unknown schema id, truncated, a
 * different schema's body under our id, a writer schema that cannot be resolved, bit flips, trailing
 * bytes, empty) between valid ones, through the path the processor runtime takes for each input
 * record: TopicSerde.decode, then PoisonRecordError → Task.poison → a DeadLetter on the DLQ (as
 * ProcessorRuntime.handleMessage does), else Task.process. The registry is an in-memory stand-in.
 * Expected: no throw, no hang; every corrupt value is one dead letter with a reason, its offset and
 * its bytes, or (a body that happens to decode) one processed record; every valid value is processed.
 */
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type * as avro from 'avsc';
import { PoisonRecordError, TopicSerde, wireHeader, type PoisonReason } from '../../../src/avro/serde';
import { projection, typeOf } from '../../../src/avro/types';
import { loadConfig } from '../../../src/config';
import type { DeadLetter, EquityTrade } from '../../../src/domain/records';
import { Task } from '../../../src/processors/runtime/task';
import { instantiate } from '../../../src/processors/runtime/types';
import { WatermarkTracker } from '../../../src/processors/runtime/watermarks';
import { tradeCounts } from '../../../src/processors/trade-counts';
import { Fuzz } from './mutate';

const CORRUPT = 1000;
const OUR_ID = 7;
const OPTION_QUOTE_ID = 9; // registered, but a different record: cannot be read as EquityTrade
const TOPIC = 'fuzz.equity.trades';

type Corruption = 'magic_byte' | 'unknown_id' | 'truncated' | 'other_schema_body' | 'unresolvable_writer' | 'bit_flip' | 'trailing_bytes' | 'empty';
const CORRUPTIONS: readonly Corruption[] = ['magic_byte', 'unknown_id', 'truncated', 'other_schema_body', 'unresolvable_writer', 'bit_flip', 'trailing_bytes', 'empty'];

/** The two calls TopicSerde makes; getSchema answers as the real client does (an avsc Type) or throws. */
function fakeRegistry(): SchemaRegistry {
  const known = new Map<number, avro.Type>([[OPTION_QUOTE_ID, typeOf('OptionQuote')]]);
  return {
    register: async () => ({ id: OUR_ID }),
    getSchema: async (id: number) => {
      const type = known.get(id);
      if (!type) throw new Error(`Schema ${id} not found`);
      return type;
    },
  } as unknown as SchemaRegistry;
}

function trade(fuzz: Fuzz, i: number): EquityTrade {
  return {
    ticker: fuzz.pick(['SPY', 'QQQ', 'IWM']), sip_timestamp: 1741358400000000000n + BigInt(i) * 1_000_000n, participant_timestamp: null, trf_timestamp: null,
    sequence_number: BigInt(i), id: String(i), exchange: 4, tape: 1, trf_id: null, price: 100 + fuzz.int(10_000) / 100, size: 1 + fuzz.int(500),
    conditions: fuzz.chance(0.5) ? [] : [12, 37], correction: null, source: 'flatfile', origin: 'fuzz', origin_offset: BigInt(i),
  };
}

function corrupt(fuzz: Fuzz, kind: Corruption, good: Buffer): Buffer | null {
  const optionQuote = typeOf('OptionQuote').toBuffer({
    ticker: 'O:SPY250307C00570000', underlying: 'SPY', root: 'SPY', expiration_date: '2025-03-07', right: 'C', strike: 570,
    sip_timestamp: 1741358400000000000n, sequence_number: null, bid_price: 1, bid_size: 1n, bid_exchange: 1, ask_price: 2, ask_size: 1n, ask_exchange: 1,
    source: 'flatfile', origin: 'x', origin_offset: 1n,
  });
  switch (kind) {
    case 'magic_byte': {
      const out = Buffer.from(good);
      out[0] = 1 + fuzz.int(255);
      return out;
    }
    case 'unknown_id': {
      const out = Buffer.from(good);
      let id = fuzz.int(2 ** 32);
      if (id === OUR_ID || id === OPTION_QUOTE_ID) id = 12345;
      out.writeUInt32BE(id, 1);
      return out;
    }
    case 'truncated':
      return good.subarray(0, fuzz.int(good.length));
    case 'other_schema_body':
      return Buffer.concat([wireHeader(OUR_ID), optionQuote]);
    case 'unresolvable_writer':
      return Buffer.concat([wireHeader(OPTION_QUOTE_ID), optionQuote]);
    case 'bit_flip': {
      const out = Buffer.from(good);
      for (let k = 1 + fuzz.int(4); k > 0; k--) {
        const at = 5 + fuzz.int(out.length - 5);
        out[at] ^= 1 << fuzz.int(8);
      }
      return out;
    }
    case 'trailing_bytes':
      return Buffer.concat([good, Buffer.from([fuzz.int(256), fuzz.int(256)])]);
    case 'empty':
      return fuzz.chance(0.5) ? null : Buffer.alloc(0);
  }
}

/** Values decoded whole, and projected onto the fields trade-counts reads (as the runtime decodes its input): the rest is skipped. */
const DECODINGS: [string, readonly string[] | undefined][] = [['whole', undefined], ['projected', tradeCounts.inputs[0].reads]];

describe.each(DECODINGS)('fuzz: corrupt Avro values through the runtime decode path, decoded %s', (_decoding, reads) => {
  it('each corrupt value is one dead letter (reason, offset, bytes) or one record; every valid value is processed', async () => {
    const fuzz = new Fuzz('avro');
    const config = loadConfig({ env: { NODE_ENV: 'test' } });
    const serde = await TopicSerde.forTopic<EquityTrade>(fakeRegistry(), TOPIC, 'EquityTrade', reads);
    const decodedType = reads ? projection('EquityTrade', reads) : typeOf('EquityTrade');
    expect(serde.schemaId).toBe(OUR_ID);
    const deadLetterType = typeOf('DeadLetter');
    const task = new Task({
      partition: 0, inputs: [TOPIC], processor: instantiate(tradeCounts, config, { partition: 0 }),
      watermarks: new WatermarkTracker([TOPIC], 2_000_000_000n, Number.MAX_SAFE_INTEGER, 0),
      stateHorizonNs: tradeCounts.stateHorizonNs(config), committed: new Map(),
      encode: (output, key, value) => ({ topic: output.topic, key, value: typeOf(output.schema).toBuffer(value) }),
      lateTopic: 'trade-counts.late', dlqTopic: 'trade-counts.dlq', deadLetter: (letter) => deadLetterType.toBuffer(letter),
    });

    const sent = new Map<bigint, { kind: Corruption | 'valid'; bytes: Buffer | null }>();
    const outcomes: Record<string, number> = {};
    const count = (k: string): void => {
      outcomes[k] = (outcomes[k] ?? 0) + 1;
    };
    let offset = 0n;
    let processedValid = 0;
    const handle = async (bytes: Buffer | null, kind: Corruption | 'valid'): Promise<void> => {
      const at = offset++;
      sent.set(at, { kind, bytes });
      const started = Date.now();
      let value: EquityTrade | null = null;
      try {
        value = await serde.decode(bytes);
      } catch (err) {
        if (!(err instanceof PoisonRecordError)) throw new Error(`offset ${at} (${kind}): ${(err as Error).message}`, { cause: err });
        task.poison(TOPIC, at, 'SPY', bytes ?? Buffer.alloc(0), err.reason, err.message);
        count(err.reason);
      }
      const ms = Date.now() - started;
      if (ms > 1000) throw new Error(`offset ${at} (${kind}) took ${ms} ms to decode`);
      if (value === null) return;
      if (kind === 'valid') processedValid++;
      else count(`decoded (${kind})`);
      expect(decodedType.isValid(value)).toBe(true);
      task.process(TOPIC, { topic: 'equity.trades', partition: 0, offset: at, key: value.ticker, value, eventTime: value.sip_timestamp }, bytes!, 0);
    };

    let i = 0;
    const valid = (): Buffer => serde.encode(trade(fuzz, i++));
    for (let n = 0; n < CORRUPT; n++) {
      await handle(valid(), 'valid');
      const kind = fuzz.pick(CORRUPTIONS);
      await handle(corrupt(fuzz, kind, valid()), kind);
    }
    await handle(valid(), 'valid');

    const letters = (await task.drain().outputs).filter((o) => o.topic === 'trade-counts.dlq').map((o) => deadLetterType.fromBuffer(o.value as Buffer) as DeadLetter);
    process.stdout.write(`Avro fuzz, outcomes of ${CORRUPT} corrupt values: ${JSON.stringify(outcomes)}\n`);

    expect(processedValid).toBe(CORRUPT + 1);
    const poisoned = Object.entries(outcomes).filter(([k]) => !k.startsWith('decoded')).reduce((s, [, v]) => s + v, 0);
    expect(letters).toHaveLength(poisoned);
    for (const letter of letters) {
      const { kind, bytes } = sent.get(letter.position)!;
      expect(kind).not.toBe('valid');
      expect(letter.raw).toEqual(bytes ?? Buffer.alloc(0));
      expect(letter.detail.length).toBeGreaterThan(0);
      expect(letter.origin).toBe(TOPIC);
    }
    const reasons: PoisonReason[] = ['empty_value', 'bad_magic_byte', 'unknown_schema_id', 'undecodable_avro'];
    for (const reason of reasons) expect(outcomes[reason]).toBeGreaterThan(0);
    // a body of another schema under our id, a truncated one or trailing bytes never pass as a record
    for (const kind of ['other_schema_body', 'unresolvable_writer', 'truncated', 'trailing_bytes', 'magic_byte', 'unknown_id', 'empty']) {
      expect(outcomes[`decoded (${kind})`]).toBeUndefined();
    }
  });
});

describe('Avro decode: a corrupt array block count (regression found by the fuzz)', () => {
  const counts = [2 ** 20, 2 ** 28, 2 ** 31 - 1, 2 ** 40];
  it.each(counts.flatMap((count) => DECODINGS.map(([decoding, reads]) => [count, decoding, reads] as const)))('count %d, decoded %s (the array read or skipped), fails as undecodable_avro at once instead of allocating or looping until the process dies', async (count, _decoding, reads) => {
    const serde = await TopicSerde.forTopic<EquityTrade>(fakeRegistry(), TOPIC, 'EquityTrade', reads);
    const fuzz = new Fuzz('array-count');
    const base = trade(fuzz, 1); // one trade: the two encodings differ only in the array
    const withOne = serde.encode({ ...base, conditions: [5] });
    const withNone = serde.encode({ ...base, conditions: [] });
    let at = 0;
    while (withOne[at] === withNone[at]) at++; // the block count of `conditions`
    const varint: number[] = [];
    for (let zz = count * 2; ; zz = Math.floor(zz / 128)) {
      if (zz < 128) {
        varint.push(zz);
        break;
      }
      varint.push((zz % 128) | 128);
    }
    const corrupt = Buffer.concat([withOne.subarray(0, at), Buffer.from(varint), withOne.subarray(at + 1)]);
    const started = Date.now();
    await expect(serde.decode(corrupt)).rejects.toMatchObject({ reason: 'undecodable_avro' });
    expect(Date.now() - started).toBeLessThan(500);
    expect((await serde.decode(withOne)).conditions).toEqual(reads ? undefined : [5]);
    expect((await serde.decode(withOne)).price).toBe(base.price);
  });

  it('a 300-item array still decodes, directly and through a resolver', () => {
    const type = typeOf('EquityTrade');
    const fuzz = new Fuzz('array-blocks');
    const value = { ...trade(fuzz, 2), conditions: Array.from({ length: 300 }, (_v, i) => i) };
    expect((type.fromBuffer(type.toBuffer(value)) as EquityTrade).conditions).toEqual(value.conditions);
    const resolver = type.createResolver(typeOf('EquityTrade'));
    expect((type.fromBuffer(type.toBuffer(value), resolver) as EquityTrade).conditions).toEqual(value.conditions);
  });
});

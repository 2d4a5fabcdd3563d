/**
 * Decoding what the processors read, per input (whole when it names no fields): the compiled reader (src/avro/projected-reader.ts,
 * what TopicSerde uses for our own schema) side by side with avsc's resolver from the topic's schema to
 * the same projection, or avsc's whole decode (the baseline, and what a record of another schema version still
 * goes through).
 * Records are realistic SPY rows, 200,000 per input, each decoded from its own Buffer as consumed.
 * Run: node bench/run.js decode (after tsc).
 */
import { compileProjectedReader } from '../src/avro/projected-reader';
import { decodeAvro, encodeAvro, projection, typeOf, type SchemaName } from '../src/avro/types';
import type { EnrichedOptionTrade, EquityQuote, EquityTrade, OptionQuote, OptionTrade } from '../src/domain/records';
import { features } from '../src/processors/features';
import { greeks } from '../src/processors/greeks';

const RECORDS = 200_000;
const ROUNDS = 3;
const T0 = 1741357800000000000n;
const provenance = (i: number) => ({ source: 'flatfile' as const, origin: 'us_options_opra/trades_v1/2025/03/2025-03-07.csv.gz', origin_offset: BigInt(1000 + i) });
const opra = (i: number) => ({ underlying: 'SPY', root: 'SPY', expiration_date: '2025-03-21', right: i % 2 ? ('P' as const) : ('C' as const), strike: 500 + (i % 120) });
const contract = (i: number): string => `O:SPY250321${i % 2 ? 'P' : 'C'}00${500 + (i % 120)}000`;

function optionTrade(i: number): OptionTrade {
  return {
    ticker: contract(i), ...opra(i), sip_timestamp: T0 + BigInt(i) * 23_400_000n, participant_timestamp: T0 + BigInt(i) * 23_400_000n - 5000n, sequence_number: null,
    price: 1.05 + (i % 300) / 100, size: BigInt(1 + (i % 20)), exchange: 300 + (i % 20), conditions: i % 5 ? [209] : [209, 219], correction: null, ...provenance(i),
  };
}

const RECORD_OF: Record<string, (i: number) => unknown> = {
  EquityQuote: (i): EquityQuote => ({
    ticker: 'SPY', sip_timestamp: T0 + BigInt(i) * 1_950_000n, participant_timestamp: T0 + BigInt(i) * 1_950_000n - 300n, trf_timestamp: null, sequence_number: BigInt(i * 3),
    bid_price: 570 + (i % 100) / 100, bid_size: BigInt(1 + (i % 9)), bid_exchange: 11, ask_price: 570.01 + (i % 100) / 100, ask_size: BigInt(2 + (i % 7)), ask_exchange: 12,
    conditions: [], indicators: [], tape: 3, ...provenance(i),
  }),
  EquityTrade: (i): EquityTrade => ({
    ticker: 'SPY', sip_timestamp: T0 + BigInt(i) * 23_400_000n, participant_timestamp: T0 + BigInt(i) * 23_400_000n - 300n, trf_timestamp: null, sequence_number: BigInt(i * 7),
    id: String(52983525029461 + i), exchange: 4 + (i % 10), tape: 3, trf_id: null, price: 570 + (i % 100) / 100, size: 100 + (i % 5) * 50, conditions: i % 3 ? [] : [12, 37], correction: null, ...provenance(i),
  }),
  OptionTrade: optionTrade,
  OptionQuote: (i): OptionQuote => ({
    ticker: contract(i), ...opra(i), sip_timestamp: T0 + BigInt(i) * 1_170_000n, sequence_number: BigInt(i * 11),
    bid_price: 1 + (i % 300) / 100, bid_size: BigInt(10 + (i % 90)), bid_exchange: 300 + (i % 20), ask_price: 1.05 + (i % 300) / 100, ask_size: BigInt(5 + (i % 50)), ask_exchange: 301, ...provenance(i),
  }),
  EnrichedOptionTrade: (i): EnrichedOptionTrade => ({
    ...optionTrade(i), underlying_price: 570.12, underlying_timestamp: T0 + BigInt(i) * 23_400_000n - 1_000_000n, tau: 0.038 + i / 1e9, rate: 0.0431, dividend_yield: 0.013,
    iv: 0.18 + (i % 50) / 1000, delta: 0.41, gamma: 0.021, vega: 0.33, theta: -0.12, intrinsic: 0, flags: 0, dadvv: 2301.5, gadvv: 311.2,
    aggressor_side: (['BUY', 'SELL', 'INSIDE', 'UNKNOWN'] as const)[i % 4], aggressor_method: 'quote', quote_age_ns: 1_250_000n, mid_offset_bps: 12.5, generation: 0,
  }),
};

function timed(work: () => void): number {
  const start = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function run(): Promise<void> {
  const inputs = [...greeks.inputs.map((i) => ({ processor: 'greeks', ...i })), ...features.inputs.map((i) => ({ processor: 'features', ...i }))];
  process.stdout.write(`${'processor'.padEnd(10)}${'input'.padEnd(24)}${'fields'.padStart(8)}${'compiled ns'.padStart(13)}${'avsc ns'.padStart(10)}${'speed-up'.padStart(10)}\n`);
  for (const input of inputs) {
    const schema = input.schema as SchemaName;
    const whole = typeOf(schema);
    const reads = input.reads ?? (whole as unknown as { fields: { name: string }[] }).fields.map((f) => f.name);
    const reader = projection(schema, reads);
    const resolver = reader.createResolver(whole);
    const compiled = compileProjectedReader(whole, reads)!;
    const make = RECORD_OF[schema];
    const records = Array.from({ length: RECORDS }, (_, i) => encodeAvro(whole, make(i), Buffer.from([0, 0, 0, 0, 1])));
    let sink = 0;
    const best = { compiled: Infinity, avsc: Infinity };
    for (let round = 0; round < ROUNDS; round++) {
      best.avsc = Math.min(best.avsc, timed(() => {
        for (const r of records) if ((input.reads ? decodeAvro(reader, r, 5, resolver) : decodeAvro(whole, r, 5)) !== null) sink++;
      }));
      best.compiled = Math.min(best.compiled, timed(() => {
        for (const r of records) if (compiled(r, 5) !== null) sink++;
      }));
    }
    if (sink !== 2 * ROUNDS * RECORDS) throw new Error('decode bench: a record decoded to null');
    const ns = (ms: number): number => (ms * 1e6) / RECORDS;
    const fields = `${reads.length}/${(whole as unknown as { fields: unknown[] }).fields.length}`;
    process.stdout.write(
      `${input.processor.padEnd(10)}${input.topic.padEnd(24)}${fields.padStart(8)}${ns(best.compiled).toFixed(0).padStart(13)}${ns(best.avsc).toFixed(0).padStart(10)}${(best.avsc / best.compiled).toFixed(2).padStart(9)}x\n`,
    );
  }
}

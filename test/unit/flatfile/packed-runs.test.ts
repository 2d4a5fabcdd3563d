import type { OptionTrade } from '../../../src/domain/records';
import { datasetOf } from '../../../src/producers/flatfile/datasets';
import { datasetValues, encodedRecordCodec, encodeRecord, packEncoded, unpackEncoded } from '../../../src/producers/flatfile/encode/encoded';
import { KeyPartitions, PackedValues, RunMemory } from '../../../src/producers/flatfile/ingest/packed-runs';
import { Prng } from '../../../src/generator/prng';
import { Partitioners } from 'kafkajs';

/** kafkajs's DefaultPartitioner (Java-compatible murmur2), the oracle of the producer's partitioning. */
function kafkajsPartition(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return Partitioners.DefaultPartitioner()({ topic: 't', partitionMetadata, message: { key, value: null } });
}

const values = datasetValues(datasetOf('option-trades'));

function trade(rng: Prng, line: number): OptionTrade {
  const underlying = rng.pick(['SPY', 'QQQ', 'IWM']);
  return {
    ticker: `O:${underlying}250307C00570000`, underlying, root: underlying, expiration_date: '2025-03-07', right: 'C', strike: 570,
    sip_timestamp: 1741357800000000000n + BigInt(line), participant_timestamp: null, sequence_number: null, price: 1.25,
    size: BigInt(rng.int(1, 10_000)), exchange: 300, conditions: Array.from({ length: rng.int(0, 30) }, () => rng.int(0, 200)),
    correction: null, source: 'flatfile', origin: 'x'.repeat(rng.int(1, 200)), origin_offset: BigInt(line),
  };
}

/** Message i of a packed run. */
const valueAt = (data: Buffer, ends: Uint32Array, i: number): Buffer => data.subarray(i === 0 ? 0 : ends[i - 1], ends[i]);

describe('packed runs (the flat-file producer\'s chunks)', () => {
  it('keeps every value and key in order across growth of the data and of the ends, from frames and from Buffers', () => {
    const rng = new Prng(11);
    const records = unpackEncoded(packEncoded(Array.from({ length: 20_000 }, (_, i) => encodeRecord(trade(rng, i), values.encode))));
    const memory = new RunMemory(4_096, 16); // far smaller than the run: both grow many times
    const packed = new PackedValues('t', -1, memory);
    const expected: [string, string][] = [];
    for (const [i, record] of records.entries()) {
      if (i % 7 === 3) {
        const dead = Buffer.alloc(rng.int(0, 3_000), i & 0xff);
        expect(packed.add('file.csv.gz', dead)).toBe(dead.length);
        expected.push(['file.csv.gz', dead.toString('hex')]);
      }
      expect(packed.addRecord(record)).toBe(record.value.length);
      expected.push([record.group, record.value.toString('hex')]);
    }
    const run = packed.run();
    expect(run.topic).toBe('t');
    expect(run.count).toBe(expected.length);
    const got = Array.from({ length: run.count }, (_, i): [string, string] => [run.keys[i], valueAt(run.data, run.ends, i).toString('hex')]);
    expect(got).toEqual(expected);
    expect(values.decode(valueAt(run.data, run.ends, run.count - 1))).toEqual(values.decode(records[records.length - 1].value));
  });

  it('a run\'s memory given back is the next run\'s', () => {
    const memory = new RunMemory(1_024, 8);
    const first = new PackedValues('a', 0, memory);
    first.add('k', Buffer.from('one'));
    const run = first.run();
    memory.giveBack(run);
    const second = new PackedValues('b', 2, memory);
    second.add('k', Buffer.from('two'));
    expect(second.run().data).toBe(run.data);
    expect(valueAt(second.run().data, second.run().ends, 0).toString()).toBe('two');
  });

  it('copies a decoded frame\'s value without its view, as the view reads', () => {
    const rng = new Prng(2);
    const frame = encodedRecordCodec.encode(encodeRecord(trade(rng, 1), values.encode));
    const record = encodedRecordCodec.decode(frame);
    const packed = new PackedValues('t', -1, new RunMemory(8, 1));
    packed.addRecord(record);
    const run = packed.run();
    expect(valueAt(run.data, run.ends, 0)).toEqual(record.value);
  });

  it('puts each key of a topic in the partition the producer\'s murmur2 partitioner gives it, -1 for a topic of unknown partition count', () => {
    const partitions = new KeyPartitions(new Map([['trades', 3], ['quotes', 12]]));
    for (const key of ['SPY', 'QQQ', 'IWM', 'BRK.B', 'é', '']) {
      for (const [topic, count] of [['trades', 3], ['quotes', 12]] as const) {
        expect(partitions.of(topic, key)).toBe(kafkajsPartition(key, count));
        expect(partitions.of(topic, key)).toBe(kafkajsPartition(key, count)); // again, from its cache
      }
    }
    expect(new Set(['SPY', 'QQQ', 'IWM', 'A', 'B', 'C'].map((k) => partitions.of('quotes', k))).size).toBeGreaterThan(2);
    expect(partitions.of('dead.letters', 'SPY')).toBe(-1);
  });
});

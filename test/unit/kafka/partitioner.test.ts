import { Partitioners } from 'kafkajs';
import { partitionOf } from '../../../src/kafka/partitioner';

/** kafkajs's DefaultPartitioner (Java-compatible murmur2) is the oracle. */
function kafkajsPartition(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
}

describe('partitionOf', () => {
  it('matches the Java/kafkajs default partitioner for tickers of every length and many partition counts', () => {
    const keys = ['SPY', 'QQQ', 'IWM', 'SPX', 'A', 'AB', 'ABCD', 'BRK.B', 'NVDA', 'GOOGL', 'O:SPY251219C00650000', 'é', ''];
    for (let i = 0; i < 500; i++) keys.push(`K${i * 7919}`);
    for (const partitions of [1, 2, 3, 6, 12, 50]) for (const key of keys) expect(partitionOf(key, partitions)).toBe(kafkajsPartition(key, partitions));
  });

  it('puts SPY and QQQ on one partition at 3 and 6 partitions, IWM elsewhere at 6 (the demo relies on it)', () => {
    expect(partitionOf('SPY', 6)).toBe(partitionOf('QQQ', 6));
    expect(partitionOf('SPY', 3)).toBe(partitionOf('QQQ', 3));
    expect(partitionOf('IWM', 6)).not.toBe(partitionOf('SPY', 6));
  });
});

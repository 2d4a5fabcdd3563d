import { librdkafkaLineLevel } from '../../../src/kafka/client';

describe('librdkafka lines at the level a user should see them', () => {
  it('a broker going away or restarting is debug: the client reconnects by itself', () => {
    expect(librdkafkaLineLevel(3, 'FAIL', '127.0.0.1:19092/1: Connect to ipv4#127.0.0.1:19092 failed: Connection refused')).toBe('debug');
    expect(librdkafkaLineLevel(3, 'ERROR', '1/1 brokers are down: All broker connections are down')).toBe('debug');
    expect(librdkafkaLineLevel(4, 'REQTMOUT', '127.0.0.1:19092/1: Disconnected while requesting ApiVersion')).toBe('debug');
  });

  it('other errors are warnings, warnings are info, the rest debug', () => {
    expect(librdkafkaLineLevel(3, 'TXNERR', 'Current transaction failed in state InTransaction: fenced')).toBe('warn');
    expect(librdkafkaLineLevel(4, 'CONFWARN', 'Configuration property x is deprecated')).toBe('info');
    expect(librdkafkaLineLevel(6, 'CGRPOP', 'Group "g" received op')).toBe('debug');
    expect(librdkafkaLineLevel(7, 'FETCH', 'Fetch topic x [0] at offset 12')).toBe('debug');
  });
});

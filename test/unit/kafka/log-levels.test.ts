import { logLevel as KafkaLogLevel } from 'kafkajs';
import { kafkaLineLevel } from '../../../src/kafka/client';

describe('kafkajs lines at the level a user should see them', () => {
  it('retried broker errors during start-up are debug, not console warnings', () => {
    const event = 'Response GroupCoordinator(key: 10, version: 2)';
    expect(kafkaLineLevel(KafkaLogLevel.ERROR, event, 'The group coordinator is not available')).toBe('debug');
    expect(kafkaLineLevel(KafkaLogLevel.ERROR, event, 'This is not the correct coordinator for this group')).toBe('debug');
    expect(kafkaLineLevel(KafkaLogLevel.ERROR, 'The coordinator is not aware of this member, re-joining the group', '')).toBe('debug');
    expect(kafkaLineLevel(KafkaLogLevel.ERROR, 'Response Heartbeat(key: 12, version: 3)', 'The group is rebalancing, so a rejoin is needed')).toBe('debug');
  });

  it('other kafkajs errors stay warnings, kafkajs warnings become info, the EoS retry notice is dropped', () => {
    expect(kafkaLineLevel(KafkaLogLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded', 'Connection timeout')).toBe('warn');
    expect(kafkaLineLevel(KafkaLogLevel.WARN, 'something to know', '')).toBe('info');
    expect(kafkaLineLevel(KafkaLogLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees', '')).toBe('ignore');
  });
});

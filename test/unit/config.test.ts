import * as path from 'node:path';
import { ConfigError, durationMs, loadConfig } from '../../src/config';

const configDir = path.join(__dirname, '..', '..', 'config');

describe('config', () => {
  it('loads the defaults and applies env overrides', () => {
    const config = loadConfig({ configDir, env: { OPTFLOW__GREEKS__MULTIPLIER: '10', KAFKA_BROKERS: 'a:1,b:2', OPTFLOW__UNIVERSE__UNDERLYINGS: '["SPY","QQQ"]' } });
    expect(config.greeks.multiplier).toBe(10);
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.universe.underlyings).toEqual(['SPY', 'QQQ']);
    expect(config.features.windows).toEqual(['1m', '5m', '15m', '30m']);
  });

  it('names the bad key: wrong type', () => {
    expect(() => loadConfig({ configDir, env: {}, overrides: { greeks: { multiplier: 'lots' } } })).toThrow(/greeks\.multiplier/);
  });

  it('names the bad key: unknown key instead of silently ignoring it', () => {
    expect(() => loadConfig({ configDir, env: {}, overrides: { greeks: { multipler: 100 } } })).toThrow(/greeks\.multipler: unknown key/);
  });

  it('rejects a bad window label', () => {
    expect(() => loadConfig({ configDir, env: {}, overrides: { features: { windows: ['5 minutes'] } } })).toThrow(ConfigError);
  });

  it('parses durations', () => {
    expect(durationMs('30s')).toBe(30_000);
    expect(durationMs('5m')).toBe(300_000);
    expect(durationMs('1h')).toBe(3_600_000);
  });
});

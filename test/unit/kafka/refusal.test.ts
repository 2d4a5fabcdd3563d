import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config';
import { clientProperties, isRefusal, KafkaRefusedError, routeLogs, whenRefused } from '../../../src/kafka/client';

const configDir = path.join(__dirname, '..', '..', '..', 'config');
const SECRET = 'n0t-in-any-line';

describe('security reaches every librdkafka client through clientProperties', () => {
  it('SASL_SSL: protocol, mechanism, credentials from the environment, CA', () => {
    const config = loadConfig({ configDir, env: {}, overrides: { kafka: { security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-256', ssl_ca_file: '/etc/ca.pem' } } });
    const props = clientProperties(config, 'x', { KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: SECRET });
    expect(props).toMatchObject({
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-256',
      'sasl.username': 'alice',
      'sasl.password': SECRET,
      'ssl.ca.location': '/etc/ca.pem',
      'client.id': 'optflow-x',
    });
  });

  it('PLAINTEXT by default; SASL without credentials in the environment fails before any connection', () => {
    expect(clientProperties(loadConfig({ configDir, env: {} }), '', {})['security.protocol']).toBe('plaintext');
    const sasl = loadConfig({ configDir, env: {}, overrides: { kafka: { security_protocol: 'SASL_PLAINTEXT' } } });
    expect(() => clientProperties(sasl, '', {})).toThrow(/KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
  });
});

describe('a refused client ends the command, once, without secrets', () => {
  it('tells refusals from passing faults', () => {
    expect(isRefusal({ code: -169, message: 'SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512' })).toBe(true);
    expect(isRefusal({ message: 'Error: SASL authentication error: Authentication failed during authentication due to invalid credentials' })).toBe(true);
    expect(isRefusal({ code: -181, message: 'SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified' })).toBe(true);
    expect(isRefusal({ code: -181, message: 'SSL handshake failed: Disconnected: connection reset by peer' })).toBe(false);
    expect(isRefusal({ code: -195, message: '127.0.0.1:9092/1: Connect to ipv4#127.0.0.1:9092 failed: Connection refused' })).toBe(false);
  });

  it('the first refusal logs one kafka_refused line and rejects whenRefused; later ones add nothing', async () => {
    const lines: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const client = new EventEmitter();
      routeLogs(client, 'test');
      const refused = whenRefused();
      const error = Object.assign(new Error('SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512'), { code: -169 });
      client.emit('event.error', error);
      client.emit('event.error', error);
      await expect(refused).rejects.toBeInstanceOf(KafkaRefusedError);
      await expect(whenRefused()).rejects.toThrow(/Kafka refused the connection: SASL authentication error/);
      const refusedLines = lines.filter((l) => l.includes('kafka_refused'));
      expect(refusedLines).toHaveLength(1);
      expect(JSON.parse(refusedLines[0])).toMatchObject({ level: 'error', event: 'kafka_refused', client: 'test' });
      expect(lines.join('')).not.toContain(SECRET);
    } finally {
      write.mockRestore();
    }
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config';
import {
  basicAuthHeader,
  clientConfigFlag,
  javaClientProperties,
  kafkajsOptions,
  kafkaSecurity,
  librdkafkaProperties,
  registryAuth,
  writeJavaClientProperties,
} from '../../../src/kafka/security';

const configDir = path.join(__dirname, '..', '..', '..', 'config');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-sec-'));
const ca = path.join(dir, 'ca.pem');
const cert = path.join(dir, 'client.pem');
const key = path.join(dir, 'client.key');
fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n');
fs.writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n');
fs.writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SECRET = 'pa"ss\\word-7';
const env = { KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: SECRET };

function config(kafka: Record<string, unknown>, e: NodeJS.ProcessEnv = {}) {
  return loadConfig({ configDir, env: e, overrides: { kafka } });
}

describe('kafka security mapping', () => {
  it('PLAINTEXT by default: no ssl, no sasl', () => {
    const s = kafkaSecurity(config({}), {});
    expect(s).toEqual({ protocol: 'PLAINTEXT' });
    expect(kafkajsOptions(s)).toEqual({});
    expect(librdkafkaProperties(s)).toEqual({ 'security.protocol': 'plaintext' });
    expect(javaClientProperties(s)).toBe('security.protocol=PLAINTEXT\n');
  });

  it('SASL_SSL with SCRAM-SHA-512, a CA and a client certificate: kafkajs, librdkafka and Java agree', () => {
    const s = kafkaSecurity(config({ security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-512', ssl_ca_file: ca, ssl_cert_file: cert, ssl_key_file: key }), env);
    const kjs = kafkajsOptions(s);
    expect(kjs.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'alice', password: SECRET });
    expect(kjs.ssl).toEqual({ ca: [fs.readFileSync(ca)], cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
    expect(librdkafkaProperties(s)).toEqual({
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'alice',
      'sasl.password': SECRET,
      'ssl.ca.location': ca,
      'ssl.certificate.location': cert,
      'ssl.key.location': key,
    });
    const props = javaClientProperties(s);
    // read back the way java.util.Properties does: `\\` → `\`, `\n` → newline
    const parsed = Object.fromEntries(
      props
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))]),
    );
    expect(parsed['security.protocol']).toBe('SASL_SSL');
    expect(parsed['sasl.mechanism']).toBe('SCRAM-SHA-512');
    expect(parsed['sasl.jaas.config']).toBe('org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="pa\\"ss\\\\word-7";');
    expect(parsed['ssl.truststore.type']).toBe('PEM');
    expect(parsed['ssl.truststore.location']).toBe(ca);
    expect(parsed['ssl.keystore.certificate.chain']).toBe(fs.readFileSync(cert, 'utf8').trim());
    expect(parsed['ssl.keystore.key']).toBe(fs.readFileSync(key, 'utf8').trim());
  });

  it('PLAIN over SASL_PLAINTEXT: no TLS; SSL alone: TLS with the system CAs, no SASL', () => {
    const plain = kafkaSecurity(config({ security_protocol: 'SASL_PLAINTEXT', sasl_mechanism: 'PLAIN' }), env);
    expect(kafkajsOptions(plain)).toEqual({ sasl: { mechanism: 'plain', username: 'alice', password: SECRET } });
    expect(javaClientProperties(plain)).toContain('org.apache.kafka.common.security.plain.PlainLoginModule required');
    const ssl = kafkaSecurity(config({ security_protocol: 'SSL' }), env);
    expect(kafkajsOptions(ssl)).toEqual({ ssl: true });
    expect(librdkafkaProperties(ssl)).toEqual({ 'security.protocol': 'ssl' });
  });

  it('SASL without credentials in the environment fails at start, naming the variables', () => {
    expect(() => kafkaSecurity(config({ security_protocol: 'SASL_SSL' }), { KAFKA_SASL_USERNAME: 'alice' })).toThrow(/KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
  });

  it('secrets are not configuration: no config key holds them, and the config never contains the password', () => {
    expect(() => config({ sasl_password: 'x' })).toThrow(/kafka\.sasl_password: unknown key/);
    const c = config({ security_protocol: 'SASL_SSL' }, { ...env, OPTFLOW__KAFKA__SSL_CA_FILE: ca });
    expect(JSON.stringify(c)).not.toContain(SECRET);
  });

  it('a client certificate needs its key', () => {
    expect(() => config({ ssl_cert_file: cert })).toThrow(/ssl_cert_file and kafka.ssl_key_file/);
  });

  it('the Java properties file is private to its owner; each tool gets it under its own flag', () => {
    const file = writeJavaClientProperties(kafkaSecurity(config({ security_protocol: 'SASL_PLAINTEXT' }), env), path.join(dir, 'tool.properties'));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(clientConfigFlag('topics')).toBe('--command-config');
    expect(clientConfigFlag('console-consumer')).toBe('--consumer.config');
    expect(clientConfigFlag('console-producer')).toBe('--producer.config');
  });

  it('registry basic auth from SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO (a colon in the password is kept)', () => {
    const on = { schema_registry: { basic_auth: true } };
    expect(registryAuth(on, { SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: 'key:sec:ret' })).toEqual({ username: 'key', password: 'sec:ret' });
    expect(registryAuth({ schema_registry: { basic_auth: false } }, {})).toBeUndefined();
    expect(() => registryAuth(on, {})).toThrow(/SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO/);
    expect(basicAuthHeader({ username: 'key', password: 'sec:ret' })).toBe(`Basic ${Buffer.from('key:sec:ret').toString('base64')}`);
  });
});

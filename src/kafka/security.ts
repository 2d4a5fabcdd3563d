import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError, type Config } from '../config';

/**
 * How optflow authenticates to Kafka and the schema registry, mapped once for each client that needs it:
 * librdkafka properties (@confluentinc/kafka-javascript: every producer, consumer and admin, through
 * clientProperties in client.ts), kafkajs `ssl`/`sasl` options (configs.ts only: DescribeConfigs and
 * AlterConfigs), and a Java client properties file for the Kafka command-line tools (`optflow kafka <tool>`).
 * Settings come from [kafka]; secrets only from the environment (KAFKA_SASL_USERNAME,
 * KAFKA_SASL_PASSWORD, SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO), so they are never in the Config
 * object and never printed with it. Nothing here logs.
 */

export type SecurityProtocol = Config['kafka']['security_protocol'];
export type SaslMechanism = Config['kafka']['sasl_mechanism'];

export interface KafkaSecurity {
  protocol: SecurityProtocol;
  /** Set for SASL_PLAINTEXT and SASL_SSL. */
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** Set for SSL and SASL_SSL; files are paths ("" = not set). */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export const PLAINTEXT: KafkaSecurity = { protocol: 'PLAINTEXT' };

const usesSasl = (p: SecurityProtocol): boolean => p === 'SASL_PLAINTEXT' || p === 'SASL_SSL';
const usesTls = (p: SecurityProtocol): boolean => p === 'SSL' || p === 'SASL_SSL';

/** The effective security of the configured cluster; fails (naming the variable) when a secret is missing. */
export function kafkaSecurity(config: Pick<Config, 'kafka'>, env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const k = config.kafka;
  const protocol = k.security_protocol ?? 'PLAINTEXT';
  const out: KafkaSecurity = { protocol };
  if (usesSasl(protocol)) {
    const username = env.KAFKA_SASL_USERNAME ?? '';
    const password = env.KAFKA_SASL_PASSWORD ?? '';
    if (!username || !password) {
      throw new ConfigError(`kafka.security_protocol = ${protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD in the environment`);
    }
    out.sasl = { mechanism: k.sasl_mechanism ?? 'SCRAM-SHA-512', username, password };
  }
  if (usesTls(protocol)) {
    const file = (f: string | undefined) => (f ? path.resolve(f) : undefined);
    out.tls = { caFile: file(k.ssl_ca_file), certFile: file(k.ssl_cert_file), keyFile: file(k.ssl_key_file) };
  }
  return out;
}

export type KafkajsSasl =
  | { mechanism: 'plain'; username: string; password: string }
  | { mechanism: 'scram-sha-256'; username: string; password: string }
  | { mechanism: 'scram-sha-512'; username: string; password: string };

export interface KafkajsSecurity {
  ssl?: ConnectionOptions | boolean;
  sasl?: KafkajsSasl;
}

function read(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${what} ${file}: ${(err as Error).message}`);
  }
}

/** kafkajs `ssl` and `sasl` options (the PEM files are read here). */
export function kafkajsOptions(security: KafkaSecurity): KafkajsSecurity {
  const out: KafkajsSecurity = {};
  if (security.tls) {
    const t = security.tls;
    const pem: ConnectionOptions = {};
    if (t.caFile) pem.ca = [read(t.caFile, 'kafka.ssl_ca_file')];
    if (t.certFile) pem.cert = read(t.certFile, 'kafka.ssl_cert_file');
    if (t.keyFile) pem.key = read(t.keyFile, 'kafka.ssl_key_file');
    out.ssl = Object.keys(pem).length > 0 ? pem : true;
  }
  if (security.sasl) {
    const { username, password } = security.sasl;
    const mechanism = security.sasl.mechanism.toLowerCase() as KafkajsSasl['mechanism'];
    out.sasl = { mechanism, username, password } as KafkajsSasl;
  }
  return out;
}

/** librdkafka / @confluentinc/kafka-javascript properties (merge into the client's global config). */
export function librdkafkaProperties(security: KafkaSecurity): Record<string, string> {
  const out: Record<string, string> = { 'security.protocol': security.protocol.toLowerCase() };
  if (security.sasl) {
    out['sasl.mechanisms'] = security.sasl.mechanism;
    out['sasl.username'] = security.sasl.username;
    out['sasl.password'] = security.sasl.password;
  }
  if (security.tls?.caFile) out['ssl.ca.location'] = security.tls.caFile;
  if (security.tls?.certFile) out['ssl.certificate.location'] = security.tls.certFile;
  if (security.tls?.keyFile) out['ssl.key.location'] = security.tls.keyFile;
  return out;
}

const LOGIN_MODULE: Record<SaslMechanism, string> = {
  PLAIN: 'org.apache.kafka.common.security.plain.PlainLoginModule',
  'SCRAM-SHA-256': 'org.apache.kafka.common.security.scram.ScramLoginModule',
  'SCRAM-SHA-512': 'org.apache.kafka.common.security.scram.ScramLoginModule',
};

/** A value in a Java .properties file: backslashes, line breaks and leading blanks escaped. */
function propertyValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/^\s/, (c) => `\\${c}`);
}

/** A JAAS option value: a quoted string. */
function jaasString(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The text of a Java client properties file (--command-config of the Kafka tools). Holds the password. */
export function javaClientProperties(security: KafkaSecurity): string {
  const lines = [`security.protocol=${security.protocol}`];
  if (security.sasl) {
    const s = security.sasl;
    lines.push(`sasl.mechanism=${s.mechanism}`);
    lines.push(`sasl.jaas.config=${propertyValue(`${LOGIN_MODULE[s.mechanism]} required username=${jaasString(s.username)} password=${jaasString(s.password)};`)}`);
  }
  const t = security.tls;
  if (t?.caFile) lines.push('ssl.truststore.type=PEM', `ssl.truststore.location=${propertyValue(t.caFile)}`);
  if (t?.certFile && t.keyFile) {
    // A PEM keystore given inline: Java wants key and chain in one file, users have two.
    lines.push('ssl.keystore.type=PEM');
    lines.push(`ssl.keystore.certificate.chain=${propertyValue(read(t.certFile, 'kafka.ssl_cert_file').toString('utf8').trim())}`);
    lines.push(`ssl.keystore.key=${propertyValue(read(t.keyFile, 'kafka.ssl_key_file').toString('utf8').trim())}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the Java client properties file readable by the owner only; returns its path. */
export function writeJavaClientProperties(security: KafkaSecurity, file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, javaClientProperties(security), { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

/** The option each Kafka tool reads a client properties file from (most take --command-config). */
export function clientConfigFlag(tool: string): string {
  if (tool === 'console-consumer' || tool === 'consumer-perf-test') return '--consumer.config';
  if (tool === 'console-producer' || tool === 'producer-perf-test') return '--producer.config';
  return '--command-config';
}

export interface RegistryAuth {
  username: string;
  password: string;
}

/**
 * Schema registry basic auth from SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO (`user:password`, the
 * Confluent clients' convention), used when schema_registry.basic_auth is true or the variable is set.
 */
export function registryAuth(config: { schema_registry: { basic_auth?: boolean } } | undefined, env: NodeJS.ProcessEnv = process.env): RegistryAuth | undefined {
  const info = env.SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO ?? '';
  const wanted = config?.schema_registry.basic_auth === true;
  if (!info) {
    if (wanted) throw new ConfigError('schema_registry.basic_auth = true needs SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO=user:password in the environment');
    return undefined;
  }
  const colon = info.indexOf(':');
  if (colon <= 0) throw new ConfigError('SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO must be user:password');
  return { username: info.slice(0, colon), password: info.slice(colon + 1) };
}

/** The Authorization header value for raw HTTP calls to the registry. */
export function basicAuthHeader(auth: RegistryAuth): string {
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

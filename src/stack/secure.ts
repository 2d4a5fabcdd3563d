import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The secure local stack's material, generated once under <home>/stack/secure with openssl:
 * a CA, the broker's certificate for 127.0.0.1/localhost signed by it (a PEM keystore: key + chain),
 * and SCRAM credentials for the broker itself and for optflow's clients. Files holding secrets are 0600.
 * `credentials.env` is what a user sources to talk to the secure stack; `client.toml` (no secrets) is
 * the [kafka]/[schema_registry] part to use with OPTFLOW_CONFIG.
 */

export const SECURE_MECHANISM = 'SCRAM-SHA-512' as const;

export interface SecureMaterial {
  dir: string;
  caFile: string;
  /** Broker key + certificate chain, PEM (Kafka's ssl.keystore.type=PEM). */
  keystoreFile: string;
  broker: { username: string; password: string };
  client: { username: string; password: string };
  credentialsFile: string;
  clientConfigFile: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr || r.error?.message || r.stdout}`);
}

function writeSecret(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/** Creates the material on first use, then reuses it (the broker's SCRAM users are formatted into its storage). */
export function ensureSecureMaterial(dir: string): SecureMaterial {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const m: SecureMaterial = {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    keystoreFile: path.join(dir, 'broker-keystore.pem'),
    broker: { username: 'broker', password: '' },
    client: { username: 'optflow', password: '' },
    credentialsFile: path.join(dir, 'credentials.env'),
    clientConfigFile: path.join(dir, 'client.toml'),
  };
  const secretsFile = path.join(dir, 'secrets.json');
  if (fs.existsSync(secretsFile) && fs.existsSync(m.caFile) && fs.existsSync(m.keystoreFile)) {
    const saved = JSON.parse(fs.readFileSync(secretsFile, 'utf8')) as { broker: string; client: string };
    m.broker.password = saved.broker;
    m.client.password = saved.client;
    return m;
  }
  m.broker.password = randomBytes(18).toString('base64url');
  m.client.password = randomBytes(18).toString('base64url');
  const days = '3650';
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', days, '-subj', '/CN=optflow local stack CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost'], dir);
  fs.writeFileSync(path.join(dir, 'broker.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl(['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.crt', '-days', days, '-extfile', 'broker.ext'], dir);
  writeSecret(m.keystoreFile, fs.readFileSync(path.join(dir, 'broker.key'), 'utf8') + fs.readFileSync(path.join(dir, 'broker.crt'), 'utf8'));
  for (const f of ['ca.key', 'broker.key']) fs.chmodSync(path.join(dir, f), 0o600);
  writeSecret(secretsFile, JSON.stringify({ broker: m.broker.password, client: m.client.password }));
  writeSecret(
    m.credentialsFile,
    [
      `KAFKA_SASL_USERNAME=${m.client.username}`,
      `KAFKA_SASL_PASSWORD=${m.client.password}`,
      `SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO=${m.client.username}:${m.client.password}`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    m.clientConfigFile,
    [
      '# The secure local stack (optflow stack up --secure). Secrets: source credentials.env next to this file.',
      '[kafka]',
      'security_protocol = "SASL_SSL"',
      `sasl_mechanism = "${SECURE_MECHANISM}"`,
      `ssl_ca_file = ${JSON.stringify(m.caFile)}`,
      '',
      '[schema_registry]',
      'basic_auth = true',
      '',
    ].join('\n'),
  );
  return m;
}

/** The environment a client of the secure stack needs (what credentials.env and client.toml say). */
export function secureClientEnv(m: SecureMaterial): Record<string, string> {
  return {
    OPTFLOW__KAFKA__SECURITY_PROTOCOL: 'SASL_SSL',
    OPTFLOW__KAFKA__SASL_MECHANISM: SECURE_MECHANISM,
    OPTFLOW__KAFKA__SSL_CA_FILE: m.caFile,
    OPTFLOW__SCHEMA_REGISTRY__BASIC_AUTH: 'true',
    KAFKA_SASL_USERNAME: m.client.username,
    KAFKA_SASL_PASSWORD: m.client.password,
    SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: `${m.client.username}:${m.client.password}`,
  };
}

/** A JAAS value for the broker's own SCRAM login. */
export function scramJaas(user: { username: string; password: string }): string {
  return `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user.username}" password="${user.password}";`;
}

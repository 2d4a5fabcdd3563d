import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { loadConfig } from '../../src/config';
import { LocalStack } from '../../src/stack/stack';

/**
 * Integration tests talk to a real broker, registry and S3 server:
 *  1. KAFKA_BROKERS / SCHEMA_REGISTRY_URL (and S3_ENDPOINT) when set;
 *  2. else testcontainers when a Docker engine answers;
 *  3. else the project's local stack: the services not already serving are started for the run and stopped after.
 */

const STATE = path.join(__dirname, '..', '..', '.optflow', 'test-stack.json');

function dockerAnswers(): Promise<boolean> {
  const socket = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';
  if (!process.env.DOCKER_HOST && !fs.existsSync(socket)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping', timeout: 2000 }, (res) => resolve(res.statusCode === 200));
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  if (process.env.KAFKA_BROKERS && process.env.SCHEMA_REGISTRY_URL) return;
  if (await dockerAnswers()) {
    const { startContainers } = await import('./containers');
    await startContainers();
    return;
  }
  const config = loadConfig();
  const stack = new LocalStack(config);
  const before = await stack.status();
  // Only what is not serving: a stack a bench left with Kafka and the registry up keeps running after the tests.
  const started = [...new Set(before.filter((s) => !s.serving).map((s) => s.service))];
  if (started.length > 0) await stack.up(started);
  process.env.KAFKA_BROKERS = stack.address('kafka');
  process.env.SCHEMA_REGISTRY_URL = stack.address('registry');
  process.env.S3_ENDPOINT = stack.address('s3');
  fs.mkdirSync(path.dirname(STATE), { recursive: true });
  fs.writeFileSync(STATE, JSON.stringify({ started }));
}

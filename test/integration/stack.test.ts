import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, projectRoot } from '../../src/config';
import { isLoopback, listenersOn, portOwners } from '../../src/stack/ports';
import { isAlive } from '../../src/stack/process';
import { LocalStack } from '../../src/stack/stack';
import { ephemeralLow } from './helpers';

/**
 * Regression: after demo → test → CLI, `stack down` left the schema registry running. A later start had
 * found the port taken, recorded the pid of a child that died with EADDRINUSE and lost the live one.
 * This runs its own short-lived stack (other ports, a temporary home) and never touches the shared one.
 */

const run = promisify(execFile);
const CLI = path.join(projectRoot(), 'bin', 'optflow.js');

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    server.on('error', () => resolve(false));
  });
}

/**
 * A free port below the ephemeral range: a port listen(0) hands out is an ephemeral one, which an
 * outgoing connection (the test stack's own broker starting) can take before the service binds it
 * (S3Mock once failed with "Port 37460 was already in use").
 */
async function freePort(): Promise<number> {
  const high = Math.min(ephemeralLow(), 65_000) - 2;
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * (high - 20_000));
    if (await bindable(port)) return port;
  }
}

/** A base port p with p and p+1 free (S3Mock takes two). */
async function freePair(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p < 65000 && portOwners(p + 1).length === 0 && listenersOn(p + 1).length === 0) return p;
  }
}

function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('exit', () => resolve(child.pid!));
  });
}

describe('local stack: tracks what really serves each port', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-stack-'));
  let env: NodeJS.ProcessEnv;
  let stack: LocalStack;
  let ports: number[];

  beforeAll(async () => {
    const shared = path.resolve(projectRoot(), loadConfig().stack.home, 'jars');
    fs.mkdirSync(shared, { recursive: true });
    fs.symlinkSync(shared, path.join(home, 'jars'));
    const [kafka, registry, s3] = [await freePair(), await freePort(), await freePair()];
    ports = [kafka, kafka + 1, registry, s3, s3 + 1];
    const stackEnv = {
      OPTFLOW__STACK__HOME: home,
      OPTFLOW__STACK__KAFKA_PORT: String(kafka),
      OPTFLOW__STACK__CONTROLLER_PORT: String(kafka + 1),
      OPTFLOW__STACK__REGISTRY_PORT: String(registry),
      OPTFLOW__STACK__S3_PORT: String(s3),
      OPTFLOW__STACK__KAFKA_HEAP: '384m',
      KAFKA_BROKERS: `127.0.0.1:${kafka}`,
      SCHEMA_REGISTRY_URL: `http://127.0.0.1:${registry}`,
    };
    env = { ...process.env, ...stackEnv };
    stack = new LocalStack(loadConfig({ env }));
  });

  afterAll(async () => {
    await stack.down().catch(() => undefined);
    fs.rmSync(home, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => run(process.execPath, [CLI, 'stack', ...args], { env });

  it('up binds every port to loopback only; a lost pid file is re-adopted, not replaced; down leaves nothing', async () => {
    await cli('up');
    const first = await stack.status();
    expect(first.map((s) => [s.name, s.serving])).toEqual([['kafka', true], ['registry', true], ['s3', true]]);
    for (const port of ports) {
      const listening = listenersOn(port);
      expect(listening.length).toBeGreaterThan(0);
      expect(listening.filter((l) => !isLoopback(l.address))).toEqual([]);
    }
    const registryPid = first[1].pid!;
    expect(portOwners(ports[2])).toEqual([registryPid]);

    // What the old code did to itself: the pid file names a child that died, the live registry is unrecorded.
    fs.writeFileSync(path.join(home, 'stack', 'registry.pid'), String(await deadPid()));
    const { stdout } = await cli('up');
    expect(stdout).toMatch(new RegExp(`registry\\s+serving\\s+\\S+\\s+pid ${registryPid}`));
    expect(fs.readFileSync(path.join(home, 'stack', 'registry.pid'), 'utf8')).toBe(String(registryPid));

    const pids = (await stack.status()).map((s) => s.pid!);
    await cli('down');
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    for (const port of ports) expect(listenersOn(port)).toEqual([]);
    const { stdout: after } = await cli('status').catch((e: { stdout: string }) => e);
    expect(after).not.toMatch(/serving/);
  });

  it('a port held by another program is reported as taken, never as serving, and up refuses it', async () => {
    const squatter = net.createServer().listen(ports[2], '127.0.0.1');
    await new Promise((resolve) => squatter.once('listening', resolve));
    try {
      const registry = (await stack.status()).find((s) => s.name === 'registry')!;
      expect(registry).toMatchObject({ serving: false, pid: process.pid });
      expect(registry.takenBy).toContain(`pid ${process.pid}`);
      await expect(stack.up(['registry'])).rejects.toThrow(/taken by pid/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('down never stops an unrelated process that now has a recorded pid', async () => {
    const other = spawn('sleep', ['60']);
    try {
      fs.mkdirSync(path.join(home, 'stack'), { recursive: true });
      fs.writeFileSync(path.join(home, 'stack', 'registry.pid'), String(other.pid));
      expect((await stack.status()).find((s) => s.name === 'registry')).toMatchObject({ running: false, serving: false });
      await cli('down', 'registry');
      expect(isAlive(other.pid)).toBe(true);
    } finally {
      other.kill();
    }
  });
});

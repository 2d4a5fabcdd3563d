import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, projectRoot } from '../../src/config';
import { listenersOn, portOwners } from '../../src/stack/ports';
import { portOpen } from '../../src/stack/process';
import { Layout, LocalStack, NODE_PORT_STEP, ServiceName } from '../../src/stack/stack';

/**
 * A short-lived stack of a test's own (a temporary home, free ports), for tests that stop brokers or
 * need a layout the shared stack does not have: several brokers, or SASL_SSL. Never the shared one.
 */

export interface OwnStack {
  stack: LocalStack;
  home: string;
  /** What a child process needs: the stack's settings, its broker list and registry, its security. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

async function free(port: number): Promise<boolean> {
  return portOwners(port).length === 0 && listenersOn(port).length === 0 && !(await portOpen(port));
}

/**
 * A base port whose node ports (base + 10 i, base + 1 + 10 i) are all free, then the registry's. From
 * 22002-30992 (registry and S3 below 31040): below Linux's ephemeral range (32768-60999), where an
 * outgoing connection can take a port between this check and the broker's bind, and clear of the
 * shared stack's defaults (19092, 18081, 19390).
 */
async function freePorts(brokers: number): Promise<{ kafka: number; registry: number }> {
  for (;;) {
    const kafka = 22_000 + Math.floor(Math.random() * 900) * 10 + 2;
    const wanted = Array.from({ length: brokers }, (_, i) => [kafka + NODE_PORT_STEP * i, kafka + 1 + NODE_PORT_STEP * i]).flat();
    const registry = kafka + NODE_PORT_STEP * brokers + 5;
    const all = await Promise.all([...wanted, registry].map(free));
    if (all.every(Boolean)) return { kafka, registry };
  }
}

export async function startOwnStack(layout: Layout, services: ServiceName[] = ['kafka', 'registry']): Promise<OwnStack> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'optflow-own-stack-'));
  // The jars of the configured stack home (OPTFLOW__STACK__HOME), downloaded once, shared read-only.
  const shared = path.resolve(projectRoot(), loadConfig({ env: process.env }).stack.home, 'jars');
  fs.mkdirSync(shared, { recursive: true });
  fs.symlinkSync(shared, path.join(home, 'jars'));
  const ports = await freePorts(layout.brokers);
  const stackEnv: Record<string, string> = {
    OPTFLOW__STACK__HOME: home,
    OPTFLOW__STACK__KAFKA_PORT: String(ports.kafka),
    OPTFLOW__STACK__CONTROLLER_PORT: String(ports.kafka + 1),
    OPTFLOW__STACK__REGISTRY_PORT: String(ports.registry),
    OPTFLOW__STACK__S3_PORT: String(ports.registry + 2),
    OPTFLOW__STACK__KAFKA_HEAP: '384m',
  };
  const stack = new LocalStack(loadConfig({ env: { ...process.env, ...stackEnv, NODE_ENV: 'test' } }));
  const stop = async () => {
    await stack.down(services).catch(() => undefined);
    fs.rmSync(home, { recursive: true, force: true });
  };
  try {
    await stack.up(services, layout);
  } catch (err) {
    await stop();
    throw err;
  }
  return { stack, home, env: { ...stackEnv, ...stack.clientEnv() }, stop };
}

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Config, projectRoot } from '../config';
import { createAdmin } from '../kafka/client';
import { logger } from '../util/log';
import { compileLoopbackConnectors, ensureJars, kafkaJars, LOOPBACK_INITIALIZER, s3mockJars } from './jars';
import { describeOwner, exposedAddresses, Owner, ownerOf } from './owner';
import { commandLine, portOwners } from './ports';
import { isAlive, portOpen, readPid, serviceFiles, ServiceFiles, startDetached, stopPid, waitUntil, writePid } from './process';

/**
 * The local stack without Docker: one Kafka broker+controller in KRaft mode, the schema registry,
 * and an S3-compatible server (S3Mock), all on 127.0.0.1 with the ports of docker-compose.kafka.yml.
 */

export type ServiceName = 'kafka' | 'registry' | 's3';
export const ALL_SERVICES: ServiceName[] = ['kafka', 'registry', 's3'];

export interface ServiceStatus {
  name: ServiceName;
  /** The process that really listens on the service's ports (else the pid file's, while it starts). */
  pid?: number;
  running: boolean;
  /** Answers, and is a process of this service that `down` stops. */
  serving: boolean;
  /** Set when something else holds the port: `down` will not stop it and `up` refuses to start. */
  takenBy?: string;
  /** Listening addresses beyond loopback (should be empty). */
  exposed: string[];
  address: string;
}

/** How each service's process is recognised from its command line, whoever started it. */
const MARKS: Record<ServiceName, RegExp> = {
  kafka: /\bkafka\.Kafka\b/,
  registry: /\bregistry serve\b/,
  s3: /\bS3MockApplication\b/,
};

const log = logger('stack');

/** Kafka command-line tools exposed through `optflow kafka <tool>`; same jars as the broker. */
export const KAFKA_TOOLS: Record<string, string> = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'kafka.tools.ConsoleProducer',
  configs: 'kafka.admin.ConfigCommand',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  transactions: 'org.apache.kafka.tools.TransactionsCommand',
  'delete-records': 'org.apache.kafka.tools.DeleteRecordsCommand',
  'metadata-quorum': 'org.apache.kafka.tools.MetadataQuorumCommand',
  'producer-perf-test': 'org.apache.kafka.tools.ProducerPerformance',
  'consumer-perf-test': 'org.apache.kafka.tools.ConsumerPerformance',
};

export class LocalStack {
  readonly home: string;
  readonly stateDir: string;

  constructor(private readonly config: Config) {
    this.home = path.resolve(projectRoot(), config.stack.home);
    this.stateDir = path.join(this.home, 'stack');
  }

  private files(name: ServiceName): ServiceFiles {
    return serviceFiles(this.stateDir, name);
  }

  private kafkaLibs(): string {
    return ensureJars(path.join(this.home, 'jars'), kafkaJars(this.config.stack.kafka_version), (n) =>
      process.stderr.write(`fetching ${n} from Maven Central (once)...\n`),
    );
  }

  address(name: ServiceName): string {
    const s = this.config.stack;
    const port = { kafka: s.kafka_port, registry: s.registry_port, s3: s.s3_port }[name];
    return name === 'kafka' ? `127.0.0.1:${port}` : `http://127.0.0.1:${port}`;
  }

  /** Every port a service listens on: Kafka's controller, S3Mock's HTTPS port. */
  ports(name: ServiceName): number[] {
    const s = this.config.stack;
    return { kafka: [s.kafka_port, s.controller_port], registry: [s.registry_port], s3: [s.s3_port, s.s3_port + 1] }[name];
  }

  owner(name: ServiceName): Promise<Owner> {
    return ownerOf(this.ports(name), MARKS[name]);
  }

  async up(services: ServiceName[] = ALL_SERVICES): Promise<void> {
    if (services.includes('kafka')) await this.ensure('kafka', () => this.startKafka());
    await Promise.all([
      services.includes('registry') ? this.ensure('registry', () => this.startRegistry()) : Promise.resolve(),
      services.includes('s3') ? this.ensure('s3', () => this.startS3()) : Promise.resolve(),
    ]);
  }

  /**
   * Starts a service unless a process of it already serves its ports; that one is adopted (its pid
   * recorded) so that `down` stops what really serves. A port held by anything else is an error:
   * starting anyway would record the pid of a child that dies with EADDRINUSE.
   */
  private async ensure(name: ServiceName, start: () => Promise<number>): Promise<void> {
    const owner = await this.owner(name);
    if (owner.kind === 'foreign' || owner.kind === 'unknown') {
      throw new Error(`${name}: port ${this.ports(name).join('/')} is taken by ${describeOwner(owner)}; stop it or configure [stack] ports`);
    }
    if (owner.kind === 'ours') {
      writePid(this.files(name), owner.pid);
      await waitUntil(name, () => this.ready(name, owner.pid), this.files(name), 90_000);
      return;
    }
    const pid = await start();
    try {
      await waitUntil(name, () => this.ready(name, pid), this.files(name), 90_000);
    } catch (err) {
      await stopPid(pid, 5_000);
      fs.rmSync(this.files(name).pidFile, { force: true });
      throw err;
    }
    log.info('service_started', { name, address: this.address(name), pid });
  }

  /** Ready when `pid` itself owns the service's main port (and Kafka answers metadata requests). */
  private async ready(name: ServiceName, pid: number): Promise<boolean> {
    const owner = await this.owner(name);
    if (owner.kind !== 'ours' || owner.pid !== pid || !portOwners(this.ports(name)[0]).includes(pid)) return false;
    return name === 'kafka' ? this.kafkaServes() : true;
  }

  /** Stops the recorded process and whatever process of the service serves its ports. */
  async down(services: ServiceName[] = ALL_SERVICES): Promise<void> {
    // Clients first, the broker last, so the registry leaves cleanly.
    for (const name of ['s3', 'registry', 'kafka'] as ServiceName[]) {
      if (!services.includes(name)) continue;
      const owner = await this.owner(name);
      const pids = new Set([this.recordedPid(name), owner.kind === 'ours' ? owner.pid : undefined]);
      let stopped = false;
      for (const pid of pids) if (await stopPid(pid)) stopped = true;
      fs.rmSync(this.files(name).pidFile, { force: true });
      if (stopped) log.info('service_stopped', { name });
      const left = await this.owner(name);
      if (left.kind === 'ours') throw new Error(`${name} still served by ${describeOwner(left)} after stop`);
    }
  }

  /** The pid file's process, if it still is this service (a pid can be reused by anything after a reboot). */
  private recordedPid(name: ServiceName): number | undefined {
    const pid = readPid(this.files(name));
    return pid && MARKS[name].test(commandLine(pid) ?? '') ? pid : undefined;
  }

  async status(): Promise<ServiceStatus[]> {
    return Promise.all(ALL_SERVICES.map((name) => this.serviceStatus(name)));
  }

  private async serviceStatus(name: ServiceName): Promise<ServiceStatus> {
    const owner = await this.owner(name);
    const recorded = this.recordedPid(name);
    const ours = owner.kind === 'ours';
    const base = { name, address: this.address(name), exposed: exposedAddresses(this.ports(name)) };
    if (owner.kind === 'foreign' || owner.kind === 'unknown') {
      return { ...base, pid: owner.kind === 'foreign' ? owner.pid : undefined, running: false, serving: false, takenBy: describeOwner(owner) };
    }
    const serving = ours && (name !== 'kafka' || (await this.kafkaServes()));
    return { ...base, pid: ours ? owner.pid : recorded, running: ours || isAlive(recorded), serving };
  }

  private async kafkaServes(): Promise<boolean> {
    if (!(await portOpen(this.config.stack.kafka_port))) return false;
    const admin = createAdmin({ kafka: { brokers: [this.address('kafka')], client_id: 'optflow-stack' } }, 'probe');
    try {
      await admin.connect();
      await admin.listTopics({ timeout: 3000 });
      return true;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private writeKafkaConfig(dir: string): string {
    const s = this.config.stack;
    const props = [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${s.controller_port}`,
      `listeners=PLAINTEXT://127.0.0.1:${s.kafka_port},CONTROLLER://127.0.0.1:${s.controller_port}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${s.kafka_port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${path.join(dir, 'data')}`,
      'num.partitions=1',
      'auto.create.topics.enable=false',
      // Single-node settings: nothing to replicate to, nobody to wait for.
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=10',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=10',
      'min.insync.replicas=1',
      'default.replication.factor=1',
      'group.initial.rebalance.delay.ms=0',
      'transaction.abort.timed.out.transaction.cleanup.interval.ms=10000',
      'log.segment.bytes=268435456',
      'message.max.bytes=10485760',
    ];
    const file = path.join(dir, 'server.properties');
    fs.writeFileSync(file, `${props.join('\n')}\n`);
    fs.writeFileSync(
      path.join(dir, 'log4j.properties'),
      [
        'log4j.rootLogger=WARN, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka.server.KafkaServer=INFO',
        'log4j.logger.kafka.server.BrokerServer=INFO',
        '',
      ].join('\n'),
    );
    return file;
  }

  private java(libs: string, main: string, args: string[], jvm: string[] = []): string[] {
    return [...jvm, '-cp', libs.includes('*') ? libs : `${libs}/*`, main, ...args];
  }

  private async startKafka(): Promise<number> {
    const files = this.files('kafka');
    const libs = this.kafkaLibs();
    const dir = path.join(this.stateDir, 'kafka');
    fs.mkdirSync(dir, { recursive: true });
    const propsFile = this.writeKafkaConfig(dir);
    const log4j = `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`;
    if (!fs.existsSync(path.join(dir, 'data', 'meta.properties'))) {
      const clusterId = randomBytes(16).toString('base64url');
      const format = spawnSync('java', this.java(libs, 'kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', propsFile, '--ignore-formatted'], [log4j]), {
        encoding: 'utf8',
      });
      if (format.status !== 0) throw new Error(`formatting KRaft storage failed: ${format.stderr || format.stdout}`);
    }
    const jvm = [`-Xms256m`, `-Xmx${this.config.stack.kafka_heap}`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', log4j];
    return startDetached(files, 'java', this.java(libs, 'kafka.Kafka', [propsFile], jvm));
  }

  private async startRegistry(): Promise<number> {
    const files = this.files('registry');
    const cli = path.join(projectRoot(), 'bin', 'optflow.js');
    const env = { ...process.env, KAFKA_BROKERS: this.address('kafka') };
    return startDetached(files, process.execPath, [cli, 'registry', 'serve', '--port', String(this.config.stack.registry_port)], env);
  }

  private async startS3(): Promise<number> {
    const files = this.files('s3');
    const port = this.config.stack.s3_port;
    const jars = path.join(this.home, 'jars');
    const libs = ensureJars(jars, s3mockJars(), (n) => process.stderr.write(`fetching ${n} from Maven Central (once)...\n`));
    const loopback = compileLoopbackConnectors(jars, libs);
    const root = path.join(this.stateDir, 's3', 'data');
    fs.mkdirSync(root, { recursive: true });
    const jvm = ['-Xmx384m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Dspring.main.banner-mode=off'];
    const args = [
      `--com.adobe.testing.s3mock.httpPort=${port}`,
      `--server.port=${port + 1}`,
      '--server.address=127.0.0.1',
      // S3Mock's plain-HTTP connector has no host setting: this initializer binds it to loopback too.
      `--context.initializer.classes=${LOOPBACK_INITIALIZER}`,
      `--com.adobe.testing.s3mock.store.root=${root}`,
      '--com.adobe.testing.s3mock.store.retainFilesOnExit=true',
      '--logging.level.root=WARN',
    ];
    return startDetached(files, 'java', this.java(`${libs}/*:${loopback}`, 'com.adobe.testing.s3mock.S3MockApplication', args, jvm));
  }

  /** Runs a Kafka command-line tool from the stack's jars, inheriting stdio; returns its exit code. */
  runKafkaTool(tool: string, args: string[]): number {
    return this.spawnKafkaTool(tool, args, 'inherit').status ?? 1;
  }

  /** Runs a Kafka tool and returns what it printed (benches read the perf tools' figures). */
  kafkaToolOutput(tool: string, args: string[]): string {
    const result = this.spawnKafkaTool(tool, args, 'pipe');
    if (result.status !== 0) throw new Error(`kafka ${tool} failed: ${String(result.stderr)}`);
    return String(result.stdout);
  }

  private spawnKafkaTool(tool: string, args: string[], stdio: 'inherit' | 'pipe'): ReturnType<typeof spawnSync> {
    const main = KAFKA_TOOLS[tool];
    if (!main) throw new Error(`unknown kafka tool '${tool}'; one of: ${Object.keys(KAFKA_TOOLS).join(', ')}`);
    const libs = this.kafkaLibs();
    const quiet = `-Dlog4j.configuration=file:${this.toolLog4j()}`;
    return spawnSync('java', this.java(libs, main, args, ['-Xmx512m', quiet]), { stdio, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  }

  private toolLog4j(): string {
    const file = path.join(this.home, 'tools-log4j.properties');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(this.home, { recursive: true });
      fs.writeFileSync(file, 'log4j.rootLogger=ERROR, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\nlog4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stderr.layout.ConversionPattern=%p %m%n\n');
    }
    return file;
  }
}

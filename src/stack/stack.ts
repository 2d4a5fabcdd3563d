import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Config, projectRoot } from '../config';
import { clusterBrokers } from '../kafka/client';
import { clientConfigFlag, kafkaSecurity, writeJavaClientProperties } from '../kafka/security';
import { logger } from '../util/log';
import { asmJars, compileLoopbackConnectors, ensureJars, JarSet, kafkaJars, kafkaLeaderEndpointPatch, LOOPBACK_INITIALIZER, s3mockJars } from './jars';
import { describeOwner, exposedAddresses, Owner, ownerOf } from './owner';
import { commandLine, portOwners } from './ports';
import { isAlive, portOpen, readPid, serviceFiles, ServiceFiles, startDetached, stopPid, waitUntil, writePid } from './process';
import { ensureSecureMaterial, scramJaas, SECURE_MECHANISM, SecureMaterial, secureClientEnv } from './secure';

/**
 * The local stack without Docker: Kafka in KRaft mode, the schema registry, and an S3-compatible server
 * (S3Mock), all on 127.0.0.1 with the ports of docker-compose.kafka.yml. Kafka is one broker+controller,
 * or (stack.brokers / --brokers 3) a cluster of combined nodes with RF 3 and min ISR 2 for internal
 * topics; node i listens on kafka_port + 10*(i-1) and controller_port + 10*(i-1). With stack.secure /
 * --secure the single broker listens with SASL_SSL only (SCRAM-SHA-512, a CA the stack generates).
 */

export type ServiceName = 'kafka' | 'registry' | 's3';
export const ALL_SERVICES: ServiceName[] = ['kafka', 'registry', 's3'];

/** How the stack's Kafka is laid out; fixed when its storage is formatted (kept in <home>/stack/layout.json). */
export interface Layout {
  brokers: number;
  secure: boolean;
}

/** One process of the stack: a service, and for Kafka one node of it. */
interface Unit {
  /** `kafka` (one broker) or `kafka-<i>`, `registry`, `s3`. */
  name: string;
  service: ServiceName;
  /** 1-based node index (1 for the non-Kafka services). */
  node: number;
}

/** Node i's ports are the base ports + this × (i - 1). */
export const NODE_PORT_STEP = 10;

export interface ServiceStatus {
  /** The unit: kafka (or kafka-1, kafka-2, ...), registry, s3. */
  name: string;
  service: ServiceName;
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

/**
 * Whether a command line is the service's process of the stack kept in `stateDir`. Each names its
 * directory there (Kafka its server.properties, S3 its store root, the registry `--stack-dir`), so
 * another checkout's or home's stack on the same ports is not taken for this one: adopting it would
 * let `down` stop it.
 */
export function servesStack(service: ServiceName, command: string, stateDir: string): boolean {
  return MARKS[service].test(command) && command.includes(stateDir + path.sep);
}

const log = logger('stack');

interface Claim {
  pid: number;
  started: boolean;
}

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

/**
 * A KRaft cluster id: 16 random bytes in base64url, never starting with '-', which kafka-storage would
 * take for a flag ("--cluster-id: expected one argument"; 1 start in 64). Kafka's own Uuid.randomUuid
 * draws again in that case too.
 */
export function newClusterId(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export class LocalStack {
  readonly home: string;
  readonly stateDir: string;

  constructor(private readonly config: Config) {
    this.home = path.resolve(projectRoot(), config.stack.home);
    this.stateDir = path.join(this.home, 'stack');
  }

  private get layoutFile(): string {
    return path.join(this.stateDir, 'layout.json');
  }

  /** The layout of this home's Kafka: the one it was formatted with, else the configuration's. */
  layout(): Layout {
    if (fs.existsSync(this.layoutFile)) return JSON.parse(fs.readFileSync(this.layoutFile, 'utf8')) as Layout;
    return { brokers: this.config.stack.brokers, secure: this.config.stack.secure };
  }

  /** Kafka's storage exists (a layout change then needs a fresh home). */
  private formatted(): boolean {
    return this.units(['kafka'], this.layout()).some((u) => fs.existsSync(path.join(this.nodeDir(u), 'data', 'meta.properties')));
  }

  private units(services: ServiceName[], layout = this.layout()): Unit[] {
    const out: Unit[] = [];
    for (const service of ALL_SERVICES.filter((s) => services.includes(s))) {
      if (service !== 'kafka') out.push({ name: service, service, node: 1 });
      else for (let node = 1; node <= layout.brokers; node += 1) out.push({ name: layout.brokers === 1 ? 'kafka' : `kafka-${node}`, service, node });
    }
    return out;
  }

  private unit(name: ServiceName): Unit {
    return this.units([name])[0];
  }

  private files(unit: Unit): ServiceFiles {
    return serviceFiles(this.stateDir, unit.name);
  }

  private nodeDir(unit: Unit): string {
    return path.join(this.stateDir, unit.name);
  }

  private jars(set: JarSet): string {
    return ensureJars(path.join(this.home, 'jars'), set, (n) => process.stderr.write(`fetching ${n} from Maven Central (once)...\n`));
  }

  private kafkaLibs(): string {
    return this.jars(kafkaJars(this.config.stack.kafka_version));
  }

  /** The release's jars, after the KAFKA-20734 patch where the release needs it (see LeaderEndpointPatch.java). */
  private brokerClasspath(libs: string): string {
    const patch = kafkaLeaderEndpointPatch(path.join(this.home, 'jars'), libs, this.jars(asmJars()));
    return patch ? `${patch}:${libs}/*` : `${libs}/*`;
  }

  private kafkaPorts(node: number): { broker: number; controller: number } {
    const s = this.config.stack;
    return { broker: s.kafka_port + NODE_PORT_STEP * (node - 1), controller: s.controller_port + NODE_PORT_STEP * (node - 1) };
  }

  /** Kafka: the bootstrap list (every node); the others: their URL. */
  address(name: ServiceName): string {
    if (name === 'kafka') return this.units(['kafka']).map((u) => this.unitAddress(u)).join(',');
    return this.unitAddress(this.unit(name));
  }

  private unitAddress(unit: Unit): string {
    const s = this.config.stack;
    if (unit.service === 'kafka') return `127.0.0.1:${this.kafkaPorts(unit.node).broker}`;
    return `http://127.0.0.1:${unit.service === 'registry' ? s.registry_port : s.s3_port}`;
  }

  /** Every port a unit listens on: Kafka's controller, S3Mock's HTTPS port. */
  private ports(unit: Unit): number[] {
    const s = this.config.stack;
    if (unit.service === 'kafka') {
      const p = this.kafkaPorts(unit.node);
      return [p.broker, p.controller];
    }
    return unit.service === 'registry' ? [s.registry_port] : [s.s3_port, s.s3_port + 1];
  }

  private ownerOf(unit: Unit): Promise<Owner> {
    return ownerOf(this.ports(unit), (command) => servesStack(unit.service, command, this.stateDir));
  }

  owner(name: ServiceName): Promise<Owner> {
    return this.ownerOf(this.unit(name));
  }

  /** The secure stack's CA, keystore and credentials (generated on first use). */
  secureMaterial(): SecureMaterial {
    return ensureSecureMaterial(path.join(this.stateDir, 'secure'));
  }

  /** What a client of this stack needs in its environment (broker list, registry, and for the secure stack its security). */
  clientEnv(): Record<string, string> {
    const env: Record<string, string> = { KAFKA_BROKERS: this.address('kafka'), SCHEMA_REGISTRY_URL: this.address('registry') };
    if (this.layout().secure) return { ...env, ...secureClientEnv(this.secureMaterial()) };
    return { ...env, OPTFLOW__KAFKA__SECURITY_PROTOCOL: 'PLAINTEXT', OPTFLOW__SCHEMA_REGISTRY__BASIC_AUTH: 'false' };
  }

  /**
   * Starts the services. `requested` (the --brokers / --secure flags) applies to a home whose Kafka is
   * not yet formatted; a formatted one keeps its layout, and asking for another one is an error.
   */
  async up(services: ServiceName[] = ALL_SERVICES, requested: Partial<Layout> = {}): Promise<void> {
    const current = this.layout();
    const wanted = { ...current, ...requested };
    if (wanted.secure && wanted.brokers > 1) throw new Error('--secure runs a single broker; use it without --brokers');
    if (wanted.brokers !== current.brokers || wanted.secure !== current.secure || !fs.existsSync(this.layoutFile)) {
      if (this.formatted() && (wanted.brokers !== current.brokers || wanted.secure !== current.secure)) {
        throw new Error(
          `the stack in ${this.stateDir} was created with ${current.brokers} broker(s)${current.secure ? ', secure' : ''}; ` +
            `to change that: optflow stack down, remove ${this.stateDir}, then stack up again`,
        );
      }
      fs.mkdirSync(this.stateDir, { recursive: true });
      fs.writeFileSync(this.layoutFile, JSON.stringify(wanted));
    }
    if (services.includes('kafka')) {
      // A quorum of several nodes elects a leader only once a majority runs: start every node, then wait.
      const nodes = this.units(['kafka']);
      const claims: Claim[] = [];
      for (const u of nodes) claims.push(await this.claim(u, () => this.startKafka(u)));
      await Promise.all(nodes.map((u, i) => this.settle(u, claims[i])));
      if (nodes.length > 1) await waitUntil('kafka cluster', () => this.clusterComplete(), this.files(nodes[0]), 90_000);
    }
    await Promise.all(
      this.units(services.filter((s) => s !== 'kafka')).map(async (u) => this.settle(u, await this.claim(u, () => (u.service === 'registry' ? this.startRegistry() : this.startS3())))),
    );
  }

  /**
   * Starts a unit unless a process of it already serves its ports; that one is adopted (its pid
   * recorded) so that `down` stops what really serves. A port held by anything else is an error:
   * starting anyway would record the pid of a child that dies with EADDRINUSE.
   */
  private async claim(unit: Unit, start: () => Promise<number>): Promise<Claim> {
    const owner = await this.ownerOf(unit);
    if (owner.kind === 'foreign' || owner.kind === 'unknown') {
      throw new Error(`${unit.name}: port ${this.ports(unit).join('/')} is taken by ${describeOwner(owner)}; stop it or configure [stack] ports`);
    }
    if (owner.kind === 'ours') {
      writePid(this.files(unit), owner.pid);
      return { pid: owner.pid, started: false };
    }
    return { pid: await start(), started: true };
  }

  private async settle(unit: Unit, claim: Claim): Promise<void> {
    try {
      await waitUntil(unit.name, () => this.ready(unit, claim.pid), this.files(unit), 90_000);
    } catch (err) {
      if (claim.started) {
        await stopPid(claim.pid, 5_000);
        fs.rmSync(this.files(unit).pidFile, { force: true });
      }
      throw err;
    }
    if (claim.started) log.info('service_started', { name: unit.name, address: this.unitAddress(unit), pid: claim.pid });
  }

  /** Ready when `pid` itself owns the unit's main port (and a Kafka node answers metadata requests). */
  private async ready(unit: Unit, pid: number): Promise<boolean> {
    const owner = await this.ownerOf(unit);
    if (owner.kind !== 'ours' || owner.pid !== pid || !portOwners(this.ports(unit)[0]).includes(pid)) return false;
    return unit.service === 'kafka' ? (await this.kafkaServes(unit)) > 0 : true;
  }

  private async clusterComplete(): Promise<boolean> {
    return (await this.kafkaServes(this.units(['kafka'])[0])) === this.layout().brokers;
  }

  /** Stops the recorded process and whatever process of the unit serves its ports. */
  async down(services: ServiceName[] = ALL_SERVICES): Promise<void> {
    // Clients first, the brokers last, so the registry leaves cleanly.
    const order = [...this.units(services.filter((s) => s !== 'kafka')).reverse(), ...this.units(services.filter((s) => s === 'kafka'))];
    for (const unit of order) {
      const owner = await this.ownerOf(unit);
      const pids = new Set([this.recordedPid(unit), owner.kind === 'ours' ? owner.pid : undefined]);
      let stopped = false;
      for (const pid of pids) if (await stopPid(pid)) stopped = true;
      fs.rmSync(this.files(unit).pidFile, { force: true });
      if (stopped) log.info('service_stopped', { name: unit.name });
      const left = await this.ownerOf(unit);
      if (left.kind === 'ours') throw new Error(`${unit.name} still served by ${describeOwner(left)} after stop`);
    }
  }

  /** The pid file's process, if it still is this unit's service (a pid can be reused by anything after a reboot). */
  private recordedPid(unit: Unit): number | undefined {
    const pid = readPid(this.files(unit));
    return pid && servesStack(unit.service, commandLine(pid) ?? '', this.stateDir) ? pid : undefined;
  }

  /** The pid serving a Kafka node (1-based), for tests and operators that must stop one node. */
  async nodePid(node: number): Promise<number | undefined> {
    const unit = this.units(['kafka']).find((u) => u.node === node);
    const owner = unit ? await this.ownerOf(unit) : undefined;
    return owner?.kind === 'ours' ? owner.pid : undefined;
  }

  /** Starts one stopped Kafka node again (after a crash) and waits until the cluster is whole. */
  async restartNode(node: number): Promise<void> {
    const unit = this.units(['kafka']).find((u) => u.node === node);
    if (!unit) throw new Error(`no kafka node ${node}`);
    await this.settle(unit, await this.claim(unit, () => this.startKafka(unit)));
    if (this.layout().brokers > 1) await waitUntil('kafka cluster', () => this.clusterComplete(), this.files(unit), 90_000);
  }

  async status(): Promise<ServiceStatus[]> {
    return Promise.all(this.units(ALL_SERVICES).map((unit) => this.unitStatus(unit)));
  }

  private async unitStatus(unit: Unit): Promise<ServiceStatus> {
    const owner = await this.ownerOf(unit);
    const recorded = this.recordedPid(unit);
    const ours = owner.kind === 'ours';
    const base = { name: unit.name, service: unit.service, address: this.unitAddress(unit), exposed: exposedAddresses(this.ports(unit)) };
    if (owner.kind === 'foreign' || owner.kind === 'unknown') {
      return { ...base, pid: owner.kind === 'foreign' ? owner.pid : undefined, running: false, serving: false, takenBy: describeOwner(owner) };
    }
    const serving = ours && (unit.service !== 'kafka' || (await this.kafkaServes(unit)) > 0);
    return { ...base, pid: ours ? owner.pid : recorded, running: ours || isAlive(recorded), serving };
  }

  /** The number of brokers the cluster reports through this node (0 when it does not answer). */
  private async kafkaServes(unit: Unit): Promise<number> {
    if (!(await portOpen(this.kafkaPorts(unit.node).broker))) return 0;
    const clientEnv = this.clientEnv();
    const probe = { ...this.config.kafka, brokers: [this.unitAddress(unit)], client_id: 'optflow-stack' };
    const secure = this.layout().secure
      ? { ...probe, security_protocol: 'SASL_SSL' as const, sasl_mechanism: SECURE_MECHANISM, ssl_ca_file: clientEnv.OPTFLOW__KAFKA__SSL_CA_FILE, ssl_cert_file: '', ssl_key_file: '' }
      : { ...probe, security_protocol: 'PLAINTEXT' as const };
    return (await clusterBrokers({ kafka: secure }, { ...process.env, ...clientEnv }, 3000)).length;
  }

  private writeKafkaConfig(unit: Unit, dir: string): string {
    const { brokers, secure } = this.layout();
    const all = this.units(['kafka']);
    const p = this.kafkaPorts(unit.node);
    // Internal topics: replicated on a cluster (RF 3, min ISR 2), nothing to wait for on one node.
    const rf = Math.min(brokers, 3);
    const minIsr = rf >= 3 ? 2 : 1;
    const listener = secure ? 'SASL_SSL' : 'PLAINTEXT';
    const props = [
      'process.roles=broker,controller',
      `node.id=${unit.node}`,
      `controller.quorum.voters=${all.map((u) => `${u.node}@127.0.0.1:${this.kafkaPorts(u.node).controller}`).join(',')}`,
      `listeners=${listener}://127.0.0.1:${p.broker},CONTROLLER://127.0.0.1:${p.controller}`,
      `advertised.listeners=${listener}://127.0.0.1:${p.broker}`,
      'controller.listener.names=CONTROLLER',
      `listener.security.protocol.map=${listener}:${listener},CONTROLLER:PLAINTEXT`,
      `inter.broker.listener.name=${listener}`,
      `log.dirs=${path.join(dir, 'data')}`,
      'num.partitions=1',
      'auto.create.topics.enable=false',
      `offsets.topic.replication.factor=${rf}`,
      'offsets.topic.num.partitions=10',
      `transaction.state.log.replication.factor=${rf}`,
      `transaction.state.log.min.isr=${minIsr}`,
      'transaction.state.log.num.partitions=10',
      `min.insync.replicas=${minIsr}`,
      `default.replication.factor=${rf}`,
      'group.initial.rebalance.delay.ms=0',
      'transaction.abort.timed.out.transaction.cleanup.interval.ms=10000',
      'log.segment.bytes=268435456',
      'message.max.bytes=10485760',
    ];
    if (brokers > 1) {
      // A crashed node is fenced (and leaves every ISR) after this long, not the default 9 s.
      props.push('broker.session.timeout.ms=4000', 'broker.heartbeat.interval.ms=1000', 'replica.lag.time.max.ms=10000');
    }
    if (secure) {
      const m = this.secureMaterial();
      props.push(
        `sasl.enabled.mechanisms=${SECURE_MECHANISM}`,
        `sasl.mechanism.inter.broker.protocol=${SECURE_MECHANISM}`,
        `listener.name.sasl_ssl.${SECURE_MECHANISM.toLowerCase()}.sasl.jaas.config=${scramJaas(m.broker)}`,
        'ssl.keystore.type=PEM',
        `ssl.keystore.location=${m.keystoreFile}`,
        'ssl.truststore.type=PEM',
        `ssl.truststore.location=${m.caFile}`,
        'ssl.client.auth=none',
      );
    }
    const file = path.join(dir, 'server.properties');
    fs.writeFileSync(file, `${props.join('\n')}\n`, { mode: 0o600 });
    fs.writeFileSync(
      path.join(dir, 'log4j.properties'),
      [
        'log4j.rootLogger=WARN, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka.server.KafkaServer=INFO',
        'log4j.logger.kafka.server.BrokerServer=INFO',
        // Transaction inits, and markers it could not write (a hanging transaction starts there).
        'log4j.logger.kafka.coordinator.transaction=INFO',
        '',
      ].join('\n'),
    );
    return file;
  }

  /** One cluster id for every node of this home (kept next to the layout). */
  private clusterId(): string {
    const file = path.join(this.stateDir, 'cluster-id');
    const kept = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
    // One that starts with '-' never formatted a node (see newClusterId): replace it.
    if (kept !== '' && !kept.startsWith('-')) return kept;
    const id = newClusterId();
    fs.writeFileSync(file, id);
    return id;
  }

  private java(libs: string, main: string, args: string[], jvm: string[] = []): string[] {
    return [...jvm, '-cp', libs.includes('*') ? libs : `${libs}/*`, main, ...args];
  }

  private async startKafka(unit: Unit): Promise<number> {
    const files = this.files(unit);
    const libs = this.kafkaLibs();
    const dir = this.nodeDir(unit);
    fs.mkdirSync(dir, { recursive: true });
    const propsFile = this.writeKafkaConfig(unit, dir);
    const log4j = `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`;
    if (!fs.existsSync(path.join(dir, 'data', 'meta.properties'))) {
      const scram = this.layout().secure
        ? [this.secureMaterial().broker, this.secureMaterial().client].flatMap((u) => ['--add-scram', `${SECURE_MECHANISM}=[name=${u.username},password=${u.password}]`])
        : [];
      const format = spawnSync('java', this.java(libs, 'kafka.tools.StorageTool', ['format', '-t', this.clusterId(), '-c', propsFile, '--ignore-formatted', ...scram], [log4j]), {
        encoding: 'utf8',
      });
      if (format.status !== 0) throw new Error(`formatting KRaft storage failed: ${format.stderr || format.stdout}`);
    }
    const jvm = [`-Xms256m`, `-Xmx${this.config.stack.kafka_heap}`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', log4j];
    return startDetached(files, 'java', this.java(this.brokerClasspath(libs), 'kafka.Kafka', [propsFile], jvm));
  }

  private async startRegistry(): Promise<number> {
    const files = this.files(this.unit('registry'));
    const cli = path.join(projectRoot(), 'bin', 'optflow.js');
    // The registry is a client of this stack's Kafka, and (secure stack) asks its clients for the same credentials.
    const env = { ...process.env, ...this.clientEnv() };
    const args = [cli, 'registry', 'serve', '--port', String(this.config.stack.registry_port), '--stack-dir', this.nodeDir(this.unit('registry'))];
    return startDetached(files, process.execPath, args, env);
  }

  private async startS3(): Promise<number> {
    const files = this.files(this.unit('s3'));
    const port = this.config.stack.s3_port;
    const libs = this.jars(s3mockJars());
    const loopback = compileLoopbackConnectors(path.join(this.home, 'jars'), libs);
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

  /**
   * Runs a Kafka command-line tool from the stack's jars, inheriting stdio; returns its exit code. A
   * secured cluster's settings ([kafka] + the KAFKA_SASL_* env) reach it as a client properties file,
   * written 0600 for the run and removed after.
   */
  runKafkaTool(tool: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
    return this.spawnKafkaTool(tool, args, 'inherit', env).status ?? 1;
  }

  /** Runs a Kafka tool and returns what it printed (benches read the perf tools' figures). */
  kafkaToolOutput(tool: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
    const result = this.spawnKafkaTool(tool, args, 'pipe', env);
    if (result.status !== 0) throw new Error(`kafka ${tool} failed: ${String(result.stderr)}`);
    return String(result.stdout);
  }

  private spawnKafkaTool(tool: string, args: string[], stdio: 'inherit' | 'pipe', env: NodeJS.ProcessEnv): ReturnType<typeof spawnSync> {
    const main = KAFKA_TOOLS[tool];
    if (!main) throw new Error(`unknown kafka tool '${tool}'; one of: ${Object.keys(KAFKA_TOOLS).join(', ')}`);
    const libs = this.kafkaLibs();
    const quiet = `-Dlog4j.configuration=file:${this.toolLog4j()}`;
    const security = kafkaSecurity(this.config, env);
    const flag = clientConfigFlag(tool);
    const own = security.protocol !== 'PLAINTEXT' && !args.includes(flag) && !args.includes('--help');
    const propsFile = path.join(this.home, `client-${process.pid}-${randomBytes(4).toString('hex')}.properties`);
    if (own) writeJavaClientProperties(security, propsFile);
    try {
      return spawnSync('java', this.java(libs, main, own ? [...args, flag, propsFile] : args, ['-Xmx512m', quiet]), { stdio, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    } finally {
      fs.rmSync(propsFile, { force: true });
    }
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

import { ConfigError, loadConfig } from '../config';
import { authenticate, KafkaRefusedError, whenRefused } from '../kafka/client';
import { LocalStack } from '../stack/stack';
import { setLogLevel } from '../util/log';
import { parseFlags, UsageError } from './args';
import { stackCommand } from './stack';
import { topologyCommand } from './topology';
import { processCommand, reprocessCommand, resetCommand } from './process';
import { generateCommand, produceCommand } from './produce';
import { produceWsCommand } from './produce-ws';
import { featuresCommand } from './features';
import { sinkCommand } from './sink';
import { runAllCommand } from './run-all';
import { demoCommand } from './demo';
import { inspectCommand } from './inspect';
import { ratesCommand } from './rates';
import { statusCommand } from './status';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, { run: Command; help: string }> = {
  stack: { run: stackCommand, help: 'stack up|down|status          local Kafka (KRaft) + schema registry + S3 server' },
  kafka: { run: kafkaToolCommand, help: 'kafka <tool> [args]           Kafka CLI tools: topics, consumer-groups, console-consumer, ...' },
  topology: { run: topologyCommand, help: 'topology apply|describe       create/update topics, register schemas; print the graph' },
  produce: { run: (argv) => (argv[0] === 'ws' ? produceWsCommand(argv) : produceCommand(argv)), help: 'produce flatfile --from D [--to D] [--follow] | produce ws [--feed stocks|options]   Massive flat files / live WebSocket into Kafka' },
  generate: { run: generateCommand, help: 'generate --date D --out DIR   write a seeded Massive-layout test day' },
  rates: { run: ratesCommand, help: 'rates fetch --from D [--to D] | rates import FILE.csv   daily Treasury yields (Massive REST or CSV) into rates.treasury' },
  process: { run: processCommand, help: 'process <name>                run a processor as a consumer-group member (greeks, features, ...)' },
  reset: { run: resetCommand, help: 'reset --group G --to-earliest|--to-datetime ISO [--dry-run]   rewind a stopped group (outputs written again, same generation)' },
  reprocess: { run: reprocessCommand, help: 'reprocess --from D [--to D] [--processors greeks,features] [--dry-run]   recompute history as a new generation (stop the groups first)' },
  sink: { run: sinkCommand, help: 'sink parquet --topic T --out D   write a topic to Hive-partitioned Parquet (dir or s3://)' },
  'run-all': { run: runAllCommand, help: 'run-all [--from D --local DIR]  processors + sinks (+ producer) in one process' },
  demo: { run: demoCommand, help: 'demo                          the whole topology on the bundled sample day (npm run demo)' },
  features: { run: featuresCommand, help: 'features names|tail            the ordered FEATURE_NAMES; print feature records as they arrive' },
  status: { run: statusCommand, help: 'status [--watch] [--json]     every group: members, lag, watermark, rates, late, DLQ; producers\' progress' },
  inspect: { run: inspectCommand, help: 'inspect TOPIC [--key K] [--from-datetime ISO] [--limit N] [--follow] [--table]   records decoded through the registry' },
  registry: { run: registryCommand, help: 'registry serve [--port N]     run the schema registry in the foreground' },
};

const USAGE = `usage: optflow <command> [options]\n\n${Object.values(commands)
  .map((c) => `  ${c.help}`)
  .join('\n')}\n\nGlobal: --verbose (info logs), --debug. Config: config/*.toml, env OPTFLOW__SECTION__KEY.\n`;

async function kafkaToolCommand(argv: string[]): Promise<number> {
  const [tool, ...args] = argv;
  if (!tool) throw new UsageError('usage: optflow kafka <tool> [args]');
  const config = loadConfig();
  // producer-perf-test takes its brokers in --producer-props bootstrap.servers=...
  const hasBootstrap = tool === 'producer-perf-test' || args.some((a) => a.startsWith('--bootstrap-server') || a.startsWith('--bootstrap-controller'));
  const withBootstrap = hasBootstrap || args.includes('--help') ? args : ['--bootstrap-server', config.kafka.brokers.join(','), ...args];
  return new LocalStack(config).runKafkaTool(tool, withBootstrap);
}

async function registryCommand(argv: string[]): Promise<number> {
  // --stack-dir: the local stack's directory for this registry; it only marks the process as that stack's (servesStack).
  const { positionals, values } = parseFlags(argv, { port: { type: 'string' }, 'stack-dir': { type: 'string' } });
  if (positionals[0] !== 'serve') throw new UsageError('usage: optflow registry serve [--port N]');
  const config = loadConfig();
  const { serveRegistry } = await import('../registry/main');
  await serveRegistry(config, Number(values.port ?? config.stack.registry_port));
  await new Promise(() => undefined);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--verbose' && a !== '--debug');
  if (debug) setLogLevel('debug');
  else if (verbose) setLogLevel('info');
  else if (!process.env.OPTFLOW_LOG_LEVEL) {
    try {
      setLogLevel(loadConfig().log.level);
    } catch {
      // a bad config is reported by the command itself
    }
  }
  const [name, ...rest] = args;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`optflow: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  try {
    // A cluster that refuses our credentials (or TLS trust) ends the command now: librdkafka would retry for ever.
    if (usesKafka(name, rest)) await authenticate(loadConfig());
    return await Promise.race([command.run(rest), whenRefused()]);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`optflow ${name}: ${err.message}\n`);
      return 2;
    }
    const hint = securityHint(err);
    if (hint) {
      process.stderr.write(`optflow ${name}: ${(err as Error).message}\n  ${hint}\n`);
      return 1;
    }
    throw err;
  }
}

/** Commands whose clients talk to Kafka (not the stack, the Kafka CLI tools, generate, describe, names). */
function usesKafka(name: string, argv: string[]): boolean {
  if (name === 'topology') return argv[0] === 'apply';
  if (name === 'features') return argv[0] === 'tail';
  return ['produce', 'rates', 'process', 'reset', 'sink', 'run-all', 'status', 'inspect', 'registry'].includes(name);
}

/** What to check when the cluster refused us: retrying does not help, so the command stops at once. */
function securityHint(err: unknown): string | undefined {
  const { name = '', message = '' } = (err ?? {}) as Partial<Error>;
  if (err instanceof KafkaRefusedError && /SSL handshake failed/i.test(message)) {
    return 'TLS failed: check kafka.security_protocol and kafka.ssl_ca_file (the CA that signed the brokers\' certificates)';
  }
  if (err instanceof KafkaRefusedError || /SASLAuthentication/.test(name) || /authentication failed/i.test(message)) {
    return 'Kafka rejected the credentials: check KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD and kafka.sasl_mechanism (README, Production cluster)';
  }
  if (/Confluent_Schema_Registry - Unauthorized/.test(message)) {
    return 'the schema registry refused the request: check SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO (user:password) and schema_registry.basic_auth';
  }
  if (/certificate|self.signed|unable to verify|ERR_TLS|wrong version number/i.test(message)) {
    return 'TLS failed: check kafka.security_protocol and kafka.ssl_ca_file (the CA that signed the brokers\' certificates)';
  }
  return undefined;
}

export function registerCommand(name: string, run: Command, help: string): void {
  commands[name] = { run, help };
}

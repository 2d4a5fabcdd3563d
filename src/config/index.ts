import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';

/**
 * Configuration: config/default.toml, then config/<NODE_ENV>.toml, then config/local.toml, then the
 * file named by OPTFLOW_CONFIG, then env (OPTFLOW__SECTION__KEY, KAFKA_BROKERS, SCHEMA_REGISTRY_URL).
 * Unknown keys and wrong types fail at start with the key's dotted path: no silent zero defaults.
 */

const durationLabel = z.string().regex(/^\d+(ms|s|m|h)$/, 'a duration like 30s, 1m, 5m or 1h');
const port = z.number().int().min(0).max(65535);

const ratePoint = z.object({ tenor: z.string().regex(/^\d+(d|w|m|y)$/), rate: z.number() }).strict();

export const configSchema = z
  .object({
    kafka: z
      .object({
        brokers: z.array(z.string().min(1)).min(1),
        client_id: z.string().min(1),
        security_protocol: z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']),
        sasl_mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']),
        // "" = the system's trusted CAs (SSL) / no client certificate.
        ssl_ca_file: z.string(),
        ssl_cert_file: z.string(),
        ssl_key_file: z.string(),
      })
      .strict()
      .refine((k) => (k.ssl_cert_file === '') === (k.ssl_key_file === ''), {
        message: 'set both kafka.ssl_cert_file and kafka.ssl_key_file, or neither',
      }),
    schema_registry: z
      .object({
        url: z.string().url(),
        // true: HTTP basic auth with SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO (user:password) from the environment.
        basic_auth: z.boolean(),
      })
      .strict(),
    stack: z
      .object({
        home: z.string().min(1),
        kafka_version: z.string().regex(/^\d+\.\d+\.\d+$/),
        kafka_port: port,
        controller_port: port,
        registry_port: port,
        s3_port: port,
        kafka_heap: z.string().regex(/^\d+[mg]$/),
        brokers: z.number().int().min(1).max(5),
        secure: z.boolean(),
      })
      .strict()
      .refine((s) => !(s.secure && s.brokers > 1), { message: 'stack.secure runs a single broker (stack.brokers = 1)' }),
    topics: z
      .object({
        partitions: z.number().int().positive(),
        // -1 = the broker's default.replication.factor / min.insync.replicas.
        replication_factor: z.number().int().min(-1).refine((n) => n !== 0, 'a positive count, or -1 for the broker default'),
        min_insync_replicas: z.number().int().min(-1).refine((n) => n !== 0, 'a positive count, or -1 for the broker default'),
        retention_hours: z.number().positive(),
        prefix: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ -'),
      })
      .strict(),
    universe: z
      .object({
        underlyings: z.array(z.string().min(1)).min(1),
        roots: z.record(z.string(), z.string()),
      })
      .strict(),
    massive: z
      .object({
        endpoint: z.string().url(),
        bucket: z.string().min(1),
        region: z.string().min(1),
        key_template: z.string().includes('{dataset}').includes('{date}'),
        local_dir: z.string(),
        poll_seconds: z.number().positive(),
        sort_memory_records: z.number().int().positive(),
        spill_dir: z.string(),
        encoding_threads: z.number().int().min(0),
        transaction_records: z.number().int().positive(),
        dedupe_retention_days: z.number().positive(),
        reduce_option_quotes: z.boolean(),
      })
      .strict(),
    event_time: z
      .object({
        max_out_of_orderness_ms: z.number().int().min(0),
        allowed_lateness_ms: z.number().int().min(0),
        idle_timeout_ms: z.number().int().positive(),
      })
      .strict(),
    greeks: z
      .object({
        multiplier: z.number().positive(),
        staleness_ms: z.number().int().positive(),
        underlying_price_source: z.enum(['quotes', 'trades']),
        rate: z.number().optional(),
        rate_curve: z.array(ratePoint).min(1).optional(),
        rate_source: z.enum(['auto', 'topic', 'config']),
        rate_max_age_days: z.number().int().min(0),
        max_ask_bid_ratio: z.number().gt(1),
        dividend_yields: z.record(z.string(), z.number()),
        default_dividend_yield: z.number(),
      })
      .strict()
      .refine((g) => g.rate !== undefined || g.rate_curve !== undefined, {
        message: 'set greeks.rate or greeks.rate_curve',
      }),
    aggressor: z
      .object({
        staleness_ms: z.number().int().positive(),
        epsilon: z.number().min(0),
        tick_rule_fallback: z.boolean(),
      })
      .strict(),
    rates: z
      .object({
        rest_url: z.string().url(),
        page_limit: z.number().int().min(1).max(50_000),
        retries: z.number().int().min(0),
        initial_backoff_ms: z.number().int().positive(),
        max_backoff_ms: z.number().int().positive(),
        request_timeout_ms: z.number().int().positive(),
      })
      .strict(),
    features: z
      .object({
        windows: z.array(durationLabel).min(1),
        session: z.enum(['regular', 'extended', 'all']),
        exclude_equity_conditions: z.array(z.number().int()),
        exclude_option_conditions: z.array(z.number().int()),
        dip_pvalue: z.enum(['table', 'bootstrap']),
        bootstrap_draws: z.number().int().positive(),
      })
      .strict(),
    sink: z
      .object({
        out: z.string().min(1),
        row_group_rows: z.number().int().positive(),
        target_file_mb: z.number().positive(),
        max_file_span_minutes: z.number().positive(),
        max_file_records: z.number().int().positive(),
        flush_idle_seconds: z.number().positive(),
        compression: z.enum(['ZSTD', 'SNAPPY']),
        s3_endpoint: z.string(),
        s3_region: z.string().min(1),
      })
      .strict(),
    websocket: z
      .object({
        url_stocks: z.string().regex(/^wss?:\/\//, 'a ws:// or wss:// URL'),
        url_options: z.string().regex(/^wss?:\/\//, 'a ws:// or wss:// URL'),
        subscriptions: z.object({ stocks: z.string().min(1), options: z.string().min(1) }).strict(),
        buffer_records: z.number().int().positive(),
        batch_records: z.number().int().positive(),
        heartbeat_ms: z.number().int().positive(),
        watermark_lag_ms: z.number().int().min(0),
        initial_backoff_ms: z.number().int().positive(),
        max_backoff_ms: z.number().int().positive(),
      })
      .strict(),
    metrics: z.object({ host: z.string().min(1), port, base_port: port }).strict(),
    log: z.object({ level: z.enum(['error', 'warn', 'info', 'debug']) }).strict(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isTree(v) && isTree(out[k]) ? deepMerge(out[k] as Tree, v) : v;
  }
  return out;
}

function readToml(file: string): Tree {
  try {
    return parseToml(fs.readFileSync(file, 'utf8')) as Tree;
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
  }
}

/** An env value is parsed as TOML when it looks like a TOML value (numbers, booleans, arrays), else taken as a string. */
function parseEnvValue(raw: string): unknown {
  try {
    return (parseToml(`v = ${raw}`) as Tree).v;
  } catch {
    return raw;
  }
}

function envOverrides(env: NodeJS.ProcessEnv): Tree {
  let out: Tree = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('OPTFLOW__') || raw === undefined) continue;
    const keys = name.slice('OPTFLOW__'.length).toLowerCase().split('__');
    let leaf: unknown = parseEnvValue(raw);
    for (const key of keys.reverse()) leaf = { [key]: leaf };
    out = deepMerge(out, leaf as Tree);
  }
  if (env.KAFKA_BROKERS) out = deepMerge(out, { kafka: { brokers: env.KAFKA_BROKERS.split(',').map((s) => s.trim()) } });
  if (env.SCHEMA_REGISTRY_URL) out = deepMerge(out, { schema_registry: { url: env.SCHEMA_REGISTRY_URL } });
  return out;
}

export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the optflow project root');
    dir = parent;
  }
  return dir;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  configDir?: string;
  /** Extra overrides applied last (tests, CLI flags). */
  overrides?: Tree;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? path.join(projectRoot(), 'config');
  const files = [path.join(dir, 'default.toml')];
  if (env.NODE_ENV) files.push(path.join(dir, `${env.NODE_ENV}.toml`));
  files.push(path.join(dir, 'local.toml'));
  if (env.OPTFLOW_CONFIG) files.push(path.resolve(env.OPTFLOW_CONFIG));
  let tree: Tree = {};
  for (const file of files) if (fs.existsSync(file)) tree = deepMerge(tree, readToml(file));
  tree = deepMerge(tree, envOverrides(env));
  if (options.overrides) tree = deepMerge(tree, options.overrides);
  return validateConfig(tree);
}

export function validateConfig(tree: unknown): Config {
  const result = configSchema.safeParse(tree);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k].join('.')) : [];
    const at = keys.length > 0 ? keys.join(', ') : issue.path.join('.') || '(root)';
    return `  ${at}: ${issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** The physical name of a topology topic or consumer group: the configured prefix + the logical name. */
export function physicalName(config: Pick<Config, 'topics'>, logical: string): string {
  return `${config.topics.prefix}${logical}`;
}

/** Parses '30s', '1m', '5m', '1h', '250ms' to milliseconds. */
export function durationMs(label: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(label);
  if (!m) throw new ConfigError(`not a duration: ${label}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

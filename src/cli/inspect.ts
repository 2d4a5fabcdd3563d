import { createRegistry } from '../avro/serde';
import { loadConfig, physicalName } from '../config';
import { Cluster } from '../ops/cluster';
import { DecodedRecord, RecordDecoder, toJsonLine } from '../ops/decode';
import { ReadSpec, TopicReader } from '../ops/reader';
import { parseFlags, ParsedFlags, stringFlag, UsageError } from './args';
import { flushStdout, out } from './output';

const USAGE =
  'usage: optflow inspect TOPIC [--key K] [--from-datetime ISO] [--limit N] [--follow] [--table] [--markers]\n' +
  '  TOPIC is a topology name (the configured prefix is added), e.g. option.trades, features, option.trades.dlq';

const DEFAULT_LIMIT = 100;

/**
 * `optflow inspect`: any topic's records decoded through the schema registry, as JSON lines (default)
 * or a table. The no-Docker counterpart of Kafka UI's topic browser. Reads committed records only and
 * commits nothing.
 */
export async function inspectCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    key: { type: 'string' },
    'from-datetime': { type: 'string' },
    limit: { type: 'string' },
    follow: { type: 'boolean' },
    table: { type: 'boolean' },
    markers: { type: 'boolean' },
  });
  if (flags.positionals.length !== 1) throw new UsageError(USAGE);
  const config = loadConfig();
  const topic = physicalName(config, flags.positionals[0]);
  const limit = parseLimit(flags);
  const cluster = await Cluster.connect(config, 'inspect');
  try {
    if (!(await cluster.topicExists(topic))) throw new UsageError(`no topic '${topic}' (optflow topology describe lists them)`);
    const spec = await readSpec(cluster, topic, flags);
    const print = printer(flags.values.table === true);
    const decoder = new RecordDecoder(createRegistry(config.schema_registry));
    const reader = new TopicReader(cluster.config);
    process.once('SIGINT', () => reader.stop());
    process.once('SIGTERM', () => reader.stop());
    let shown = 0;
    await reader.read(spec, async (raw) => {
      // A window key is underlying|window|start: --key SPY|30m (or SPY) selects its leading parts.
      if (spec.key !== undefined && raw.key !== spec.key && !raw.key?.startsWith(`${spec.key}|`)) return true;
      const record = await decoder.decode(raw);
      if (record.watermark !== undefined && !flags.values.markers) return true;
      await print(record);
      shown += 1;
      return limit === undefined || shown < limit;
    });
    await flushStdout();
    return 0;
  } finally {
    await cluster.close();
  }
}

function parseLimit(flags: ParsedFlags): number | undefined {
  const text = stringFlag(flags, 'limit');
  if (text === undefined) return flags.values.follow ? undefined : DEFAULT_LIMIT;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--limit must be a positive integer, got '${text}'`);
  return n;
}

/** Which partitions to read from where: a key's partition only; from a time or the start; to the current end unless following. */
async function readSpec(cluster: Cluster, topic: string, flags: ParsedFlags): Promise<ReadSpec & { key?: string }> {
  const ranges = await cluster.ranges(topic);
  const key = stringFlag(flags, 'key');
  // Every topic is partitioned by the underlying: the key, or its first part for window keys
  // (features: underlying|window|start, written to the underlying's partition).
  const keyPartition = key === undefined ? undefined : await cluster.partitionFor(topic, key.split('|')[0]);
  const wanted = ranges.filter((r) => keyPartition === undefined || r.partition === keyPartition);
  const from = stringFlag(flags, 'from-datetime');
  const at = from === undefined ? undefined : await cluster.offsetsAt(topic, parseDate(from));
  const starts = new Map(wanted.map((r) => [r.partition, at?.get(r.partition) ?? r.low]));
  const ends = flags.values.follow ? undefined : new Map(wanted.map((r) => [r.partition, r.high]));
  return { topic, starts, ends, key };
}

function parseDate(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--from-datetime: not an ISO date-time: '${text}'`);
  return ms;
}

type Printer = (r: DecodedRecord) => Promise<void>;

function printer(table: boolean): Printer {
  if (!table) return (r) => out(`${toJsonLine(r)}\n`);
  let header = '';
  return async (r) => {
    const row = tableRow(r);
    const columns = Object.keys(row);
    // A new header whenever the columns change (a marker among records, another schema version).
    if (columns.join() !== header) {
      header = columns.join();
      await out(`${columns.map((c) => fit(c, c)).join(' ')}\n`);
    }
    await out(`${columns.map((c) => fit(c, row[c])).join(' ')}\n`);
  };
}

const WIDTHS: Record<string, number> = { p: 3, offset: 9, time: 24, key: 14, reason: 24, origin: 52, position: 9, detail: 36, raw: 48, watermark: 20 };
const RIGHT = new Set(['p', 'offset', 'position']);

function fit(column: string, text: string): string {
  const width = WIDTHS[column] ?? 18;
  const cut = text.length > width ? `${text.slice(0, width - 1)}…` : text;
  return RIGHT.has(column) ? cut.padStart(width) : cut.padEnd(width);
}

const DEAD_LETTER_COLUMNS = ['reason', 'origin', 'position', 'detail', 'raw'];

/** p, offset, time, key, then the value's fields: a dead letter's reason, file and line, else its first scalar fields. */
export function tableRow(r: DecodedRecord): Record<string, string> {
  const row: Record<string, string> = { p: String(r.partition), offset: String(r.offset), time: r.timestamp, key: r.key ?? '' };
  if (r.watermark !== undefined) return { ...row, watermark: String(r.watermark) };
  if (r.error) return { ...row, error: r.error };
  const value = (r.value ?? {}) as Record<string, unknown>;
  const columns = r.schema?.endsWith('.DeadLetter') ? DEAD_LETTER_COLUMNS : Object.keys(value).filter((k) => isScalar(value[k])).slice(0, 8);
  for (const c of columns) row[c] = cell(value[c]);
  return row;
}

function isScalar(v: unknown): boolean {
  return v === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof v);
}

function cell(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString('utf8').replace(/\s+/g, ' ');
  if (typeof v === 'number') return String(Number(v.toPrecision(8)));
  return v === null || v === undefined ? '' : String(v);
}

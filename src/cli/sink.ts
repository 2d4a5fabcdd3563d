import { loadConfig } from '../config';
import { ParquetSink } from '../sinks/parquet/parquet-sink';
import { buildTopology } from '../../topology/topology';
import { parseFlags, stringFlag, UsageError } from './args';
import { untilStopped } from './lifetime';

/** `optflow sink parquet --topic <t> --out <dir | s3://bucket/prefix>`: one member of the topic's sink group. */
export async function sinkCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { topic: { type: 'string' }, out: { type: 'string' }, 'metrics-port': { type: 'string' } });
  const topic = stringFlag(flags, 'topic');
  if (flags.positionals[0] !== 'parquet' || !topic) throw new UsageError('usage: optflow sink parquet --topic <topic> [--out <dir | s3://bucket/prefix>] [--metrics-port N]');
  const config = loadConfig();
  const spec = buildTopology({ topics: { ...config.topics, prefix: '' } }).topics.find((t) => t.name === topic);
  if (!spec) throw new UsageError(`unknown topic '${topic}' (see optflow topology describe)`);
  const port = stringFlag(flags, 'metrics-port');
  const sink = new ParquetSink(config, spec.schema, { topic, out: stringFlag(flags, 'out') ?? config.sink.out, metricsPort: port ? Number(port) : undefined });
  await sink.start();
  return untilStopped(sink, `sink parquet --topic ${topic}`);
}

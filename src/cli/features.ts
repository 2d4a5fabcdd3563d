import { createRegistry, TopicSerde } from '../avro/serde';
import { loadConfig, physicalName } from '../config';
import { FEATURE_NAMES } from '../domain/features/names';
import { FeatureRecord } from '../domain/features/window-features';
import { GroupMember } from '../kafka/member';
import { parseFlags, stringFlag, UsageError } from './args';

const USAGE = 'usage: optflow features names | tail [--from-beginning] [--json] [--underlying SPY] [--window 5m] [--fields a,b,...]';

/** `optflow features names`: the ordered FEATURE_NAMES; `features tail`: records as they arrive. */
export async function featuresCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    'from-beginning': { type: 'boolean' },
    json: { type: 'boolean' },
    underlying: { type: 'string' },
    window: { type: 'string' },
    fields: { type: 'string' },
  });
  const action = flags.positionals[0];
  if (action === 'names') {
    process.stdout.write(`${FEATURE_NAMES.join('\n')}\n`);
    return 0;
  }
  if (action !== 'tail') throw new UsageError(USAGE);
  const config = loadConfig();
  const topic = physicalName(config, 'features');
  const serde = await TopicSerde.forTopic<FeatureRecord>(createRegistry(config.schema_registry), topic, 'Features');
  const fromBeginning = Boolean(flags.values['from-beginning']);
  const member = new GroupMember(config, { group: `optflow.features-tail.${process.pid}.${Date.now()}`, topics: [topic], clientSuffix: 'features-tail' });
  const fields = stringFlag(flags, 'fields')?.split(',') ?? ['underlying_price_close', 'calls_dadvv_total', 'puts_dadvv_total', 'calls_gadvv_total', 'puts_below_intrinsic_pct'];
  const underlying = stringFlag(flags, 'underlying');
  const window = stringFlag(flags, 'window');
  await member.start({
    assigned: async (partitions) => (fromBeginning ? [] : partitions.map((p) => ({ ...p, offset: -1n }))),
    revoked: async () => undefined,
    tick: async () => undefined,
    fetched: async (records) => {
      for (const message of records) {
        if (!message.value) continue;
        const r = await serde.decode(message.value);
        if ((underlying && r.underlying !== underlying) || (window && r.window !== window)) continue;
        process.stdout.write(`${flags.values.json ? toJson(r) : formatLine(r, fields)}\n`);
      }
    },
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await member.stop();
  return 0;
}

export function toJson(r: FeatureRecord): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function formatLine(r: FeatureRecord, fields: string[]): string {
  const start = new Date(Number(r.window_start_ns / 1_000_000n)).toISOString().slice(0, 19).replace('T', ' ');
  const values = fields.map((f) => {
    const v = (r as Record<string, unknown>)[f];
    return `${f}=${typeof v === 'number' ? Number(v.toPrecision(6)) : String(v)}`;
  });
  return `${r.underlying} ${r.window.padStart(3)} ${start}Z  trades=${r.underlying_trades} calls=${r.calls} puts=${r.puts}  ${values.join(' ')}`;
}

import { parseArgs, ParseArgsConfig } from 'node:util';

export type Options = NonNullable<ParseArgsConfig['options']>;

export class UsageError extends Error {}

export interface ParsedFlags {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** Parses a subcommand's flags; unknown flags are a usage error naming the flag. */
export function parseFlags(argv: string[], options: Options): ParsedFlags {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as ParsedFlags;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags.values[name];
  return typeof v === 'string' ? v : undefined;
}

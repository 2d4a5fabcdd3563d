/** Structured logs: one JSON line per event on stderr, quiet by default (warn). */

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const rank: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

let threshold: LogLevel = (process.env.OPTFLOW_LOG_LEVEL as LogLevel | undefined) ?? 'warn';

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

export function logLevel(): LogLevel {
  return threshold;
}

export type LogFields = Record<string, unknown>;

export interface Logger {
  error(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
  child(component: string): Logger;
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { message: value.message, name: value.name };
  return value;
}

function write(level: LogLevel, component: string, event: string, fields?: LogFields): void {
  if (rank[level] > rank[threshold]) return;
  const line = { ts: new Date().toISOString(), level, component, event, ...fields };
  process.stderr.write(`${JSON.stringify(line, jsonSafe)}\n`);
}

export function logger(component: string): Logger {
  return {
    error: (e, f) => write('error', component, e, f),
    warn: (e, f) => write('warn', component, e, f),
    info: (e, f) => write('info', component, e, f),
    debug: (e, f) => write('debug', component, e, f),
    child: (sub) => logger(`${component}.${sub}`),
  };
}

// Log line layouts matching the Rust proxy's tracing-subscriber output (plain and JSON); pure.
//
// Plain (fmt "full" format with the proxy's uptime timer and thread ids):
//   `[     1.000002s]  INFO ThreadId(01) linkerd::admin: Admin interface on 127.0.0.1:4191 k=v`
// JSON (fmt json with the system-time timer, span list on, current span off):
//   `{"timestamp":"2026-08-21T11:03:02.123456Z","level":"INFO","fields":{"message":"…","k":"v"},
//     "target":"linkerd::admin","threadId":"ThreadId(1)"}`
// tracing omits `spans` when an event has no current span; this proxy has no spans, so it never
// appears. Values are written as Display would (no quoting), like the proxy's `%field`s.

import type { Fields, Level } from './logger.js';

export type LogFormat = 'plain' | 'json';

export interface LogEvent {
  readonly level: Level;
  readonly target: string;
  readonly message: string;
  readonly fields?: Fields | undefined;
}

/** LINKERD2_PROXY_LOG_FORMAT: `json` in any case (surrounding spaces ignored) ⇒ JSON, else plain. */
export function parseLogFormat(value: string | undefined): LogFormat {
  return value !== undefined && value.trim().toLowerCase() === 'json' ? 'json' : 'plain';
}

/** tracing's level column: five characters, right-aligned. */
const PLAIN_LEVELS: Readonly<Record<Level, string>> = {
  error: 'ERROR',
  warn: ' WARN',
  info: ' INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
};

const JSON_LEVELS: Readonly<Record<Level, string>> = {
  error: 'ERROR',
  warn: 'WARN',
  info: 'INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
};

/** `[<secs right-aligned width 6>.<6-digit micros>s]`; sub-microsecond time is truncated. */
export function formatUptime(uptimeMs: number): string {
  // Round to whole nanoseconds first so float noise (1000.002 → 1000.00199…) can't lose a micro.
  const nanos = Math.max(0, Math.round(uptimeMs * 1e6));
  const micros = Math.floor(nanos / 1000);
  const secs = Math.floor(micros / 1e6);
  const frac = micros - secs * 1e6;
  return `[${String(secs).padStart(6)}.${String(frac).padStart(6, '0')}s]`;
}

/** RFC 3339 UTC with microseconds, as tracing-subscriber's SystemTime timer prints it. */
export function formatTimestamp(wallMs: number): string {
  const whole = Math.floor(wallMs);
  const iso = new Date(whole).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const micros = Math.floor(Math.round((wallMs - whole) * 1e6) / 1000) + (whole % 1000) * 1000;
  return `${iso.slice(0, 19)}.${String(Math.min(micros, 999_999)).padStart(6, '0')}Z`;
}

/** One plain line, newline-terminated. `threadId` is tracing's 1-based id. */
export function formatPlain(event: LogEvent, uptimeMs: number, threadId = 1): string {
  let line = `${formatUptime(uptimeMs)} ${PLAIN_LEVELS[event.level]} ThreadId(${String(threadId).padStart(2, '0')}) ${event.target}: ${event.message}`;
  const fields = event.fields;
  if (fields !== undefined) {
    for (const key in fields) {
      if (key === 'message') continue;
      const value = fields[key];
      if (value === undefined || value === null) continue;
      line += ` ${key}=${String(value)}`;
    }
  }
  return line + '\n';
}

/** One JSON line, newline-terminated. Numbers and booleans stay JSON numbers and booleans. */
export function formatJson(event: LogEvent, wallMs: number, threadId = 1): string {
  const fields: Record<string, string | number | boolean> = { message: event.message };
  const given = event.fields;
  if (given !== undefined) {
    for (const key in given) {
      if (key === 'message') continue;
      const value = given[key];
      if (value === undefined || value === null) continue;
      fields[key] = value;
    }
  }
  return (
    JSON.stringify({
      timestamp: formatTimestamp(wallMs),
      level: JSON_LEVELS[event.level],
      fields,
      target: event.target,
      threadId: `ThreadId(${threadId})`,
    }) + '\n'
  );
}

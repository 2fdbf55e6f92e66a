// The process logger: filtered, formatted lines to stdout (as the Rust proxy does), reloadable filter.

import { threadId as workerThreadId } from 'node:worker_threads';
import { systemClock, type Clock } from '../core/clock.js';
import { LEVEL_VERBOSITY, LogFilter } from './filter.js';
import { formatJson, formatPlain, type LogFormat } from './format.js';
import type { Fields, Level, Logger } from './logger.js';

/** The target of the proxy's own code; the default filter `warn,linkerd=info` shows its info lines. */
export const ROOT_TARGET = 'linkerd';

/**
 * The Rust proxy pins its access-log target off in the process log filter, so it shows up in the
 * filter string the admin endpoint reports; we keep the same directive for identical output.
 */
const ACCESS_LOG_DIRECTIVE = '_access_log=off';

/** What the admin `/proxy-log-level` endpoint drives. */
export interface LogLevelControl {
  /** The current filter in canonical form. */
  get(): string;
  /** Replaces the filter; throws (LogFilterError) with a description of the bad directive. */
  set(filter: string): void;
}

export interface RootLoggerOptions {
  /** LINKERD2_PROXY_LOG; `off` (any case) disables logging entirely. */
  readonly filter: string;
  readonly format: LogFormat;
  /** Receives each complete line. Default: process stdout (the Rust proxy logs to stdout). */
  readonly write?: (line: string) => void;
  /** Receives startup warnings about dropped directives. Default: process stderr. */
  readonly writeWarning?: (line: string) => void;
  readonly clock?: Clock;
}

export interface RootLogger extends Logger {
  /** True when the filter was `off`: nothing is logged and the level cannot be changed. */
  readonly disabled: boolean;
  /** Directives dropped at startup, one message each. */
  readonly startupWarnings: readonly string[];
  /** Strict parse; throws with a clear message and keeps the old filter on error. */
  setFilter(filter: string): void;
  filterString(): string;
  /** The admin endpoint's handle, or undefined when logging is disabled (⇒ 404). */
  levelControl(): LogLevelControl | undefined;
}

export function createRootLogger(opts: RootLoggerOptions): RootLogger {
  return new Root(opts);
}

class Core {
  filter: LogFilter;
  generation = 0;
  readonly disabled: boolean;
  readonly startupWarnings: readonly string[];
  private readonly format: LogFormat;
  private readonly write: (line: string) => void;
  private readonly clock: Clock;
  private readonly startMs: number;
  private readonly threadId = workerThreadId + 1;

  constructor(opts: RootLoggerOptions) {
    this.disabled = opts.filter.trim().toLowerCase() === 'off';
    this.format = opts.format;
    this.write = opts.write ?? writeStdout;
    this.clock = opts.clock ?? systemClock;
    this.startMs = this.clock.monotonic();
    const parsed = LogFilter.parse(this.disabled ? '' : opts.filter, { strict: false });
    this.filter = parsed.filter.withDirective(ACCESS_LOG_DIRECTIVE);
    this.startupWarnings = parsed.warnings;
    if (parsed.warnings.length > 0) {
      const warn = opts.writeWarning ?? writeStderr;
      for (const w of parsed.warnings) safely(warn, w + '\n');
    }
  }

  verbosityFor(target: string): number {
    return this.disabled ? 0 : this.filter.verbosityFor(target);
  }

  emit(level: Level, target: string, message: string, fields: Fields | undefined): void {
    try {
      const event = { level, target, message, fields };
      const line =
        this.format === 'json'
          ? formatJson(event, this.clock.now(), this.threadId)
          : formatPlain(event, this.clock.monotonic() - this.startMs, this.threadId);
      this.write(line);
    } catch {
      // Losing a log line must never break the caller (e.g. a closed stdout, a hostile toString).
    }
  }
}

class TargetLogger implements Logger {
  private generation = -1;
  private verbosity = 0;

  constructor(
    protected readonly core: Core,
    readonly target: string,
  ) {}

  /** Cached per filter generation, so the common disabled case is two comparisons. */
  private level(): number {
    if (this.generation !== this.core.generation) {
      this.verbosity = this.core.verbosityFor(this.target);
      this.generation = this.core.generation;
    }
    return this.verbosity;
  }

  enabled(level: Level): boolean {
    return LEVEL_VERBOSITY[level] <= this.level();
  }

  error(message: string, fields?: Fields): void {
    if (this.level() >= 1) this.core.emit('error', this.target, message, fields);
  }
  warn(message: string, fields?: Fields): void {
    if (this.level() >= 2) this.core.emit('warn', this.target, message, fields);
  }
  info(message: string, fields?: Fields): void {
    if (this.level() >= 3) this.core.emit('info', this.target, message, fields);
  }
  debug(message: string, fields?: Fields): void {
    if (this.level() >= 4) this.core.emit('debug', this.target, message, fields);
  }
  trace(message: string, fields?: Fields): void {
    if (this.level() >= 5) this.core.emit('trace', this.target, message, fields);
  }

  /**
   * `child('inbound')` on `linkerd` gives `linkerd::inbound`. A name that already starts with this
   * logger's target plus `::` is taken as a full target, so `child('linkerd::inbound')` works too.
   */
  child(target: string): Logger {
    const full =
      target === this.target || target.startsWith(this.target + '::')
        ? target
        : `${this.target}::${target}`;
    return new TargetLogger(this.core, full);
  }
}

class Root extends TargetLogger implements RootLogger {
  private readonly log: Logger;

  constructor(opts: RootLoggerOptions) {
    super(new Core(opts), ROOT_TARGET);
    this.log = this.child('log');
  }

  get disabled(): boolean {
    return this.core.disabled;
  }

  get startupWarnings(): readonly string[] {
    return this.core.startupWarnings;
  }

  setFilter(filter: string): void {
    if (this.core.disabled) throw new Error('logging is disabled (LINKERD2_PROXY_LOG=off)');
    const { filter: parsed } = LogFilter.parse(filter, { strict: true });
    this.core.filter = parsed.withDirective(ACCESS_LOG_DIRECTIVE);
    this.core.generation++;
    this.log.info('set new log level', { level: filter });
  }

  filterString(): string {
    return this.core.filter.toString();
  }

  levelControl(): LogLevelControl | undefined {
    if (this.core.disabled) return undefined;
    return { get: () => this.filterString(), set: (s) => this.setFilter(s) };
  }
}

function safely(write: (line: string) => void, line: string): void {
  try {
    write(line);
  } catch {
    // See Core.emit.
  }
}

let stdoutGuarded = false;

function writeStdout(line: string): void {
  if (!stdoutGuarded) {
    // A closed stdout pipe reports EPIPE as an 'error' event, which would otherwise crash the
    // process; the data plane must keep running without its log reader.
    stdoutGuarded = true;
    process.stdout.on('error', () => undefined);
  }
  process.stdout.write(line);
}

function writeStderr(line: string): void {
  process.stderr.write(line);
}

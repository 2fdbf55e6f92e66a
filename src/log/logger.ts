// The logging interface every module receives; the implementation lives in src/log/.

export type Level = 'error' | 'warn' | 'info' | 'debug' | 'trace';

export type Fields = Readonly<Record<string, string | number | boolean | undefined | null>>;

export interface Logger {
  error(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  debug(message: string, fields?: Fields): void;
  trace(message: string, fields?: Fields): void;
  /** True when a message at `level` would be written (guards costly formatting). */
  enabled(level: Level): boolean;
  /** A logger for a sub-target, e.g. `linkerd::inbound` → `linkerd::inbound::accept`. */
  child(target: string): Logger;
}

/** A logger that drops everything; the default for library users who pass none. */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  trace: () => undefined,
  enabled: () => false,
  child: () => silentLogger,
};

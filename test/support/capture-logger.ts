// A Logger that keeps every line, so tests can assert on what an operator would read.
import type { Fields, Level, Logger } from '../../src/log/logger.js';

export interface LogLine {
  readonly level: Level;
  readonly message: string;
  readonly fields: Fields;
}

export class CaptureLogger implements Logger {
  readonly lines: LogLine[] = [];
  error(message: string, fields: Fields = {}): void { this.lines.push({ level: 'error', message, fields }); }
  warn(message: string, fields: Fields = {}): void { this.lines.push({ level: 'warn', message, fields }); }
  info(message: string, fields: Fields = {}): void { this.lines.push({ level: 'info', message, fields }); }
  debug(message: string, fields: Fields = {}): void { this.lines.push({ level: 'debug', message, fields }); }
  trace(message: string, fields: Fields = {}): void { this.lines.push({ level: 'trace', message, fields }); }
  enabled(): boolean { return true; }
  child(): Logger { return this; }

  /** Lines whose message contains `text`. */
  find(text: string): LogLine[] {
    return this.lines.filter((l) => l.message.includes(text));
  }

  /** `Connection closed` reasons, in order. */
  closeReasons(): string[] {
    return this.lines.filter((l) => l.message === 'Connection closed').map((l) => String(l.fields['error']));
  }

  /** Resolves when a line containing `text` has been logged (polling; tests only). */
  async waitFor(text: string, timeoutMs = 5000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.find(text)[0];
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no log line containing '${text}' within ${timeoutMs}ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

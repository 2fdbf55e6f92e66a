// Reads variables through the format parsers, collecting every problem and warning instead of stopping at the first.
import type { Parser } from './formats.js';
import type { ConfigProblem } from './config-error.js';

export type Env = Readonly<Record<string, string | undefined>>;

const MAX_SHOWN = 80;

/** `"value"` JSON-quoted (so newlines show as \n), cut short for long values such as PEM bundles. */
export function quoteValue(value: string): string {
  return JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN - 3)}...` : value);
}

export class EnvReader {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: string[] = [];
  private readonly failedNames = new Set<string>();

  constructor(private readonly env: Env) {}

  /** The raw value; undefined when unset. The empty string counts as set, as in the Rust proxy. */
  raw(name: string): string | undefined {
    const v = Object.hasOwn(this.env, name) ? this.env[name] : undefined;
    return typeof v === 'string' ? v : undefined;
  }

  isSet(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  /** The parsed value; undefined when unset or invalid (invalid values are recorded as problems). */
  parse<T>(name: string, parser: Parser<T>): T | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    const r = parser(raw);
    if (r.ok) return r.value;
    this.invalid(name, raw, r.expected, r.detail);
    return undefined;
  }

  /** True if a value of `name` was rejected, so rules depending on it can stay quiet. */
  failed(name: string): boolean {
    return this.failedNames.has(name);
  }

  /** Records `NAME="value" is not valid: [detail; ]expected …`. */
  invalid(variable: string, value: string, expected: string, detail?: string): void {
    const why = detail === undefined ? '' : `${detail}; `;
    this.add(variable, value, expected, `${variable}=${quoteValue(value)} is not valid: ${why}expected ${expected}`);
  }

  /** Records a rule violation with its own wording (the value, if any, is appended). */
  rule(variable: string, value: string | undefined, expected: string, message: string): void {
    const shown = value === undefined ? `${variable} is not set` : `${variable}=${quoteValue(value)}`;
    this.add(variable, value, expected, `${message} (${shown}; expected ${expected})`);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /** Names present in the environment, for the unknown-variable check. */
  names(): string[] {
    return Object.keys(this.env).filter((k) => this.raw(k) !== undefined);
  }

  private add(variable: string, value: string | undefined, expected: string, message: string): void {
    this.failedNames.add(variable);
    this.problems.push({ variable, value, expected, message });
  }
}

// LINKERD2_PROXY_LOG filters: tracing-subscriber EnvFilter directives (`level`, `target=level`), pure.
//
// Semantics follow tracing-subscriber 0.3 as the Rust proxy configures it (regex off, default
// directive `warn`):
// - directives are comma-separated; each is a bare level, a bare target (= all levels for that
//   target) or `target=level`; levels are off/error/warn/info/debug/trace in any case, or 0-5;
// - a directive applies when its target is a plain string prefix of the event's target (so
//   `linkerd=info` covers `linkerd::inbound::accept`, as it covers `linkerd_app_inbound` upstream);
// - the most specific directive wins: longest target first, bare levels last; a later directive
//   for the same target replaces an earlier one; with no applicable directive nothing is enabled;
// - an input with no directives at all means `warn`.
// Span (`target[span]=…`) and field (`[{field}]`) filters are not supported: this proxy has no
// spans, so such directives are rejected (strict) or dropped with a warning (lenient).

import type { Level } from './logger.js';

/** The Rust proxy's default when LINKERD2_PROXY_LOG is unset. */
export const DEFAULT_LOG_FILTER = 'warn,linkerd=info,hickory=error';

/** How verbose each event level is; a directive enables levels up to its own verbosity. */
export const LEVEL_VERBOSITY: Readonly<Record<Level, number>> = {
  error: 1,
  warn: 2,
  info: 3,
  debug: 4,
  trace: 5,
};

/** Directive verbosity 0..5 → the name tracing prints for it. */
const FILTER_NAMES = ['off', 'error', 'warn', 'info', 'debug', 'trace'] as const;

const LEVEL_ERROR =
  'error parsing level filter: expected one of "off", "error", "warn", "info", "debug", "trace", or a number 0-5';
const DIRECTIVE_ERROR = 'invalid filter directive';
const SPAN_ERROR = 'invalid filter directive: span and field filters are not supported';

interface Directive {
  /** undefined for a bare level, which applies to every target. */
  readonly target: string | undefined;
  /** 0 (off) .. 5 (trace). */
  readonly verbosity: number;
}

/** A directive that could not be parsed; `message` names the directive and the reason. */
export class LogFilterError extends Error {
  constructor(
    readonly directive: string,
    readonly reason: string,
  ) {
    super(`\`${directive}\`: ${reason}`);
    this.name = 'LogFilterError';
  }
}

export interface ParsedLogFilter {
  readonly filter: LogFilter;
  /** One line per dropped directive (lenient mode only), worded like tracing-subscriber's. */
  readonly warnings: readonly string[];
}

export class LogFilter {
  /** Sorted most specific first, one directive per target. */
  private readonly directives: readonly Directive[];

  private constructor(directives: readonly Directive[]) {
    this.directives = directives;
  }

  /**
   * Parses a filter string. strict: the first bad directive throws a LogFilterError (admin PUT).
   * Lenient: bad directives are dropped and described in `warnings` (startup).
   */
  static parse(s: string, opts: { readonly strict: boolean }): ParsedLogFilter {
    const warnings: string[] = [];
    let set: Directive[] = [];
    for (const raw of s.split(',')) {
      const text = raw.trim();
      if (text === '') continue;
      const parsed = parseDirective(text);
      if (typeof parsed === 'string') {
        if (opts.strict) throw new LogFilterError(text, parsed);
        warnings.push(`ignoring \`${text}\`: ${parsed}`);
        continue;
      }
      set = insert(set, parsed);
    }
    if (set.length === 0) set = [{ target: undefined, verbosity: LEVEL_VERBOSITY.warn }];
    return { filter: new LogFilter(set), warnings };
  }

  /** A copy with one more directive, replacing any directive for the same target. Throws if invalid. */
  withDirective(directive: string): LogFilter {
    const parsed = parseDirective(directive.trim());
    if (typeof parsed === 'string') throw new LogFilterError(directive, parsed);
    return new LogFilter(insert([...this.directives], parsed));
  }

  /** The most verbose level enabled for `target`: 0 = nothing, 5 = trace. */
  verbosityFor(target: string): number {
    for (const d of this.directives) {
      if (d.target === undefined || target.startsWith(d.target)) return d.verbosity;
    }
    return 0;
  }

  enabled(target: string, level: Level): boolean {
    return LEVEL_VERBOSITY[level] <= this.verbosityFor(target);
  }

  /** Canonical form, as tracing displays an EnvFilter: most specific first, levels lower-case. */
  toString(): string {
    return this.directives
      .map((d) => {
        const name = FILTER_NAMES[d.verbosity] ?? 'trace';
        return d.target === undefined ? name : `${d.target}=${name}`;
      })
      .join(',');
  }
}

/** Returns the directive, or the reason it is invalid. `text` is trimmed and non-empty. */
function parseDirective(text: string): Directive | string {
  const first = text[0] ?? '';
  if (first === '[') return SPAN_ERROR;
  if (!/^[\p{L}\p{N}_:-]$/u.test(first)) return DIRECTIVE_ERROR;
  const eq = text.indexOf('=');
  const head = eq < 0 ? text : text.slice(0, eq);
  if (head.includes('[')) return SPAN_ERROR;
  if (eq < 0) {
    const verbosity = parseLevel(text);
    return verbosity === undefined
      ? { target: text, verbosity: LEVEL_VERBOSITY.trace }
      : { target: undefined, verbosity };
  }
  const levelText = text.slice(eq + 1);
  const verbosity = levelText === '' ? LEVEL_VERBOSITY.trace : parseLevel(levelText);
  if (verbosity === undefined) return LEVEL_ERROR;
  return { target: head, verbosity };
}

function parseLevel(s: string): number | undefined {
  if (/^\+?\d+$/.test(s)) {
    const n = Number(s);
    return n <= 5 ? n : undefined;
  }
  const i = (FILTER_NAMES as readonly string[]).indexOf(s.toLowerCase());
  return i < 0 ? undefined : i;
}

/** Inserts keeping tracing's order (longer targets first, then reverse-lexical, bare level last). */
function insert(set: Directive[], d: Directive): Directive[] {
  const i = set.findIndex((x) => x.target === d.target);
  if (i >= 0) {
    set[i] = d;
    return set;
  }
  set.push(d);
  set.sort(compareSpecificity);
  return set;
}

function compareSpecificity(a: Directive, b: Directive): number {
  if (a.target === undefined) return b.target === undefined ? 0 : 1;
  if (b.target === undefined) return -1;
  if (a.target.length !== b.target.length) return b.target.length - a.target.length;
  return a.target < b.target ? 1 : a.target > b.target ? -1 : 0;
}

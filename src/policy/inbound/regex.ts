// Route regexes: the controller sends Rust `regex` syntax; we compile the common subset to JS and match whole values.

export class InvalidRegexError extends Error {
  constructor(pattern: string, reason: string) {
    super(`invalid regular expression ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'InvalidRegexError';
  }
}

/** Tests whether the whole value matches. */
export type WholeMatcher = (value: string) => boolean;

/**
 * Compiles a Rust-dialect regex. Translated: a leading inline-flag group `(?i)`, `(?s)`, `(?m)`
 * (any combination) becomes JS flags, and `(?P<name>` becomes `(?<name>`. Other Rust-only syntax
 * (`(?x)`, `(?U)`, mid-pattern flag groups, `\A`, `\z`) is rejected. Compiled with the `u` flag
 * (Rust regexes are Unicode-aware); patterns valid only without it are accepted as a fallback.
 *
 * Like the upstream proxy (linkerd/http/route `path.rs`, `header.rs`, `query_param.rs`), the
 * match is the leftmost-first match of the unanchored pattern, and it counts only if it spans
 * the whole value — so `a|ab` does not match `ab`. JS and Rust both pick leftmost-first.
 * Unlike Rust's linear-time engine, JS backtracks; patterns come from the trusted controller.
 */
export function compileWholeMatch(pattern: string): WholeMatcher {
  const re = compileRustRegex(pattern);
  return (value) => {
    re.lastIndex = 0;
    const m = re.exec(value);
    return m !== null && m.index === 0 && m[0].length === value.length;
  };
}

export function compileRustRegex(pattern: string): RegExp {
  let body = pattern;
  let flags = '';
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (lead) {
    for (const f of lead[1] ?? '') {
      if (f !== 'i' && f !== 's' && f !== 'm') throw new InvalidRegexError(pattern, `unsupported flag ${f}`);
      if (!flags.includes(f)) flags += f;
    }
    body = body.slice(lead[0].length);
  }
  if (/\(\?[a-zA-Z-]+[:)]/.test(body)) throw new InvalidRegexError(pattern, 'inline flag groups are not supported');
  if (/(^|[^\\])(\\\\)*\\[Az]/.test(body)) throw new InvalidRegexError(pattern, '\\A and \\z are not supported');
  body = body.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(body, `${flags}u`);
  } catch {
    try {
      return new RegExp(body, flags);
    } catch (e) {
      throw new InvalidRegexError(pattern, e instanceof Error ? e.message : String(e));
    }
  }
}

// systemd EnvironmentFile= text: write variables so systemd (and `set -a; . FILE`) read them back verbatim.

export interface EnvEntry {
  readonly name: string;
  readonly value: string;
  /** Written above the assignment as `# ` lines. */
  readonly comment?: string;
}

/** A line or value the parser cannot read; `line` is 1-based. */
export class EnvFileError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'EnvFileError';
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Quotes a value for an EnvironmentFile. Single quotes keep everything verbatim, newlines of
 * a PEM bundle included; a value holding a single quote is double-quoted with \, ", $ and `
 * escaped, which systemd and POSIX shells both undo.
 */
export function quoteEnvValue(value: string): string {
  if (value.includes('\0')) throw new Error('an environment value cannot hold a NUL byte');
  if (!value.includes("'")) return `'${value}'`;
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/** The file's text: an optional header comment, then each entry with its comment. */
export function formatEnvFile(entries: readonly EnvEntry[], header?: string): string {
  const comment = (text: string) => text.split('\n').map((l) => (l === '' ? '#' : `# ${l}`)).join('\n') + '\n';
  let out = header === undefined ? '' : comment(header) + '\n';
  for (const e of entries) {
    if (!NAME.test(e.name)) throw new Error(`not a variable name: ${JSON.stringify(e.name)}`);
    if (e.comment !== undefined) out += comment(e.comment);
    out += `${e.name}=${quoteEnvValue(e.value)}\n`;
  }
  return out;
}

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r';
}

/**
 * Reads an EnvironmentFile as systemd does: `#`/`;` comment lines, `NAME=value` with the value
 * unquoted (trimmed; backslash escapes, trailing backslash continues the line), '…' (verbatim,
 * may span lines) or "…" (\\ \" \$ \` escapes, may span lines). Later assignments win.
 * Text after a closing quote other than blanks is rejected rather than guessed at.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  let i = 0;
  let line = 1;
  const at = () => text[i];
  const skipToEol = () => {
    while (i < text.length && at() !== '\n') i++;
  };
  while (i < text.length) {
    while (isBlank(at())) i++;
    const c = at();
    if (c === '\n') {
      i++;
      line++;
      continue;
    }
    if (c === '#' || c === ';') {
      skipToEol();
      continue;
    }
    const startLine = line;
    const nameStart = i;
    while (i < text.length && at() !== '=' && at() !== '\n') i++;
    if (at() !== '=') throw new EnvFileError(startLine, 'expected NAME=value');
    const name = text.slice(nameStart, i).trim();
    if (!NAME.test(name)) throw new EnvFileError(startLine, `not a variable name: ${JSON.stringify(name)}`);
    i++;
    while (isBlank(at())) i++;
    let value = '';
    const q = at();
    if (q === "'" || q === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new EnvFileError(startLine, `${name}: unterminated ${q}-quoted value`);
        const ch = text[i] ?? '';
        if (ch === q) break;
        if (ch === '\n') line++;
        if (q === '"' && ch === '\\') {
          const next = text[i + 1] ?? '';
          if (next === '\n') {
            i += 2;
            line++;
            continue;
          }
          if ('\\"$`'.includes(next) && next !== '') {
            value += next;
            i += 2;
            continue;
          }
        }
        value += ch;
        i++;
      }
      i++;
      while (isBlank(at())) i++;
      if (i < text.length && at() !== '\n') throw new EnvFileError(line, `${name}: unexpected text after the closing quote`);
    } else {
      while (i < text.length && at() !== '\n') {
        const ch = text[i] ?? '';
        if (ch === '\\') {
          const next = text[i + 1];
          if (next === '\n') {
            i += 2;
            line++;
            continue;
          }
          if (next !== undefined) {
            value += next;
            i += 2;
            continue;
          }
        }
        value += ch;
        i++;
      }
      value = value.replace(/[ \t\r]+$/, '');
    }
    env[name] = value;
  }
  return env;
}

// Reads a Dockerfile into stages of instructions, and decides what a .dockerignore leaves out of the context.

export interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM. */
  readonly globalArgs: readonly Instruction[];
  readonly stages: readonly Stage[];
}

/** Instructions with comments dropped and `\`-continued lines joined (the default escape char). */
export function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i] ?? '';
    if (/^\s*(#|$)/.test(first)) continue;
    const start = i + 1;
    let joined = first;
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, ' ');
      i++;
      const next = lines[i] ?? '';
      if (!/^\s*#/.test(next)) joined += next;
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(joined);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot parse ${JSON.stringify(first)}`);
    out.push({ keyword: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim(), line: start });
  }
  return out;
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Instruction[] = [];
  const stages: { image: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--platform'));
      const [image = '', as, name] = words;
      if (as !== undefined && as.toUpperCase() !== 'AS') throw new Error(`line ${ins.line}: FROM ${ins.args}`);
      stages.push({ image, name: name?.toLowerCase(), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      globalArgs.push(ins);
    } else {
      stages[stages.length - 1]?.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** COPY's flags (--from=, --chown=, ...) and its sources and destination. */
export function parseCopy(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  if (args.startsWith('[')) throw new Error('COPY in JSON form is not supported by this replay');
  const words = args.split(/\s+/);
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const [k = '', v = ''] = (words.shift() ?? '').slice(2).split('=');
    flags[k] = v;
  }
  const dest = words.pop();
  if (dest === undefined || words.length === 0) throw new Error(`COPY ${args}: needs a source and a destination`);
  return { flags, sources: words, dest };
}

/** KEY=value pairs of ENV/ARG (values may be double-quoted); `ENV KEY value` legacy form too. */
export function parseAssignments(args: string): [string, string | undefined][] {
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+([^=]*)$/.exec(args);
  if (legacy) return [[legacy[1] ?? '', legacy[2] ?? '']];
  const out: [string, string | undefined][] = [];
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=("(?:[^"\\]|\\.)*"|\S*))?/g)) {
    const raw = m[2];
    out.push([m[1] ?? '', raw === undefined ? undefined : raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw]);
  }
  return out;
}

/** `$VAR` and `${VAR}` from `vars`; unknown names become empty, as in Docker. */
export function substitute(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, a: string | undefined, b: string | undefined) => vars[a ?? b ?? ''] ?? '');
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` (or a trailing `**`) spans any number of directories, none included.
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * A .dockerignore as Docker reads it: one pattern a line, `#` comments, `!` re-includes, the
 * last matching pattern wins, and a pattern matching a directory covers everything under it.
 */
export class DockerIgnore {
  private readonly patterns: { re: RegExp; exclude: boolean; text: string }[] = [];

  constructor(text: string) {
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const exception = line.startsWith('!');
      const pattern = (exception ? line.slice(1) : line).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      this.patterns.push({ re: globToRegExp(pattern), exclude: !exception, text: pattern });
    }
  }

  /** Whether some `!` pattern might re-include a path under the ignored directory `dir`. */
  mayReinclude(dir: string): boolean {
    return this.patterns.some((p) => {
      if (p.exclude) return false;
      const literal = p.text.slice(0, p.text.search(/[*?[]|$/));
      return literal === '' || literal.startsWith(`${dir}/`) || `${dir}/`.startsWith(`${literal}/`) || dir === literal;
    });
  }

  /** Whether `rel` (a path relative to the context, `/`-separated) stays out of the context. */
  ignores(rel: string): boolean {
    const parts = rel.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const p of this.patterns) {
      if (prefixes.some((pre) => p.re.test(pre))) ignored = p.exclude;
    }
    return ignored;
  }
}

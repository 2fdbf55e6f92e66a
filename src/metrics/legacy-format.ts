// Prometheus text helpers for the legacy (hand-written) families: label strings, HELP/TYPE, samples.

export type LabelSet = Readonly<Record<string, string>>;

export type LegacyKind = 'counter' | 'gauge' | 'histogram';

/**
 * The Rust proxy writes label values unescaped; ours only differ for values containing `\`, `"`
 * or a newline, which would otherwise make the whole scrape unparseable.
 */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    : value;
}

/** `k1="v1",k2="v2"` in the record's insertion order; `` for an empty set. */
export function renderLabels(labels: LabelSet): string {
  let out = '';
  for (const key in labels) {
    const value = labels[key];
    if (value === undefined) continue;
    if (out !== '') out += ',';
    out += `${key}="${escapeLabelValue(value)}"`;
  }
  return out;
}

/** Joins two pre-rendered label strings, either of which may be empty. */
export function joinLabels(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return `${a},${b}`;
}

/** Sample values as Rust's f64 Display prints them for the magnitudes metrics reach (`1`, `0.5`). */
export function formatValue(n: number): string {
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/** Bucket bounds print like Rust f64 Display: `1`, `50`, `1000`; the last bucket is `+Inf`. */
export function formatBound(bound: number): string {
  return bound === Infinity ? '+Inf' : formatValue(bound);
}

export function writeHelp(out: string[], name: string, help: string, kind: LegacyKind): void {
  out.push(`# HELP ${name} ${help}\n# TYPE ${name} ${kind}\n`);
}

/** `name{labels} value` (or `name value` with no labels). */
export function writeSample(out: string[], name: string, labels: string, value: number): void {
  out.push(labels === '' ? `${name} ${formatValue(value)}\n` : `${name}{${labels}} ${formatValue(value)}\n`);
}

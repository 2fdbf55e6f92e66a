// Typed readers for one YAML document that record every problem with its file, resource and field path.
import type { ManifestProblem } from '../model/types.js';

export type Json = Readonly<Record<string, unknown>>;

/** Collects the problems of one resource; `errors > 0` means the resource is dropped. */
export class ParseCtx {
  errors = 0;

  /** `document N` until the resource's name is known, then `Kind namespace/name`. */
  resource: string;

  constructor(
    readonly file: string,
    readonly document: number,
    readonly kind: string,
    private readonly sink: ManifestProblem[],
  ) {
    this.resource = `document ${document}`;
  }

  /** Names the resource in every later problem. */
  named(namespace: string, name: string): void {
    this.resource = namespace === '' ? `${this.kind} ${name}` : `${this.kind} ${namespace}/${name}`;
  }

  error(field: string | undefined, message: string): undefined {
    this.errors++;
    this.push('error', field, message);
    return undefined;
  }

  warn(field: string | undefined, message: string): void {
    this.push('warning', field, message);
  }

  private push(severity: ManifestProblem['severity'], field: string | undefined, message: string): void {
    this.sink.push(Object.freeze({ severity, file: this.file, resource: this.resource, ...(field === undefined || field === '' ? {} : { field }), message }));
  }
}

/** `a.b`, `a[2]`, `a["x/y"]` (keys that are not identifiers are quoted). */
export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const plain = /^[A-Za-z_$][\w$-]*$/.test(key);
  if (!plain) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A map field; absent → undefined (or an error when required). */
export function recordField(ctx: ParseCtx, o: Json, key: string, path: string, required = false): Json | undefined {
  const v = o[key];
  const p = at(path, key);
  if (v === undefined || v === null) return required ? ctx.error(p, 'is required') : undefined;
  if (!isRecord(v)) return ctx.error(p, `must be a map, not ${describe(v)}`);
  return v;
}

export function listField(ctx: ParseCtx, o: Json, key: string, path: string, required = false): readonly unknown[] | undefined {
  const v = o[key];
  const p = at(path, key);
  if (v === undefined || v === null) return required ? ctx.error(p, 'is required') : undefined;
  if (!Array.isArray(v)) return ctx.error(p, `must be a list, not ${describe(v)}`);
  return v as readonly unknown[];
}

/** Each element of a list field that is a map, with its path; other elements are errors. */
export function recordItems(ctx: ParseCtx, o: Json, key: string, path: string, required = false): { value: Json; path: string }[] {
  const items = listField(ctx, o, key, path, required) ?? [];
  const out: { value: Json; path: string }[] = [];
  items.forEach((v, i) => {
    const p = at(at(path, key), i);
    if (isRecord(v)) out.push({ value: v, path: p });
    else ctx.error(p, `must be a map, not ${describe(v)}`);
  });
  return out;
}

export interface StringOptions {
  readonly required?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Checked after the length; the message says what was expected. */
  readonly pattern?: { readonly re: RegExp; readonly expected: string };
  readonly oneOf?: readonly string[];
}

export function stringField(ctx: ParseCtx, o: Json, key: string, path: string, opts: StringOptions = {}): string | undefined {
  const v = o[key];
  const p = at(path, key);
  if (v === undefined || v === null) return opts.required === true ? ctx.error(p, 'is required') : undefined;
  if (typeof v !== 'string') return ctx.error(p, `must be a string, not ${describe(v)}`);
  return checkString(ctx, v, p, opts);
}

export function checkString(ctx: ParseCtx, v: string, p: string, opts: StringOptions): string | undefined {
  if (opts.minLength !== undefined && v.length < opts.minLength) return ctx.error(p, opts.minLength === 1 ? 'must not be empty' : `must be at least ${opts.minLength} characters`);
  if (opts.maxLength !== undefined && v.length > opts.maxLength) return ctx.error(p, `must be at most ${opts.maxLength} characters`);
  if (opts.pattern !== undefined && !opts.pattern.re.test(v)) return ctx.error(p, `${JSON.stringify(v)} is not ${opts.pattern.expected}`);
  if (opts.oneOf !== undefined && !opts.oneOf.includes(v)) return ctx.error(p, `${JSON.stringify(v)} must be one of ${opts.oneOf.map((s) => JSON.stringify(s)).join(', ')}`);
  return v;
}

export function intField(ctx: ParseCtx, o: Json, key: string, path: string, range: { min: number; max: number; required?: boolean }): number | undefined {
  const v = o[key];
  const p = at(path, key);
  if (v === undefined || v === null) return range.required === true ? ctx.error(p, 'is required') : undefined;
  return checkInt(ctx, v, p, range);
}

export function checkInt(ctx: ParseCtx, v: unknown, p: string, range: { min: number; max: number }): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v)) return ctx.error(p, `must be an integer, not ${describe(v)}`);
  if (v < range.min || v > range.max) return ctx.error(p, `${v} is out of range (${range.min}-${range.max})`);
  return v;
}

/** A port given as a number (1-65535) or a name (IANA service name). */
export function portRef(ctx: ParseCtx, v: unknown, p: string): number | string | undefined {
  if (typeof v === 'string') {
    if (/^\d+$/.test(v)) return ctx.error(p, `${JSON.stringify(v)} is a quoted number, which Kubernetes reads as a port name; write ${v} without quotes`);
    return checkString(ctx, v, p, { pattern: PORT_NAME });
  }
  return checkInt(ctx, v, p, { min: 1, max: 65535 });
}

/** A map of string to string (labels, annotations, matchLabels, selectors). */
export function stringMapField(ctx: ParseCtx, o: Json, key: string, path: string): Readonly<Record<string, string>> {
  const m = recordField(ctx, o, key, path);
  const out: Record<string, string> = {};
  if (m === undefined) return Object.freeze(out);
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'string') out[k] = v;
    else ctx.error(at(at(path, key), k), `must be a string, not ${describe(v)} (quote it in YAML)`);
  }
  return Object.freeze(out);
}

export function stringList(ctx: ParseCtx, o: Json, key: string, path: string): readonly string[] {
  const items = listField(ctx, o, key, path) ?? [];
  const out: string[] = [];
  items.forEach((v, i) => {
    if (typeof v === 'string') out.push(v);
    else ctx.error(at(at(path, key), i), `must be a string, not ${describe(v)}`);
  });
  return Object.freeze(out);
}

/** An RFC 1123 label, as Kubernetes requires of namespace and service names. */
export const DNS_LABEL = { re: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, expected: 'a DNS label (lower-case letters, digits and "-", at most 63)' };
/** An RFC 1123 subdomain, as most object names must be. */
export const DNS_SUBDOMAIN = {
  re: /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  expected: 'a DNS subdomain (lower-case letters, digits, "-" and ".")',
};
/** An IANA service name: what a named port must be. */
export const PORT_NAME = { re: /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, expected: 'a port name (at most 15 lower-case letters, digits and "-", with a letter)' };

// Readers for protobufjs `toObject` output: proto3 defaults for absent fields, path-qualified errors for bad ones.
import { ProxyError } from '../../core/errors.js';

/** A `Server` message could not be turned into a policy; the caller uses the invalid policy instead. */
export class InvalidServerError extends ProxyError {
  constructor(
    /** Where in the message, e.g. `authorizations[2].authentication` ('' for the root). */
    readonly path: string,
    readonly reason: string,
  ) {
    super(path === '' ? reason : `${path}: ${reason}`, 'INVALID_SERVER_POLICY');
  }
}

export type Obj = Readonly<Record<string, unknown>>;

export function child(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

export function fail(path: string, reason: string): never {
  throw new InvalidServerError(path, reason);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The root value must be a message object. */
export function asMessage(v: unknown, path: string): Obj {
  if (!isObj(v)) fail(path, `expected a message object, got ${describe(v)}`);
  return v;
}

/** An optional sub-message: undefined/null when unset. */
export function optMessage(o: Obj, name: string, path: string): Obj | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  return asMessage(v, child(path, name));
}

export function reqMessage(o: Obj, name: string, path: string, reason = 'missing'): Obj {
  return optMessage(o, name, path) ?? fail(child(path, name), reason);
}

export function str(o: Obj, name: string, path: string): string {
  const v = o[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(child(path, name), `expected a string, got ${describe(v)}`);
  return v;
}

export function u32(o: Obj, name: string, path: string): number {
  const v = o[name];
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    fail(child(path, name), `expected a uint32, got ${describe(v)}`);
  }
  return n;
}

/** A repeated field: each element with its own path. */
export function list(o: Obj, name: string, path: string): { value: unknown; path: string }[] {
  const v = o[name];
  if (v === undefined || v === null) return [];
  const p = child(path, name);
  if (!Array.isArray(v)) fail(p, `expected a list, got ${describe(v)}`);
  return v.map((value: unknown, i) => ({ value, path: `${p}[${i}]` }));
}

/** A repeated string field. */
export function strings(o: Obj, name: string, path: string): string[] {
  return list(o, name, path).map(({ value, path: p }) => {
    if (typeof value !== 'string') fail(p, `expected a string, got ${describe(value)}`);
    return value;
  });
}

/** A `map<string, string>` field (a plain object, or a Map). */
export function stringMap(o: Obj, name: string, path: string): Map<string, string> {
  const v = o[name];
  const out = new Map<string, string>();
  if (v === undefined || v === null) return out;
  const p = child(path, name);
  const entries: [unknown, unknown][] = v instanceof Map ? [...(v as Map<unknown, unknown>)] : isObj(v) ? Object.entries(v) : fail(p, `expected a map, got ${describe(v)}`);
  for (const [k, val] of entries) {
    if (typeof k !== 'string' || typeof val !== 'string') fail(`${p}[${JSON.stringify(k)}]`, 'expected string keys and values');
    out.set(k, val);
  }
  return out;
}

/**
 * Which member of a oneof is set. Uses the virtual field protobufjs adds with `oneofs: true`
 * when present; otherwise the single member that is present.
 */
export function oneof(
  o: Obj,
  virtual: string,
  members: readonly string[],
  path: string,
): { name: string; value: unknown; path: string } | undefined {
  const named = o[virtual];
  if (typeof named === 'string' && members.includes(named)) {
    const value = o[named];
    if (value === undefined || value === null) fail(child(path, named), `oneof ${virtual} names ${named}, which is unset`);
    return { name: named, value, path: child(path, named) };
  }
  const set = members.filter((m) => o[m] !== undefined && o[m] !== null);
  if (set.length > 1) fail(path, `oneof ${virtual} has several members set (${set.join(', ')})`);
  const name = set[0];
  return name === undefined ? undefined : { name, value: o[name], path: child(path, name) };
}

/**
 * A 64-bit integer as protobufjs may present it: a number (`longs: Number`; exact only up to
 * 2^53), a decimal string (`longs: String`, exact), a bigint, or a Long-like `{low, high}`.
 */
export function int64(v: unknown, path: string, signed: boolean): bigint {
  if (v === undefined || v === null) return 0n;
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) fail(path, `expected an integer, got ${describe(v)}`);
    n = BigInt(v);
  } else if (typeof v === 'string') {
    if (!/^-?\d+$/.test(v)) fail(path, `expected a decimal integer string, got ${describe(v)}`);
    n = BigInt(v);
  } else if (isObj(v) && typeof v.low === 'number' && typeof v.high === 'number') {
    const lo = BigInt(v.low >>> 0);
    const hi = BigInt(v.high >>> 0);
    n = (hi << 32n) | lo;
    // Long-like values carry their own signedness; without it, use the field's.
    const unsigned = typeof v.unsigned === 'boolean' ? v.unsigned : !signed;
    if (!unsigned) n = BigInt.asIntN(64, n);
  } else {
    fail(path, `expected a 64-bit integer, got ${describe(v)}`);
  }
  // A signed Long read for an unsigned field (or vice versa) keeps its 64 bits.
  return signed ? BigInt.asIntN(64, n) : BigInt.asUintN(64, n);
}

/** A `bytes` field: Buffer/Uint8Array (`bytes: Buffer` or default), number[] (`bytes: Array`) or base64 text (`bytes: String`). */
export function bytes(o: Obj, name: string, path: string): Uint8Array {
  const v = o[name];
  if (v === undefined || v === null) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v) && v.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255)) {
    return Uint8Array.from(v as number[]);
  }
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  return fail(child(path, name), `expected bytes, got ${describe(v)}`);
}

/** An enum field as a name (`enums: String`) or a number. Absent ⇒ the zero value. */
export function enumName(o: Obj, name: string, path: string, names: readonly string[]): string {
  const v = o[name];
  if (v === undefined || v === null) return names[0] ?? fail(child(path, name), 'empty enum');
  if (typeof v === 'number' && Number.isInteger(v)) {
    return names[v] ?? fail(child(path, name), `unknown enum value ${v}`);
  }
  if (typeof v === 'string' && names.includes(v)) return v;
  return fail(child(path, name), `unknown enum value ${describe(v)}`);
}

// Readers for control-plane messages in protobufjs toObject form, with path-qualified errors.
import type { IConversionOptions } from 'protobufjs';
import { ProxyError } from '../core/errors.js';
import { protoType } from '../proto/load.js';

export type Obj = Readonly<Record<string, unknown>>;

/**
 * How every control-plane response becomes plain data: 64-bit integers as decimal strings (so
 * IPv6 halves stay exact), enums by name, absent fields absent, and each set oneof named by its
 * virtual property (e.g. `update: 'add'`).
 */
export const TO_OBJECT_OPTIONS: IConversionOptions = Object.freeze({
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: false,
  oneofs: true,
});

/** A message the proxy cannot use; `path` names the offending field (`''` for the root). */
export class DecodeError extends ProxyError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(path === '' ? reason : `${path}: ${reason}`, 'control_decode');
  }
}

export function child(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

export function fail(path: string, reason: string): never {
  throw new DecodeError(path, reason);
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export function msg(v: unknown, path: string): Obj {
  if (!isObj(v)) fail(path, 'expected a message');
  return v;
}

export function optMsg(o: Obj, name: string, path: string): Obj | undefined {
  const v = o[name];
  return v === undefined || v === null ? undefined : msg(v, child(path, name));
}

export function reqMsg(o: Obj, name: string, path: string): Obj {
  return optMsg(o, name, path) ?? fail(child(path, name), 'missing');
}

export function str(o: Obj, name: string, path: string): string {
  const v = o[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(child(path, name), 'expected a string');
  return v;
}

export function bool(o: Obj, name: string, path: string): boolean {
  const v = o[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') fail(child(path, name), 'expected a bool');
  return v;
}

/** uint32 (also accepts a decimal string, as `longs: String` would give for a 64-bit field). */
export function u32(o: Obj, name: string, path: string): number {
  const v = o[name];
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) fail(child(path, name), 'expected a uint32');
  return n;
}

/** float/double. */
export function num(o: Obj, name: string, path: string): number {
  const v = o[name];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number') fail(child(path, name), 'expected a number');
  return v;
}

/** A 64-bit integer as protobufjs may give it: decimal string, number, bigint or Long-like. */
export function int64(v: unknown, path: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (isObj(v) && typeof v.low === 'number' && typeof v.high === 'number') {
    const n = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
    return v.unsigned === true ? n : BigInt.asIntN(64, n);
  }
  return fail(path, 'expected a 64-bit integer');
}

export function list(o: Obj, name: string, path: string): { value: unknown; path: string }[] {
  const v = o[name];
  if (v === undefined || v === null) return [];
  const p = child(path, name);
  if (!Array.isArray(v)) fail(p, 'expected a list');
  return v.map((value: unknown, i) => ({ value, path: `${p}[${i}]` }));
}

/** A `map<string,string>` as a frozen plain record. */
export function stringRecord(o: Obj, name: string, path: string): Readonly<Record<string, string>> {
  const v = o[name];
  const out: Record<string, string> = {};
  if (v === undefined || v === null) return Object.freeze(out);
  const p = child(path, name);
  const entries = v instanceof Map ? [...(v as Map<unknown, unknown>)] : isObj(v) ? Object.entries(v) : fail(p, 'expected a map');
  for (const [k, val] of entries) {
    if (typeof k !== 'string' || typeof val !== 'string') fail(p, 'expected string keys and values');
    out[k] = val;
  }
  return Object.freeze(out);
}

/**
 * The set member of a oneof: the one named by the virtual field, else the one present. An arm
 * this schema does not know leaves it undefined, as for an unset oneof.
 */
export function oneofArm(o: Obj, virtual: string, arms: readonly string[], path: string): { name: string; value: unknown; path: string } | undefined {
  const named = o[virtual];
  const name = typeof named === 'string' && arms.includes(named) ? named : arms.find((a) => o[a] !== undefined && o[a] !== null);
  if (name === undefined) return undefined;
  const value = o[name];
  if (value === undefined || value === null) fail(child(path, name), 'oneof arm named but unset');
  return { name, value, path: child(path, name) };
}

/** A `google.protobuf.Duration` in milliseconds; negative or out-of-range values are invalid. */
export function durationMs(d: Obj, path: string): number {
  const seconds = int64(d.seconds, child(path, 'seconds'));
  const nanos = d.nanos ?? 0;
  if (typeof nanos !== 'number' || !Number.isInteger(nanos)) fail(child(path, 'nanos'), 'expected an int32');
  if (seconds < 0n || nanos < 0 || nanos > 999_999_999) fail(path, 'negative or out-of-range duration');
  return Number(seconds) * 1000 + nanos / 1e6;
}

export function optDurationMs(o: Obj, name: string, path: string): number | undefined {
  const d = optMsg(o, name, path);
  return d === undefined ? undefined : durationMs(d, child(path, name));
}

export function reqDurationMs(o: Obj, name: string, path: string): number {
  return durationMs(reqMsg(o, name, path), child(path, name));
}

/** Encoder and plain-data decoder for one message type of our schemas. */
export interface MessageCodec {
  encode(value: Obj): Buffer;
  decode(bytes: Uint8Array): Obj;
}

export function messageCodec(typeName: string): MessageCodec {
  const type = protoType(typeName);
  return {
    encode: (value) => Buffer.from(type.encode(type.fromObject(value)).finish()),
    decode: (bytes) => type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS),
  };
}

// Structural equality for endpoint metadata, so a redundant discovery `add` keeps the endpoint.

/**
 * Deep equality over plain data: primitives (Object.is), arrays, Maps, Sets, byte arrays and
 * objects compared by own enumerable keys and prototype. Functions compare by identity.
 */
export function sameMetadata(a: unknown, b: unknown): boolean {
  return same(a, b, 0);
}

const MAX_DEPTH = 32;

function same(a: unknown, b: unknown, depth: number): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (depth > MAX_DEPTH) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a)) return sameList(a, b as unknown[], depth);
  if (ArrayBuffer.isView(a)) return sameBytes(a, b as ArrayBufferView);
  if (a instanceof Map) return sameMap(a, b as Map<unknown, unknown>, depth);
  if (a instanceof Set) return sameSet(a, b as Set<unknown>);
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(rb, k)) return false;
    if (!same(ra[k], rb[k], depth + 1)) return false;
  }
  return true;
}

function sameList(a: readonly unknown[], b: readonly unknown[], depth: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i], b[i], depth + 1)) return false;
  return true;
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function sameMap(a: Map<unknown, unknown>, b: Map<unknown, unknown>, depth: number): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    if (!b.has(k) || !same(v, b.get(k), depth + 1)) return false;
  }
  return true;
}

function sameSet(a: Set<unknown>, b: Set<unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const v of a) if (!b.has(v)) return false;
  return true;
}

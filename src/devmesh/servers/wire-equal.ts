// Deep equality of proto-shaped plain data, so a watch pushes only answers that really changed.

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * True when `a` and `b` encode the same message: same primitives, arrays element by element,
 * byte arrays byte by byte, objects key by key — with `undefined` properties treated as absent,
 * as protobufjs does when encoding.
 */
export function wireEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => wireEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!wireEqual(a[k], b[k])) return false;
    return true;
  }
  // Numbers against their decimal-string form (64-bit fields may be written either way).
  if ((typeof a === 'number' || typeof a === 'bigint') && typeof b === 'string') return String(a) === b;
  if ((typeof b === 'number' || typeof b === 'bigint') && typeof a === 'string') return String(b) === a;
  if (typeof a === 'bigint' || typeof b === 'bigint') return String(a) === String(b);
  return false;
}

// Recursively freezes plain configuration data so no module can mutate what another reads.

/** Freezes `value` and every object/array reachable from it (even under already-frozen parents); returns it. */
export function deepFreeze<T>(value: T, seen: WeakSet<object> = new WeakSet()): T {
  if (typeof value === 'object' && value !== null && !seen.has(value)) {
    seen.add(value);
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v, seen);
  }
  return value;
}

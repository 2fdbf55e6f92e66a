// Immutable port sets as sorted, merged inclusive ranges, with an O(log n) membership test.
import type { PortRange, PortSet } from './types.js';

const NO_RANGES: readonly PortRange[] = Object.freeze([]);
export const EMPTY_PORT_SET: PortSet = Object.freeze({ ranges: NO_RANGES });

/** Builds a frozen set from ranges in any order, merging overlapping and adjacent ones. */
export function portSetFromRanges(ranges: Iterable<readonly [number, number]>): PortSet {
  const sorted = [...ranges].map(([lo, hi]) => [lo, hi] as [number, number]).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  const frozen: PortRange[] = merged.map((r) => Object.freeze<PortRange>(r));
  return Object.freeze({ ranges: Object.freeze(frozen) });
}

/** The union of a set and some single ports. */
export function portSetWith(set: PortSet, ...ports: number[]): PortSet {
  return portSetFromRanges([...set.ranges, ...ports.map((p) => [p, p] as const)]);
}

/** True if `port` is in the set. */
export function portSetHas(set: PortSet, port: number): boolean {
  const r = set.ranges;
  let lo = 0;
  let hi = r.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const range = r[mid];
    if (range === undefined) return false;
    if (port < range[0]) hi = mid - 1;
    else if (port > range[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** True if the set has no ports. */
export function portSetIsEmpty(set: PortSet): boolean {
  return set.ranges.length === 0;
}

/** `25,587,3306,4444-4450` (the env syntax, so it round-trips). */
export function formatPortSet(set: PortSet): string {
  return set.ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
}

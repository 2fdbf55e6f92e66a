// Turns successive endpoint sets of one Destination.Get into the add/remove updates a real controller sends.
import type { Wire } from '../model/types.js';
import { wireEqual } from './wire-equal.js';

export interface EndpointSet {
  readonly setLabels: Readonly<Record<string, string>>;
  readonly endpoints: readonly Wire[];
}

/** A number field as text, however it was written (number, decimal string, bigint). */
function part(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint') return v.toString();
  return typeof v === 'string' ? v : '0';
}

/** `ip:port` identity of a WeightedAddr, whichever way its numbers are written. */
export function endpointKey(endpoint: Wire): string {
  const addr = (endpoint.addr ?? {}) as Wire;
  const ip = (addr.ip ?? {}) as Wire;
  const v6 = ip.ipv6 as Wire | undefined;
  const host = ip.ipv4 !== undefined ? `4/${part(ip.ipv4)}` : v6 !== undefined ? `6/${part(v6.first)}/${part(v6.last)}` : 'none';
  return `${host}:${part(addr.port)}`;
}

function byKey(endpoints: readonly Wire[]): Map<string, Wire> {
  // A later duplicate of an address replaces the earlier one, as `add` upserts would.
  return new Map(endpoints.map((e) => [endpointKey(e), e]));
}

/**
 * The `Update` messages that take a client from `prev` (what it was sent; undefined when nothing
 * was) to `next`: a `remove` of the addresses that went away, then an `add` of the new and changed
 * ones (all of them when the set labels changed, since labels travel with `add`). Nothing at all
 * for an empty set: a service without ready endpoints is silent, and `no_endpoints` is never sent.
 */
export function endpointUpdates(prev: EndpointSet | undefined, next: EndpointSet): Wire[] {
  const before = byKey(prev?.endpoints ?? []);
  const after = byKey(next.endpoints);
  const updates: Wire[] = [];
  const removed = [...before.entries()].filter(([k]) => !after.has(k)).map(([, e]) => e.addr as Wire);
  if (removed.length > 0) updates.push({ remove: { addrs: removed } });
  const labelsChanged = prev !== undefined && !wireEqual(prev.setLabels, next.setLabels);
  const added = [...after.entries()]
    .filter(([k, e]) => labelsChanged || !before.has(k) || !wireEqual(before.get(k), e))
    .map(([, e]) => e);
  if (added.length > 0) updates.push({ add: { addrs: added, metricLabels: { ...next.setLabels } } });
  return updates;
}

// Constructors and predicates for policy metadata (server, route and authorization names).
import type { Meta } from './types.js';

/** Metadata of an object the proxy (or controller) synthesised rather than read from a resource. */
export function defaultMeta(name: string): Meta {
  return Object.freeze({ group: '', kind: 'default', name });
}

export function isDefaultMeta(meta: Meta): boolean {
  return meta.group === '' && meta.kind === 'default';
}

/** The `audit` default authorization admits like all-unauthenticated but every allow is logged. */
export function isAuditMeta(meta: Meta): boolean {
  return isDefaultMeta(meta) && meta.name === 'audit';
}

/** `kind/name` as the upstream proxy prints servers in errors (e.g. `default/deny`, `server/web`). */
export function formatMeta(meta: Meta): string {
  return `${meta.kind}/${meta.name}`;
}

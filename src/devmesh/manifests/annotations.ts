// The annotations the dev control plane reads: Linkerd's own and `devmesh.l5d.io/ips`, with their value syntax.
import { parseIp } from '../../config/ip.js';
import type { DefaultPolicyName } from './types.js';

/**
 * The IPs of a Pod (one, or one per family) or of a Deployment's replicas (one per replica, in
 * order), comma-separated: `devmesh.l5d.io/ips: "198.18.1.2"`. Without it, addresses are assigned
 * from the pod pool. There is no cluster to assign them, so this stands in for `status.podIPs`.
 */
export const IPS_ANNOTATION = 'devmesh.l5d.io/ips';

export const OPAQUE_PORTS_ANNOTATION = 'config.linkerd.io/opaque-ports';
export const DEFAULT_INBOUND_POLICY_ANNOTATION = 'config.linkerd.io/default-inbound-policy';
export const REQUIRE_IDENTITY_PORTS_ANNOTATION = 'config.linkerd.io/proxy-require-identity-inbound-ports';
export const SKIP_INBOUND_PORTS_ANNOTATION = 'config.linkerd.io/skip-inbound-ports';
export const INJECT_ANNOTATION = 'linkerd.io/inject';
export const CONTROL_PLANE_NS_LABEL = 'linkerd.io/control-plane-ns';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

export const DEFAULT_POLICY_NAMES: readonly DefaultPolicyName[] = Object.freeze([
  'all-unauthenticated',
  'all-authenticated',
  'cluster-unauthenticated',
  'cluster-authenticated',
  'deny',
  'audit',
]);

export function isDefaultPolicyName(v: string): v is DefaultPolicyName {
  return (DEFAULT_POLICY_NAMES as readonly string[]).includes(v);
}

/** A comma-separated list of canonical IPs; the error names the first bad entry. */
export function parseIpList(text: string): { ips: string[] } | { error: string } {
  const ips: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const ip = parseIp(entry);
    if (ip === undefined) return { error: `${JSON.stringify(entry)} is not an IP address` };
    ips.push(ip.addr);
  }
  return { ips };
}

/**
 * A Linkerd port list: `25,587,4000-4100` and, where names are known, port names (`http`); as
 * upstream, a name is tried before a range so `123-456` can be a name. Undefined names are errors.
 */
export function parsePortList(text: string, names: ReadonlyMap<string, readonly number[]> = new Map()): { ports: Set<number> } | { error: string } {
  const ports = new Set<number>();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const named = names.get(entry);
    if (named !== undefined) {
      for (const p of named) ports.add(p);
      continue;
    }
    const m = /^(\d+)(?:-(\d+))?$/.exec(entry);
    const lo = m === null ? NaN : Number(m[1]);
    const hi = m === null ? NaN : m[2] === undefined ? lo : Number(m[2]);
    if (!(lo >= 1 && hi <= 65535 && lo <= hi)) return { error: `${JSON.stringify(entry)} is not a port, a port range or a known port name` };
    for (let p = lo; p <= hi; p++) ports.add(p);
  }
  return { ports };
}

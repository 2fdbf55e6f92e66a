// Shared builders for inbound policy tests: client connections, requests, and hand-built wire objects.
import type { ClientConnection, ClientTls, HttpRequestView } from '../../../../src/policy/inbound/index.js';
import type { IpNetwork } from '../../../../src/config/types.js';

export const CLUSTER_NETWORKS: readonly IpNetwork[] = [
  { family: 4, addr: '10.0.0.0', prefixLen: 8 },
  { family: 6, addr: 'fd00::', prefixLen: 8 },
];

export const DNS_ID = 'web.default.serviceaccount.identity.linkerd.cluster.local';
export const VM_SPIFFE_ID = 'spiffe://root.linkerd.cluster.local/external-workload';

/** The five client TLS situations the proxy distinguishes. */
export const TLS_CASES: Readonly<Record<'plaintext' | 'passthrough' | 'terminatedNoId' | 'dnsId' | 'spiffeId', ClientTls>> = {
  plaintext: { kind: 'none' },
  passthrough: { kind: 'passthrough' },
  terminatedNoId: { kind: 'terminated' },
  dnsId: { kind: 'terminated', clientId: DNS_ID },
  spiffeId: { kind: 'terminated', clientId: VM_SPIFFE_ID },
};

/** Client addresses inside and outside CLUSTER_NETWORKS, both families (and IPv4-mapped). */
export const CLUSTER_IPS = ['10.1.2.3', 'fd00::1:2', '::ffff:10.9.9.9'];
export const EXTERNAL_IPS = ['192.168.1.7', '2001:db8::7', '::ffff:192.168.1.8'];

export function conn(clientIp: string, tls: ClientTls): ClientConnection {
  return { clientIp, tls };
}

export function request(over: Partial<Omit<HttpRequestView, 'headers'>> & { headers?: Record<string, string | string[]> } = {}): HttpRequestView {
  const headers = over.headers ?? {};
  return {
    method: over.method ?? 'GET',
    path: over.path ?? '/',
    query: over.query,
    host: over.host,
    headers: (name) => headers[name],
  };
}

// === wire (protobufjs toObject) builders ===

export function v4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function wireNet4(addr: number, prefixLen: number): Record<string, unknown> {
  return prefixLen === 0 ? { ip: { ipv4: addr, ip: 'ipv4' } } : { ip: { ipv4: addr, ip: 'ipv4' }, prefixLen };
}

export function wireNet6(first: unknown, last: unknown, prefixLen: number): Record<string, unknown> {
  const n: Record<string, unknown> = { ip: { ipv6: { first, last }, ip: 'ipv6' } };
  if (prefixLen !== 0) n.prefixLen = prefixLen;
  return n;
}

export const WIRE_ALL_NETWORKS = [{ net: wireNet4(0, 0) }, { net: wireNet6('0', '0', 0) }];

export function wireUnauthenticated(): Record<string, unknown> {
  return { unauthenticated: {}, permit: 'unauthenticated' };
}

export function wireMeshTls(identities: string[], suffixes: string[][] = []): Record<string, unknown> {
  const ids: Record<string, unknown> = {};
  if (identities.length > 0) ids.identities = identities.map((name) => ({ name }));
  if (suffixes.length > 0) ids.suffixes = suffixes.map((parts) => (parts.length === 0 ? {} : { parts }));
  return { meshTLS: { identities: ids, clients: 'identities' }, permit: 'meshTLS' };
}

export function wireDefaultMeta(name: string): Record<string, unknown> {
  return { default: name, kind: 'default' };
}

export function wireResourceMeta(group: string, kind: string, name: string): Record<string, unknown> {
  return { resource: { group, kind, name }, kind: 'resource' };
}

export function wireDetect(httpRoutes: unknown[], seconds: unknown = '10'): Record<string, unknown> {
  const detect: Record<string, unknown> = { timeout: { seconds } };
  if (httpRoutes.length > 0) detect.httpRoutes = httpRoutes;
  return { detect, kind: 'detect' };
}

export function wirePrefixRoute(name: string, prefix = '/', authorizations: unknown[] = []): Record<string, unknown> {
  const r: Record<string, unknown> = {
    metadata: wireDefaultMeta(name),
    rules: [{ matches: [{ path: { prefix, kind: 'prefix' } }] }],
  };
  if (authorizations.length > 0) r.authorizations = authorizations;
  return r;
}

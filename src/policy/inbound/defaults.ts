// The proxy's built-in server policies: the six default policies, their opaque variants, and the "invalid" policy.
import type { DefaultPolicy, IpNetwork } from '../../config/types.js';
import { defaultMeta } from './meta.js';
import type { Authentication, Authorization, GrpcRoute, HttpRoute, Protocol, ServerPolicy } from './types.js';

export type { DefaultPolicy };

export const DEFAULT_POLICY_NAMES: readonly DefaultPolicy[] = Object.freeze([
  'all-unauthenticated',
  'all-authenticated',
  'cluster-unauthenticated',
  'cluster-authenticated',
  'audit',
  'deny',
]);

const ALL_NETWORKS: readonly IpNetwork[] = Object.freeze([
  Object.freeze({ family: 4, addr: '0.0.0.0', prefixLen: 0 }),
  Object.freeze({ family: 6, addr: '::', prefixLen: 0 }),
]);

/** Any mesh-TLS client with a DNS identity: one empty suffix, no exact identities (so SPIFFE ids are refused). */
const ANY_DNS_IDENTITY: Authentication = Object.freeze({
  kind: 'tls-authenticated',
  identities: Object.freeze([]),
  suffixes: Object.freeze([Object.freeze([])]),
});

const UNAUTHENTICATED: Authentication = Object.freeze({ kind: 'unauthenticated' });

/** The match-all route of default policies, and of HTTP protocols whose server sent no routes. */
export function defaultHttpRoute(authorizations: readonly Authorization[]): HttpRoute {
  return Object.freeze({
    meta: defaultMeta('default'),
    hosts: Object.freeze([]),
    rules: Object.freeze([Object.freeze({ matches: Object.freeze([]), filters: Object.freeze([]) })]),
    authorizations,
  });
}

export function defaultGrpcRoute(authorizations: readonly Authorization[]): GrpcRoute {
  return Object.freeze({
    meta: defaultMeta('default'),
    hosts: Object.freeze([]),
    rules: Object.freeze([Object.freeze({ matches: Object.freeze([]), filters: Object.freeze([]) })]),
    authorizations,
  });
}

function detectPolicy(name: string, networks: readonly IpNetwork[], authentication: Authentication, timeoutMs: number): ServerPolicy {
  const authorizations: readonly Authorization[] = Object.freeze([
    Object.freeze({
      meta: defaultMeta(name),
      networks: Object.freeze(networks.map((net) => Object.freeze({ net, except: Object.freeze([]) }))),
      authentication,
    }),
  ]);
  return Object.freeze({
    meta: defaultMeta(name),
    protocol: Object.freeze({
      kind: 'detect',
      timeoutMs,
      tcpAuthorizations: authorizations,
      httpRoutes: Object.freeze([defaultHttpRoute(authorizations)]),
    }),
    localRateLimit: undefined,
  });
}

/** `deny`: opaque with no authorizations, so every connection is closed (no HTTP 403 is ever sent). */
export const DENY_POLICY: ServerPolicy = Object.freeze({
  meta: defaultMeta('deny'),
  protocol: Object.freeze({ kind: 'opaque', tcpAuthorizations: Object.freeze([]) }),
  localRateLimit: undefined,
});

export interface DefaultPolicyOptions {
  /** INBOUND_DETECT_TIMEOUT: the HTTP detection timeout of the Detect protocol. */
  readonly detectTimeoutMs: number;
  /** POLICY_CLUSTER_NETWORKS, for the `cluster-*` policies. */
  readonly clusterNetworks: readonly IpNetwork[];
}

/**
 * A default policy by name (LINKERD2_PROXY_INBOUND_DEFAULT_POLICY). All but `deny` are
 * Detect{detectTimeoutMs} with one authorization named after the policy, used both for TCP and
 * by one match-all HTTP route named `default`. Config validation rejects `cluster-*` without
 * cluster networks; here they would simply admit nobody.
 */
export function defaultServerPolicy(name: DefaultPolicy, opts: DefaultPolicyOptions): ServerPolicy {
  switch (name) {
    case 'all-unauthenticated':
      return detectPolicy(name, ALL_NETWORKS, UNAUTHENTICATED, opts.detectTimeoutMs);
    case 'all-authenticated':
      return detectPolicy(name, ALL_NETWORKS, ANY_DNS_IDENTITY, opts.detectTimeoutMs);
    case 'cluster-unauthenticated':
      return detectPolicy(name, opts.clusterNetworks, UNAUTHENTICATED, opts.detectTimeoutMs);
    case 'cluster-authenticated':
      return detectPolicy(name, opts.clusterNetworks, ANY_DNS_IDENTITY, opts.detectTimeoutMs);
    case 'audit':
      // Admits everything; the `audit` authorization name makes callers log each allow.
      return detectPolicy(name, ALL_NETWORKS, UNAUTHENTICATED, opts.detectTimeoutMs);
    case 'deny':
      return DENY_POLICY;
  }
}

/**
 * The variant used on INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION ports until the controller
 * answers: same meta and TCP authorizations, protocol Opaque (no TLS or HTTP detection).
 */
export function opaqueVariant(policy: ServerPolicy): ServerPolicy {
  const p = policy.protocol;
  if (p.kind === 'opaque') return policy;
  let protocol: Protocol;
  switch (p.kind) {
    case 'detect':
    case 'tls':
      protocol = Object.freeze({ kind: 'opaque', tcpAuthorizations: p.tcpAuthorizations });
      break;
    case 'http1':
    case 'http2':
    case 'grpc':
      // No TCP authorizations exist for explicit HTTP protocols; opaque traffic is refused.
      protocol = Object.freeze({ kind: 'opaque', tcpAuthorizations: Object.freeze([]) });
      break;
  }
  return Object.freeze({ ...policy, protocol });
}

/** The default policy to use for a port before (or without) discovery. */
export function defaultPolicyForPort(name: DefaultPolicy, opts: DefaultPolicyOptions & { readonly opaque: boolean }): ServerPolicy {
  const policy = defaultServerPolicy(name, opts);
  return opts.opaque ? opaqueVariant(policy) : policy;
}

/** Message of the invalid policy's 500 filter (never reached: its route has no authorizations). */
export const INVALID_SERVER_MESSAGE = 'invalid server configuration';

/**
 * Replaces a Server the proxy cannot decode: meta `default/invalid`, Detect with one match-all
 * route that has no authorizations (so HTTP requests get 403) and an internal-error filter, and
 * no TCP authorizations (connections are closed). `detectTimeoutMs` is that of the configured
 * default policy (10 s when the default is `deny`), as upstream.
 */
export function invalidPolicy(detectTimeoutMs: number): ServerPolicy {
  const meta = defaultMeta('invalid');
  const match = Object.freeze({ path: undefined, headers: Object.freeze([]), queryParams: Object.freeze([]), method: undefined });
  return Object.freeze({
    meta,
    protocol: Object.freeze({
      kind: 'detect',
      timeoutMs: detectTimeoutMs,
      tcpAuthorizations: Object.freeze([]),
      httpRoutes: Object.freeze([
        Object.freeze({
          meta,
          hosts: Object.freeze([]),
          rules: Object.freeze([
            Object.freeze({
              matches: Object.freeze([match]),
              filters: Object.freeze([Object.freeze({ kind: 'internal-error', message: INVALID_SERVER_MESSAGE })]),
            }),
          ]),
          authorizations: Object.freeze([]),
        }),
      ]),
    }),
    localRateLimit: undefined,
  });
}

/** Detect timeout for the invalid policy given the configured default (upstream: 10 s if the default is not Detect). */
export function invalidPolicyTimeoutMs(defaultPolicy: ServerPolicy): number {
  return defaultPolicy.protocol.kind === 'detect' ? defaultPolicy.protocol.timeoutMs : 10_000;
}

// Connection and request authorization against a server policy, precompiled into closures once per policy.
import { authzNetworksContain, clientIpAddr, type IpAddr } from './ip.js';
import { isAuditMeta } from './meta.js';
import { findBestRoute, type RankedRoute } from './route-precedence.js';
import {
  compareGrpcSummary,
  compareHttpSummary,
  compileGrpcRouteMatch,
  compileHosts,
  compileHttpRouteMatch,
  DEFAULT_GRPC_SUMMARY,
  DEFAULT_HTTP_SUMMARY,
  RequestFacts,
  type GrpcMatchSummary,
  type HttpMatchSummary,
  type HttpRequestView,
} from './match-http.js';
import type { Authentication, Authorization, GrpcRoute, GrpcRule, HttpRoute, HttpRule, ServerPolicy } from './types.js';

export type { HttpRequestView };

/** The client's TLS as the inbound accept path saw it. Only `terminated` TLS carries an identity. */
export type ClientTls =
  | { readonly kind: 'terminated'; readonly clientId?: string | undefined }
  | { readonly kind: 'passthrough' }
  | { readonly kind: 'none' };

export interface ClientConnection {
  /** The peer address as Node reports it (IPv4-mapped IPv6 is matched as IPv4). */
  readonly clientIp: string;
  readonly tls: ClientTls;
}

export type TcpAuthorization =
  | { readonly allowed: true; readonly authz: Authorization; /** Log "Connection allowed" (the `audit` policy). */ readonly audit: boolean }
  | { readonly allowed: false };

export type HttpAuthorization =
  | {
      readonly kind: 'allowed';
      readonly routeKind: 'http';
      readonly route: HttpRoute;
      readonly rule: HttpRule;
      /** How the request matched (a redirect's prefix replacement needs the path match). */
      readonly match: HttpMatchSummary;
      readonly authz: Authorization;
      /** Log "Request allowed" (the `audit` policy). */
      readonly audit: boolean;
    }
  | {
      readonly kind: 'allowed';
      readonly routeKind: 'grpc';
      readonly route: GrpcRoute;
      readonly rule: GrpcRule;
      readonly match: GrpcMatchSummary;
      readonly authz: Authorization;
      readonly audit: boolean;
    }
  /** No route matched, or the protocol has no HTTP routes (opaque/TLS): 404. */
  | { readonly kind: 'not-found' }
  /** A route matched but none of its authorizations admits the client: 403. */
  | { readonly kind: 'denied'; readonly routeKind: 'http'; readonly route: HttpRoute }
  | { readonly kind: 'denied'; readonly routeKind: 'grpc'; readonly route: GrpcRoute };

export interface CompiledServerPolicy {
  readonly policy: ServerPolicy;
  /** Forwarded (opaque/TLS/undetected) connections: the first admitting TCP authorization wins. */
  authorizeTcp(conn: ClientConnection): TcpAuthorization;
  /** One request: best route (Gateway API precedence), then the first admitting route authorization. */
  authorizeHttp(conn: ClientConnection, req: HttpRequestView): HttpAuthorization;
}

// === authentication ===

/** URIs (e.g. `spiffe://…`) always contain `:`; DNS-like identities never do. */
function isUriIdentity(id: string): boolean {
  return id.includes(':');
}

/**
 * Per upstream `is_tls_authorized` (linkerd/app/inbound/src/policy.rs): URI identities match
 * only the exact list; DNS identities match the exact list or a suffix, where suffix parts
 * `["a","b"]` mean "ends with `.a.b`" (so `a.b` itself does not match) and no parts mean any.
 */
function compileAuthentication(a: Authentication): (tls: ClientTls) => boolean {
  switch (a.kind) {
    case 'unauthenticated':
      return () => true;
    case 'tls-unauthenticated':
      return (tls) => tls.kind === 'terminated';
    case 'tls-authenticated': {
      const exact = new Set(a.identities);
      const endings = a.suffixes.map((parts) => (parts.length === 0 ? '' : `.${parts.join('.')}`));
      const anyDns = endings.includes('');
      return (tls) => {
        if (tls.kind !== 'terminated' || tls.clientId === undefined) return false;
        const id = tls.clientId;
        if (exact.has(id)) return true;
        if (isUriIdentity(id)) return false;
        return anyDns || endings.some((e) => id.endsWith(e));
      };
    }
  }
}

interface CompiledAuthz {
  readonly authz: Authorization;
  readonly audit: boolean;
  readonly admits: (ip: IpAddr | undefined, tls: ClientTls) => boolean;
}

function compileAuthz(authz: Authorization): CompiledAuthz {
  const inNetworks = authzNetworksContain(authz.networks);
  const authenticated = compileAuthentication(authz.authentication);
  return {
    authz,
    audit: isAuditMeta(authz.meta),
    admits: (ip, tls) => ip !== undefined && inNetworks(ip) && authenticated(tls),
  };
}

/** Authorizations are shared between a server and its routes; compile each object once. */
function authzCompiler(): (list: readonly Authorization[]) => readonly CompiledAuthz[] {
  const seen = new Map<Authorization, CompiledAuthz>();
  return (list) =>
    list.map((a) => {
      let c = seen.get(a);
      if (c === undefined) {
        c = compileAuthz(a);
        seen.set(a, c);
      }
      return c;
    });
}

function firstAdmitting(authzs: readonly CompiledAuthz[], ip: IpAddr | undefined, tls: ClientTls): CompiledAuthz | undefined {
  for (const a of authzs) if (a.admits(ip, tls)) return a;
  return undefined;
}

// === routes ===

interface CompiledRoute<R, U, S> extends RankedRoute<U, S> {
  readonly route: R;
  readonly authzs: readonly CompiledAuthz[];
}

function compileHttpRoutes(routes: readonly HttpRoute[], authzs: ReturnType<typeof authzCompiler>): CompiledRoute<HttpRoute, HttpRule, HttpMatchSummary>[] {
  return routes.map((route) => ({
    route,
    hosts: compileHosts(route.hosts),
    rules: route.rules.map((rule) => ({ rule, matchers: rule.matches.map(compileHttpRouteMatch) })),
    authzs: authzs(route.authorizations),
  }));
}

function compileGrpcRoutes(routes: readonly GrpcRoute[], authzs: ReturnType<typeof authzCompiler>): CompiledRoute<GrpcRoute, GrpcRule, GrpcMatchSummary>[] {
  return routes.map((route) => ({
    route,
    hosts: compileHosts(route.hosts),
    rules: route.rules.map((rule) => ({ rule, matchers: rule.matches.map(compileGrpcRouteMatch) })),
    authzs: authzs(route.authorizations),
  }));
}

// === the compiled policy ===

const DENIED_TCP: TcpAuthorization = Object.freeze({ allowed: false });
const NOT_FOUND: HttpAuthorization = Object.freeze({ kind: 'not-found' });

/** Precompiles a policy's networks, identities, regexes and routes; the result is immutable and reusable. */
export function compileServerPolicy(policy: ServerPolicy): CompiledServerPolicy {
  const authzs = authzCompiler();
  const p = policy.protocol;
  const tcp = p.kind === 'detect' || p.kind === 'opaque' || p.kind === 'tls' ? authzs(p.tcpAuthorizations) : [];
  const httpRoutes = p.kind === 'detect' ? compileHttpRoutes(p.httpRoutes, authzs) : p.kind === 'http1' || p.kind === 'http2' ? compileHttpRoutes(p.routes, authzs) : undefined;
  const grpcRoutes = p.kind === 'grpc' ? compileGrpcRoutes(p.routes, authzs) : undefined;

  return Object.freeze({
    policy,
    authorizeTcp(conn: ClientConnection): TcpAuthorization {
      const a = firstAdmitting(tcp, clientIpAddr(conn.clientIp), conn.tls);
      return a === undefined ? DENIED_TCP : { allowed: true, authz: a.authz, audit: a.audit };
    },
    authorizeHttp(conn: ClientConnection, req: HttpRequestView): HttpAuthorization {
      const facts = new RequestFacts(req);
      if (httpRoutes !== undefined) {
        const best = findBestRoute(httpRoutes, facts, DEFAULT_HTTP_SUMMARY, compareHttpSummary);
        if (best === undefined) return NOT_FOUND;
        const a = firstAdmitting(best.route.authzs, clientIpAddr(conn.clientIp), conn.tls);
        if (a === undefined) return { kind: 'denied', routeKind: 'http', route: best.route.route };
        return { kind: 'allowed', routeKind: 'http', route: best.route.route, rule: best.rule, match: best.summary, authz: a.authz, audit: a.audit };
      }
      if (grpcRoutes !== undefined) {
        const best = findBestRoute(grpcRoutes, facts, DEFAULT_GRPC_SUMMARY, compareGrpcSummary);
        if (best === undefined) return NOT_FOUND;
        const a = firstAdmitting(best.route.authzs, clientIpAddr(conn.clientIp), conn.tls);
        if (a === undefined) return { kind: 'denied', routeKind: 'grpc', route: best.route.route };
        return { kind: 'allowed', routeKind: 'grpc', route: best.route.route, rule: best.rule, match: best.summary, authz: a.authz, audit: a.audit };
      }
      return NOT_FOUND;
    },
  });
}

const compiledCache = new WeakMap<ServerPolicy, CompiledServerPolicy>();

/** The compiled form of a policy object, compiled on first use and cached for the object's lifetime. */
export function compiledPolicy(policy: ServerPolicy): CompiledServerPolicy {
  let c = compiledCache.get(policy);
  if (c === undefined) {
    c = compileServerPolicy(policy);
    compiledCache.set(policy, c);
  }
  return c;
}

export function authorizeTcp(policy: ServerPolicy, conn: ClientConnection): TcpAuthorization {
  return compiledPolicy(policy).authorizeTcp(conn);
}

export function authorizeHttp(policy: ServerPolicy, conn: ClientConnection, req: HttpRequestView): HttpAuthorization {
  return compiledPolicy(policy).authorizeHttp(conn, req);
}

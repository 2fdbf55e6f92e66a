// The inbound server-policy domain model: plain, immutable data decoded from the policy controller or built as defaults.
import type { IpNetwork } from '../../config/types.js';

export type { IpNetwork };

/**
 * Identifies a policy object for logs and metrics. Default (synthesised) objects have group `""`
 * and kind `default`; the upstream proxy treats a resource that looks like that as a default too.
 */
export interface Meta {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

/** A source network that an authorization admits: `net` minus every `except` network. */
export interface AuthzNetwork {
  readonly net: IpNetwork;
  readonly except: readonly IpNetwork[];
}

export type Authentication =
  /** Any client, TLS or not. */
  | { readonly kind: 'unauthenticated' }
  /** Any client whose TLS the proxy terminated (mesh TLS), with or without a client identity. */
  | { readonly kind: 'tls-unauthenticated' }
  /**
   * A terminated-TLS client with an identity: URI identities must equal one of `identities`;
   * DNS identities must equal one of `identities` or end with `.` + one suffix's labels (an empty
   * suffix admits every DNS identity).
   */
  | {
      readonly kind: 'tls-authenticated';
      readonly identities: readonly string[];
      readonly suffixes: readonly (readonly string[])[];
    };

export interface Authorization {
  readonly meta: Meta;
  /** Never empty when decoded from the wire. */
  readonly networks: readonly AuthzNetwork[];
  readonly authentication: Authentication;
}

/** `exact` compares case-insensitively; `suffix` is `*.` + the labels, stored reversed as on the wire. */
export type HostMatch =
  | { readonly kind: 'exact'; readonly host: string }
  | { readonly kind: 'suffix'; readonly reverseLabels: readonly string[] };

export type PathMatch =
  | { readonly kind: 'exact'; readonly path: string }
  /** Matches whole path segments: `/foo` matches `/foo`, `/foo/`, `/foo/bar`, not `/foobar`. */
  | { readonly kind: 'prefix'; readonly prefix: string }
  /** Must match the entire path (see regex.ts for the dialect). */
  | { readonly kind: 'regex'; readonly pattern: string };

/** Header values are compared as Node presents them (latin1 text); names are lower-case. */
export type HeaderMatch =
  | { readonly kind: 'exact'; readonly name: string; readonly value: string }
  | { readonly kind: 'regex'; readonly name: string; readonly pattern: string };

/** Query parameters are compared after form-urlencoded decoding. */
export type QueryParamMatch =
  | { readonly kind: 'exact'; readonly name: string; readonly value: string }
  | { readonly kind: 'regex'; readonly name: string; readonly pattern: string };

/** All present conditions must hold; an absent path matches every path. */
export interface HttpRouteMatch {
  readonly path: PathMatch | undefined;
  readonly headers: readonly HeaderMatch[];
  readonly queryParams: readonly QueryParamMatch[];
  /** The method token, compared case-sensitively with the request (e.g. `GET`). */
  readonly method: string | undefined;
}

export interface HeaderModifier {
  /** Appended to any existing values. */
  readonly add: readonly (readonly [name: string, value: string])[];
  /** Replace every existing value. */
  readonly set: readonly (readonly [name: string, value: string])[];
  readonly remove: readonly string[];
}

export type RedirectAuthority =
  /** Both host and port given: use `authority` verbatim. */
  | { readonly kind: 'exact'; readonly authority: string }
  /** Only the host: keep the request's port unless it is the scheme default. */
  | { readonly kind: 'host'; readonly host: string }
  /** Only the port: keep the request's host. */
  | { readonly kind: 'port'; readonly port: number };

export interface RedirectFilter {
  readonly kind: 'redirect';
  /** Lower-case scheme, or undefined to keep the request's. */
  readonly scheme: string | undefined;
  readonly authority: RedirectAuthority | undefined;
  readonly path:
    | { readonly kind: 'full'; readonly path: string }
    | { readonly kind: 'prefix'; readonly prefix: string }
    | undefined;
  /** Undefined ⇒ 301. */
  readonly status: number | undefined;
}

/** Fails `numerator / denominator` of requests (default 1/1 = always). */
export interface Ratio {
  readonly numerator: number;
  readonly denominator: number;
}

export type HttpFilter =
  | ({ readonly kind: 'request-header-modifier' } & HeaderModifier)
  | RedirectFilter
  | { readonly kind: 'failure-injector'; readonly status: number; readonly message: string; readonly ratio: Ratio }
  /** The request fails with a 500: an unknown filter, or the invalid policy. */
  | { readonly kind: 'internal-error'; readonly message: string };

export type GrpcFilter =
  | ({ readonly kind: 'request-header-modifier' } & HeaderModifier)
  | { readonly kind: 'failure-injector'; readonly code: number; readonly message: string; readonly ratio: Ratio }
  | { readonly kind: 'internal-error'; readonly message: string };

export interface HttpRule {
  /** Any one may match; an empty list matches every request. */
  readonly matches: readonly HttpRouteMatch[];
  readonly filters: readonly HttpFilter[];
}

export interface HttpRoute {
  readonly meta: Meta;
  /** Empty ⇒ every host. */
  readonly hosts: readonly HostMatch[];
  readonly rules: readonly HttpRule[];
  /**
   * Everything that may admit a request on this route: the route's own authorizations, then the
   * server's (as the upstream proxy flattens them when decoding).
   */
  readonly authorizations: readonly Authorization[];
}

/** Empty service/method match any; the request must be a POST to `/<service>/<method>`. */
export interface GrpcRouteMatch {
  readonly service: string | undefined;
  readonly method: string | undefined;
  readonly headers: readonly HeaderMatch[];
}

export interface GrpcRule {
  readonly matches: readonly GrpcRouteMatch[];
  readonly filters: readonly GrpcFilter[];
}

export interface GrpcRoute {
  readonly meta: Meta;
  readonly hosts: readonly HostMatch[];
  readonly rules: readonly GrpcRule[];
  readonly authorizations: readonly Authorization[];
}

export type Protocol =
  | {
      readonly kind: 'detect';
      readonly timeoutMs: number;
      readonly tcpAuthorizations: readonly Authorization[];
      readonly httpRoutes: readonly HttpRoute[];
    }
  | { readonly kind: 'http1'; readonly routes: readonly HttpRoute[] }
  | { readonly kind: 'http2'; readonly routes: readonly HttpRoute[] }
  | { readonly kind: 'grpc'; readonly routes: readonly GrpcRoute[] }
  | { readonly kind: 'opaque'; readonly tcpAuthorizations: readonly Authorization[] }
  | { readonly kind: 'tls'; readonly tcpAuthorizations: readonly Authorization[] };

export type ProtocolKind = Protocol['kind'];

/** Requests-per-second limits; undefined/0 limits are absent. */
export interface LocalRateLimit {
  readonly meta: Meta | undefined;
  /** Shared by all clients. */
  readonly totalRps: number | undefined;
  /** Per client identity; clients without an identity share one bucket. */
  readonly identityRps: number | undefined;
  /** Listed identities get their own limit instead of `identityRps`. */
  readonly overrides: readonly { readonly rps: number; readonly identities: readonly string[] }[];
}

export interface ServerPolicy {
  readonly meta: Meta;
  readonly protocol: Protocol;
  /** Undefined ⇒ no limits. */
  readonly localRateLimit: LocalRateLimit | undefined;
}

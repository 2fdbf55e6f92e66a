// Compiled request matchers and their "how specific" summaries, following upstream linkerd/http/route.
import { compileWholeMatch, type WholeMatcher } from './regex.js';
import type { GrpcRouteMatch, HeaderMatch, HostMatch, HttpRouteMatch, PathMatch, QueryParamMatch } from './types.js';

/** What the route layer needs to know about a request. */
export interface HttpRequestView {
  /** The method token as received (case-sensitive), e.g. `GET`. */
  readonly method: string;
  /** The request path as received (still percent-encoded), without the query. */
  readonly path: string;
  /** The raw query string without the leading `?`; undefined or '' when absent. */
  readonly query: string | undefined;
  /** The request authority's host (`:authority`, or `Host` for HTTP/1); a `:port` is ignored. */
  readonly host: string | undefined;
  /** All values of a header by lower-case name (Node's `headersDistinct` shape, or one string). */
  readonly headers: (name: string) => string | readonly string[] | undefined;
}

/** Per-request lazily computed facts shared by all matchers. */
export class RequestFacts {
  private queryPairs: [string, string][] | undefined;
  private hostName: string | null | undefined;

  constructor(readonly req: HttpRequestView) {}

  query(): readonly [string, string][] {
    if (this.queryPairs === undefined) {
      const q = this.req.query ?? '';
      this.queryPairs = q === '' ? [] : [...new URLSearchParams(q.startsWith('?') ? q.slice(1) : q)];
    }
    return this.queryPairs;
  }

  host(): string | undefined {
    if (this.hostName === undefined) this.hostName = stripPort(this.req.host) ?? null;
    return this.hostName ?? undefined;
  }
}

function stripPort(authority: string | undefined): string | undefined {
  return authority === undefined || authority === '' ? undefined : hostOf(authority);
}

/** The host of `host[:port]` / `[v6]:port` (userinfo dropped), without the port. */
export function hostOf(authority: string): string {
  const at = authority.lastIndexOf('@');
  const a = at === -1 ? authority : authority.slice(at + 1);
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return end === -1 ? a : a.slice(0, end + 1);
  }
  const colon = a.indexOf(':');
  return colon === -1 ? a : a.slice(0, colon);
}

// === hosts ===

/** Exact beats suffix; within a kind the longer match wins (upstream `HostMatch` ordering). */
export interface HostSummary {
  readonly exact: boolean;
  readonly length: number;
}

export function compareHost(a: HostSummary | undefined, b: HostSummary | undefined): number {
  if (a === undefined || b === undefined) return (a === undefined ? 0 : 1) - (b === undefined ? 0 : 1);
  if (a.exact !== b.exact) return a.exact ? 1 : -1;
  return a.length - b.length;
}

function endsWithIgnoreCase(s: string, suffix: string): boolean {
  return s.length >= suffix.length && s.slice(s.length - suffix.length).toLowerCase() === suffix.toLowerCase();
}

export function compileHostMatch(m: HostMatch): (host: string) => HostSummary | undefined {
  if (m.kind === 'exact') {
    const want = m.host.toLowerCase();
    const keepDot = m.host.endsWith('.');
    const summary: HostSummary = { exact: true, length: m.host.length };
    return (host) => {
      const h = !keepDot && host.endsWith('.') ? host.slice(0, -1) : host;
      return h.toLowerCase() === want ? summary : undefined;
    };
  }
  const labels = m.reverseLabels;
  const absolute = labels[0] === '';
  return (host) => {
    let h = !absolute && host.endsWith('.') ? host.slice(0, -1) : host;
    let length = 0;
    for (const label of labels) {
      if (!endsWithIgnoreCase(h, label)) return undefined;
      h = h.slice(0, h.length - label.length);
      // A wildcard needs a label before the suffix, so a `.` must precede each suffix label.
      if (!h.endsWith('.')) return undefined;
      h = h.slice(0, -1);
      length += label.length + 1;
    }
    return { exact: false, length };
  };
}

/** Best host summary of a route (undefined = the route has no hosts; null = none matched). */
export function compileHosts(hosts: readonly HostMatch[]): (facts: RequestFacts) => HostSummary | undefined | null {
  if (hosts.length === 0) return () => undefined;
  const matchers = hosts.map(compileHostMatch);
  return (facts) => {
    const host = facts.host();
    if (host === undefined) return null;
    let best: HostSummary | null = null;
    for (const m of matchers) {
      const s = m(host);
      if (s !== undefined && (best === null || compareHost(s, best) > 0)) best = s;
    }
    return best;
  };
}

// === headers and query ===

function anyValue(v: string | readonly string[] | undefined, pred: (value: string) => boolean): boolean {
  if (v === undefined) return false;
  return typeof v === 'string' ? pred(v) : v.some(pred);
}

/** `HeaderValue::to_str` succeeds only for visible ASCII and TAB; regexes never see other values upstream. */
const VISIBLE_ASCII = /^[\t\x20-\x7e]*$/;

export function compileHeaderMatch(m: HeaderMatch): (req: HttpRequestView) => boolean {
  const name = m.name.toLowerCase();
  if (m.kind === 'exact') {
    const want = m.value;
    const same = (v: string): boolean => v === want;
    return (req) => anyValue(req.headers(name), same);
  }
  const re = compileWholeMatch(m.pattern);
  const ok = (v: string): boolean => VISIBLE_ASCII.test(v) && re(v);
  return (req) => anyValue(req.headers(name), ok);
}

function compileQueryMatch(m: QueryParamMatch): (facts: RequestFacts) => boolean {
  const name = m.name;
  if (m.kind === 'exact') {
    const want = m.value;
    return (facts) => facts.query().some(([k, v]) => k === name && v === want);
  }
  const re: WholeMatcher = compileWholeMatch(m.pattern);
  return (facts) => facts.query().some(([k, v]) => k === name && re(v));
}

// === HTTP request matches ===

export type PathMatchKind = PathMatch['kind'];

/**
 * How a request matched. Ranked as upstream linkerd2-proxy ranks `RequestMatch`
 * (linkerd/http/route/src/http/match.rs): matched path length (exact, prefix and regex alike),
 * then header count, then query-param count, then whether a method matched. This differs from
 * the Gateway API's documented order (exact before prefix, method before headers); we follow
 * the proxy we replace so the same route wins.
 */
export interface HttpMatchSummary {
  /** The kind of the path match; a match without a path counts as prefix `/`. */
  readonly pathKind: PathMatchKind;
  /** Characters matched: the exact path, the prefix without trailing `/`, or the whole path for regexes. */
  readonly pathLength: number;
  readonly headers: number;
  readonly queryParams: number;
  readonly method: boolean;
}

/** The summary of an empty match list: Gateway API's implicit prefix `/`. */
export const DEFAULT_HTTP_SUMMARY: HttpMatchSummary = Object.freeze({ pathKind: 'prefix', pathLength: 1, headers: 0, queryParams: 0, method: false });

export function compareHttpSummary(a: HttpMatchSummary, b: HttpMatchSummary): number {
  return a.pathLength - b.pathLength || a.headers - b.headers || a.queryParams - b.queryParams || Number(a.method) - Number(b.method);
}

function compilePath(m: PathMatch): (path: string) => { kind: PathMatchKind; length: number } | undefined {
  switch (m.kind) {
    case 'exact': {
      const r = { kind: 'exact', length: m.path.length } as const;
      return (path) => (path === m.path ? r : undefined);
    }
    case 'regex': {
      const re = compileWholeMatch(m.pattern);
      return (path) => (re(path) ? { kind: 'regex', length: path.length } : undefined);
    }
    case 'prefix': {
      if (m.prefix === '/') {
        const r = { kind: 'prefix', length: 1 } as const;
        return () => r;
      }
      const prefix = m.prefix.replace(/\/+$/, '');
      const r = { kind: 'prefix', length: prefix.length } as const;
      return (path) => {
        const p = path.replace(/\/+$/, '');
        if (!p.startsWith(prefix)) return undefined;
        // The prefix must end on a segment boundary.
        return p.length === prefix.length || p.charCodeAt(prefix.length) === 0x2f ? r : undefined;
      };
    }
  }
}

export type HttpMatcher = (facts: RequestFacts) => HttpMatchSummary | undefined;

export function compileHttpRouteMatch(m: HttpRouteMatch): HttpMatcher {
  const path = m.path === undefined ? undefined : compilePath(m.path);
  const headers = m.headers.map(compileHeaderMatch);
  const query = m.queryParams.map(compileQueryMatch);
  const method = m.method;
  return (facts) => {
    const req = facts.req;
    if (method !== undefined && req.method !== method) return undefined;
    let pathKind: PathMatchKind = 'prefix';
    let pathLength = 1;
    if (path !== undefined) {
      const p = path(req.path);
      if (p === undefined) return undefined;
      pathKind = p.kind;
      pathLength = p.length;
    }
    for (const h of headers) if (!h(req)) return undefined;
    for (const q of query) if (!q(facts)) return undefined;
    return { pathKind, pathLength, headers: headers.length, queryParams: query.length, method: method !== undefined };
  };
}

// === gRPC matches ===

/** Compared by service name length, method name length, then header count (upstream grpc `RouteMatch`). */
export interface GrpcMatchSummary {
  readonly service: number;
  readonly method: number;
  readonly headers: number;
}

export const DEFAULT_GRPC_SUMMARY: GrpcMatchSummary = Object.freeze({ service: 0, method: 0, headers: 0 });

export function compareGrpcSummary(a: GrpcMatchSummary, b: GrpcMatchSummary): number {
  return a.service - b.service || a.method - b.method || a.headers - b.headers;
}

export type GrpcMatcher = (facts: RequestFacts) => GrpcMatchSummary | undefined;

/** Only POSTs to `/<service>/<method>` match; segments after the method are ignored, as upstream. */
export function compileGrpcRouteMatch(m: GrpcRouteMatch): GrpcMatcher {
  const headers = m.headers.map(compileHeaderMatch);
  return (facts) => {
    const req = facts.req;
    if (req.method !== 'POST') return undefined;
    const parts = req.path.split('/');
    if (parts[0] !== '') return undefined;
    const service = parts[1];
    const method = parts[2];
    if (service === undefined || method === undefined) return undefined;
    if (m.service !== undefined && m.service !== service) return undefined;
    if (m.method !== undefined && m.method !== method) return undefined;
    for (const h of headers) if (!h(req)) return undefined;
    return { service: m.service?.length ?? 0, method: m.method?.length ?? 0, headers: headers.length };
  };
}

// Computes a redirect filter's `location` from the request, following upstream linkerd/http/route `filter/redirect.rs`.
import type { HttpMatchSummary } from './match-http.js';
import type { RedirectFilter } from './types.js';

/** The request URI's parts; `scheme`/`authority` are undefined when the request URI lacked them. */
export interface RedirectRequest {
  readonly scheme: string | undefined;
  readonly authority: string | undefined;
  readonly path: string;
  /** Without the `?`; undefined when there is no query. */
  readonly query: string | undefined;
}

export type RedirectOutcome =
  | { readonly kind: 'redirect'; readonly status: number; readonly location: string }
  /** The location equals the request URI: the filter does not apply. */
  | { readonly kind: 'none' }
  /** Answered with a 500 (upstream `HttpRouteInvalidRedirect`). */
  | { readonly kind: 'invalid'; readonly reason: string };

function splitAuthority(authority: string): { host: string; port: number | undefined } {
  const at = authority.lastIndexOf('@');
  const a = at === -1 ? authority : authority.slice(at + 1);
  const close = a.startsWith('[') ? a.indexOf(']') : -1;
  const colon = a.indexOf(':', close === -1 ? 0 : close);
  if (colon === -1) return { host: a, port: undefined };
  const port = a.slice(colon + 1);
  return { host: a.slice(0, colon), port: /^\d{1,5}$/.test(port) ? Number(port) : undefined };
}

function portIfNotDefault(scheme: string, port: number): number | undefined {
  if ((scheme === 'http' && port === 80) || (scheme === 'https' && port === 443)) return undefined;
  return port;
}

class Invalid extends Error {}

function authorityFor(filter: RedirectFilter, req: RedirectRequest, scheme: string): string {
  const orig = req.authority;
  const a = filter.authority;
  if (a === undefined) {
    if (orig === undefined) throw new Invalid('no authority to redirect to');
    return orig;
  }
  switch (a.kind) {
    case 'exact':
      return a.authority;
    case 'host': {
      const p = orig === undefined ? undefined : splitAuthority(orig).port;
      const keep = p === undefined ? undefined : portIfNotDefault(scheme, p);
      return keep === undefined ? a.host : `${a.host}:${keep}`;
    }
    case 'port': {
      if (orig === undefined) throw new Invalid('no authority to redirect to');
      const { host, port } = splitAuthority(orig);
      const p = portIfNotDefault(scheme, a.port);
      if (p !== undefined && p !== port) return `${host}:${p}`;
      if (p === undefined && port !== undefined) return host;
      return orig;
    }
  }
}

function pathAndQuery(filter: RedirectFilter, req: RedirectRequest, match: HttpMatchSummary): string {
  const q = req.query === undefined ? '' : `?${req.query}`;
  const p = filter.path;
  if (p === undefined) return `${req.path}${q}`;
  if (p.kind === 'full') return p.path;
  if (match.pathKind !== 'prefix' || match.pathLength > req.path.length) {
    throw new Invalid('redirects may only replace the path prefix when a path prefix match applied');
  }
  const rest = req.path.slice(match.pathLength);
  return `${p.prefix}${rest !== '' && !rest.startsWith('/') ? '/' : ''}${rest}${q}`;
}

export function applyRedirect(filter: RedirectFilter, req: RedirectRequest, match: HttpMatchSummary): RedirectOutcome {
  try {
    const scheme = filter.scheme ?? req.scheme ?? 'http';
    const location = `${scheme}://${authorityFor(filter, req, scheme)}${pathAndQuery(filter, req, match)}`;
    if (req.scheme !== undefined && req.authority !== undefined) {
      const original = `${req.scheme}://${req.authority}${req.path}${req.query === undefined ? '' : `?${req.query}`}`;
      if (location === original) return { kind: 'none' };
    }
    return { kind: 'redirect', status: filter.status ?? 301, location };
  } catch (e) {
    if (e instanceof Invalid) return { kind: 'invalid', reason: e.message };
    throw e;
  }
}

// What routing and policy see of a request (HTTP/1 head or HTTP/2 headers): method, path, query,
// authority (spec §4.2: Host, else the original destination), the logical name, and redirect parts.
import type { RequestHead } from '../../http/h1/index.js';
import type { HttpRequestView, RedirectRequest } from '../../policy/inbound/index.js';
import { hostOf } from '../../policy/inbound/match-http.js';

/** Request headers as Node's HTTP/2 server hands them over (lower-case names). */
export type H2Headers = Readonly<Record<string, string | string[] | undefined>>;

/** One per connection, re-pointed at each request: nothing is allocated unless a matcher asks. */
abstract class RequestViewBase implements HttpRequestView, RedirectRequest {
  method = '';
  path = '/';
  query: string | undefined = undefined;
  /** The request's host without a port (what route host matches compare). */
  host: string | undefined = undefined;
  /** host[:port] as the request named it, or the original destination address. */
  authority: string | undefined = undefined;
  scheme: string | undefined = undefined;
  /** The authority came from the request (not the original destination). */
  hasAuthority = false;

  abstract headers(name: string): string | readonly string[] | undefined;
  abstract header(name: string): string | undefined;

  protected setAuthority(authority: string | undefined, fallback: string): void {
    this.hasAuthority = authority !== undefined && authority !== '';
    this.authority = this.hasAuthority ? authority : fallback;
    this.host = hostOf(this.authority!);
  }

  protected setPathAndQuery(pq: string): void {
    const q = pq.indexOf('?');
    if (q === -1) {
      this.path = pq;
      this.query = undefined;
    } else {
      this.path = pq.slice(0, q);
      this.query = pq.slice(q + 1);
    }
  }
}

export class H1RequestView extends RequestViewBase {
  private head: RequestHead | undefined;

  /** `origDst` is `IP:port` of the connection's original destination (used when Host is missing). */
  reset(head: RequestHead, origDst: string): this {
    this.head = head;
    this.method = head.method;
    if (head.targetForm === 'absolute') {
      // hyper keeps an absolute URI's authority; it wins over Host.
      const t = head.target;
      const sep = t.indexOf('://');
      this.scheme = t.slice(0, sep).toLowerCase();
      const rest = t.slice(sep + 3);
      const slash = firstOf(rest, '/', '?');
      this.setAuthority(slash === -1 ? rest : rest.slice(0, slash), origDst);
      const pq = slash === -1 ? '/' : rest.slice(slash);
      this.setPathAndQuery(pq.startsWith('?') ? `/${pq}` : pq);
    } else {
      this.scheme = 'http';
      this.setAuthority(head.host, origDst);
      this.setPathAndQuery(head.target);
    }
    return this;
  }

  headers(name: string): string | readonly string[] | undefined {
    const values = this.head?.headerValues(name);
    return values === undefined || values.length === 0 ? undefined : values;
  }

  header(name: string): string | undefined {
    return this.head?.header(name);
  }
}

export class H2RequestView extends RequestViewBase {
  private h: H2Headers = {};

  reset(headers: H2Headers, origDst: string): this {
    this.h = headers;
    this.method = single(headers[':method']) ?? 'GET';
    this.scheme = single(headers[':scheme']);
    this.setAuthority(single(headers[':authority']) ?? single(headers.host), origDst);
    this.setPathAndQuery(single(headers[':path']) ?? '/');
    return this;
  }

  headers(name: string): string | readonly string[] | undefined {
    return this.h[name];
  }

  header(name: string): string | undefined {
    const v = this.h[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }
}

export type RequestView = H1RequestView | H2RequestView;

/**
 * The logical name a request is for (spec §4.2): `l5d-dst-canonical` when it is `name:port`,
 * else the request's authority when its host is a DNS name; '' when there is none (numeric
 * hosts, no Host). Requests for different names use different app connection pools.
 */
export function logicalName(view: RequestView): string {
  const canonical = view.header('l5d-dst-canonical');
  if (canonical !== undefined) {
    const named = nameAddr(canonical.trim());
    if (named !== undefined) return named;
  }
  if (!view.hasAuthority) return '';
  return nameAddr(view.authority!, 80) ?? '';
}

/** logicalName() for a connection's requests, recomputed only when the inputs change. */
export class LogicalNames {
  private canonical: string | undefined = undefined;
  private authority: string | undefined = undefined;
  private hasAuthority = false;
  private name = '';
  private primed = false;

  get(view: RequestView): string {
    const canonical = view.header('l5d-dst-canonical');
    if (this.primed && canonical === this.canonical && view.authority === this.authority && view.hasAuthority === this.hasAuthority) {
      return this.name;
    }
    this.primed = true;
    this.canonical = canonical;
    this.authority = view.authority;
    this.hasAuthority = view.hasAuthority;
    this.name = logicalName(view);
    return this.name;
  }
}

/** `name:port` lower-cased, when `authority` is a DNS name with a port (or `defaultPort`). */
function nameAddr(authority: string, defaultPort?: number): string | undefined {
  const at = authority.lastIndexOf('@');
  const a = at === -1 ? authority : authority.slice(at + 1);
  if (a.startsWith('[')) return undefined;
  const colon = a.lastIndexOf(':');
  const name = colon === -1 ? a : a.slice(0, colon);
  const portText = colon === -1 ? undefined : a.slice(colon + 1);
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
  }
  if (port === undefined || port > 65535 || !isDnsName(name)) return undefined;
  return `${name.toLowerCase()}:${port}`;
}

const DNS_NAME = /^(?=.{1,253}\.?$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$/i;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function isDnsName(name: string): boolean {
  return DNS_NAME.test(name) && !IPV4.test(name);
}

function firstOf(s: string, a: string, b: string): number {
  const i = s.indexOf(a);
  const j = s.indexOf(b);
  if (i === -1) return j;
  if (j === -1) return i;
  return Math.min(i, j);
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

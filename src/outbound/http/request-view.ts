// What routing and filters see of an HTTP/1 request: method, normalized authority, path, query
// and headers (spec §4.2 URI normalization: no Host ⇒ the original destination).
import type { RequestHead } from '../../http/h1/index.js';
import type { RedirectRequest } from '../../policy/inbound/index.js';
import type { HttpRequestView } from './routes.js';

export class Http1RequestView implements HttpRequestView, RedirectRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string | undefined;
  /** The request authority: the absolute URI's, else Host, else the original destination. */
  readonly authority: string;
  readonly scheme: string;

  constructor(
    readonly head: RequestHead,
    origDst: string,
  ) {
    this.method = head.method;
    const target = head.target;
    let rest = target;
    let authority: string | undefined;
    let scheme = 'http';
    if (head.targetForm === 'absolute') {
      const sep = target.indexOf('://');
      scheme = target.slice(0, sep).toLowerCase();
      const from = sep + 3;
      let end = from;
      while (end < target.length && target[end] !== '/' && target[end] !== '?') end++;
      authority = target.slice(from, end);
      rest = target.slice(end);
      if (rest === '' || rest[0] === '?') rest = `/${rest}`;
    } else if (head.targetForm === 'authority') {
      authority = target;
      rest = '';
    }
    const q = rest.indexOf('?');
    this.path = q === -1 ? rest : rest.slice(0, q);
    this.query = q === -1 ? undefined : rest.slice(q + 1);
    this.scheme = scheme;
    this.authority = authority ?? (head.hasHost ? head.host! : origDst);
  }

  get host(): string {
    return this.authority;
  }

  headers(name: string): readonly string[] | undefined {
    const values = this.head.headerValues(name);
    return values.length === 0 ? undefined : values;
  }
}

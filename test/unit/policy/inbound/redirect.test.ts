// Redirect location computation, following upstream filter/redirect.rs cases.
import t from 'tap';
import { applyRedirect, type HttpMatchSummary, type RedirectFilter, type RedirectRequest } from '../../../../src/policy/inbound/index.js';

const prefixMatch = (len: number): HttpMatchSummary => ({ pathKind: 'prefix', pathLength: len, headers: 0, queryParams: 0, method: false });
const exactMatch: HttpMatchSummary = { pathKind: 'exact', pathLength: 4, headers: 0, queryParams: 0, method: false };

function filter(over: Partial<RedirectFilter>): RedirectFilter {
  return { kind: 'redirect', scheme: undefined, authority: undefined, path: undefined, status: undefined, ...over };
}

const req = (authority: string | undefined, path = '/foo/bar', query?: string): RedirectRequest => ({ scheme: 'http', authority, path, query });

t.test('scheme, host, port overrides', async (t) => {
  const cases: [string, RedirectFilter, RedirectRequest, string | undefined][] = [
    ['scheme only', filter({ scheme: 'https' }), req('a.com'), 'https://a.com/foo/bar'],
    ['scheme only keeps a port', filter({ scheme: 'https' }), req('a.com:8080'), 'https://a.com:8080/foo/bar'],
    ['exact authority', filter({ authority: { kind: 'exact', authority: 'b.com:9000' } }), req('a.com:8080'), 'http://b.com:9000/foo/bar'],
    ['host keeps a non-default port', filter({ authority: { kind: 'host', host: 'b.com' } }), req('a.com:8080'), 'http://b.com:8080/foo/bar'],
    ['host drops the default port', filter({ authority: { kind: 'host', host: 'b.com' } }), req('a.com:80'), 'http://b.com/foo/bar'],
    ['host drops 443 for https', filter({ scheme: 'https', authority: { kind: 'host', host: 'b.com' } }), req('a.com:443'), 'https://b.com/foo/bar'],
    ['port replaces the port', filter({ authority: { kind: 'port', port: 9090 } }), req('a.com:8080'), 'http://a.com:9090/foo/bar'],
    ['default port removes the port', filter({ authority: { kind: 'port', port: 80 } }), req('a.com:8080'), 'http://a.com/foo/bar'],
    ['same port is unchanged ⇒ none', filter({ authority: { kind: 'port', port: 8080 } }), req('a.com:8080'), undefined],
    ['IPv6 host with port', filter({ authority: { kind: 'port', port: 9 } }), req('[fd00::1]:8080'), 'http://[fd00::1]:9/foo/bar'],
    ['no scheme defaults to http', filter({ authority: { kind: 'exact', authority: 'b.com' } }), { scheme: undefined, authority: 'a.com', path: '/x', query: undefined }, 'http://b.com/x'],
  ];
  for (const [name, f, r, want] of cases) {
    const out = applyRedirect(f, r, prefixMatch(1));
    t.same(out, want === undefined ? { kind: 'none' } : { kind: 'redirect', status: 301, location: want }, name);
  }
});

t.test('paths, queries and status', async (t) => {
  t.same(applyRedirect(filter({ path: { kind: 'full', path: '/new?x=1' }, status: 302 }), req('a.com', '/old', 'q=2'), prefixMatch(1)), {
    kind: 'redirect',
    status: 302,
    location: 'http://a.com/new?x=1',
  }, 'a full path replaces path and query');
  t.same(applyRedirect(filter({ path: { kind: 'prefix', prefix: '/v2' } }), req('a.com', '/foo/bar', 'q=2'), prefixMatch(4)), {
    kind: 'redirect',
    status: 301,
    location: 'http://a.com/v2/bar?q=2',
  }, 'prefix replacement keeps the rest and the query');
  t.same(applyRedirect(filter({ path: { kind: 'prefix', prefix: '/v2' } }), req('a.com', '/foobar'), prefixMatch(4)), {
    kind: 'redirect',
    status: 301,
    location: 'http://a.com/v2/bar',
  }, 'a separator is inserted when the rest lacks one');
  t.same(applyRedirect(filter({ path: { kind: 'prefix', prefix: '/v2' } }), req('a.com', '/foo'), prefixMatch(4)), { kind: 'redirect', status: 301, location: 'http://a.com/v2' });
  t.same(applyRedirect(filter({ path: { kind: 'prefix', prefix: '/v2' } }), req('a.com', '/foo'), exactMatch), {
    kind: 'invalid',
    reason: 'redirects may only replace the path prefix when a path prefix match applied',
  });
  t.same(applyRedirect(filter({ path: { kind: 'prefix', prefix: '/v2' } }), req('a.com', '/f'), prefixMatch(4)), { kind: 'invalid', reason: 'redirects may only replace the path prefix when a path prefix match applied' });
  t.same(applyRedirect(filter({}), req(undefined), prefixMatch(1)), { kind: 'invalid', reason: 'no authority to redirect to' });
  t.same(applyRedirect(filter({ authority: { kind: 'port', port: 1 } }), req(undefined), prefixMatch(1)), { kind: 'invalid', reason: 'no authority to redirect to' });
  t.same(applyRedirect(filter({ authority: { kind: 'host', host: 'h' } }), req(undefined), prefixMatch(1)), { kind: 'redirect', status: 301, location: 'http://h/foo/bar' });
  t.same(applyRedirect(filter({}), req('a.com', '/foo/bar', 'q=1'), prefixMatch(1)), { kind: 'none' }, 'nothing changes ⇒ none');
  t.same(applyRedirect(filter({}), { scheme: undefined, authority: 'a.com', path: '/foo/bar', query: undefined }, prefixMatch(1)), { kind: 'redirect', status: 301, location: 'http://a.com/foo/bar' }, 'a scheme-less request URI differs from the location');
});

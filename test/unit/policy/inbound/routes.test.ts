// HTTP and gRPC route selection: upstream linkerd/http/route precedence, host matching, match semantics, 404 vs 403.
import t from 'tap';
import {
  compileServerPolicy,
  type Authorization,
  type GrpcRoute,
  type HostMatch,
  type HttpAuthorization,
  type HttpRoute,
  type HttpRouteMatch,
  type ServerPolicy,
} from '../../../../src/policy/inbound/index.js';
import { conn, DNS_ID, request, TLS_CASES } from './fixtures.js';

const ALLOW_ALL: Authorization = {
  meta: { group: '', kind: 'default', name: 'all-unauthenticated' },
  networks: [{ net: { family: 4, addr: '0.0.0.0', prefixLen: 0 }, except: [] }],
  authentication: { kind: 'unauthenticated' },
};
const MTLS_ONLY: Authorization = {
  meta: { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name: 'mtls' },
  networks: [{ net: { family: 4, addr: '0.0.0.0', prefixLen: 0 }, except: [] }],
  authentication: { kind: 'tls-authenticated', identities: [], suffixes: [[]] },
};

function m(over: Partial<HttpRouteMatch>): HttpRouteMatch {
  return { path: undefined, headers: [], queryParams: [], method: undefined, ...over };
}

function route(name: string, matches: HttpRouteMatch[][], opts: { hosts?: HostMatch[]; authorizations?: Authorization[] } = {}): HttpRoute {
  return {
    meta: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name },
    hosts: opts.hosts ?? [],
    rules: matches.map((ms) => ({ matches: ms, filters: [] })),
    authorizations: opts.authorizations ?? [ALLOW_ALL],
  };
}

function http(...routes: HttpRoute[]): ReturnType<typeof compileServerPolicy> {
  const p: ServerPolicy = { meta: { group: 'policy.linkerd.io', kind: 'server', name: 's' }, protocol: { kind: 'http1', routes }, localRateLimit: undefined };
  return compileServerPolicy(p);
}

const plain = conn('10.0.0.1', TLS_CASES.plaintext);

function routeName(r: HttpAuthorization): string | undefined {
  return r.kind === 'allowed' || r.kind === 'denied' ? r.route.meta.name : undefined;
}

const exact = (path: string) => m({ path: { kind: 'exact', path } });
const prefix = (p: string) => m({ path: { kind: 'prefix', prefix: p } });
const regex = (pattern: string) => m({ path: { kind: 'regex', pattern } });

t.test('path precedence follows match length (upstream PathMatch ordering)', async (t) => {
  const p = http(route('prefix-foo', [[prefix('/foo')]]), route('exact-foo-bar', [[exact('/foo/bar')]]), route('prefix-foo-bar-baz', [[prefix('/foo/bar/baz')]]));
  t.equal(routeName(p.authorizeHttp(plain, request({ path: '/foo/bar' }))), 'exact-foo-bar', 'longer exact beats shorter prefix');
  t.equal(routeName(p.authorizeHttp(plain, request({ path: '/foo/baz' }))), 'prefix-foo');
  t.equal(routeName(p.authorizeHttp(plain, request({ path: '/foo/bar/baz/qux' }))), 'prefix-foo-bar-baz', 'longest prefix wins');
  t.equal(p.authorizeHttp(plain, request({ path: '/other' })).kind, 'not-found');

  const tie = http(route('prefix-first', [[prefix('/foo')]]), route('exact-second', [[exact('/foo')]]));
  t.equal(routeName(tie.authorizeHttp(plain, request({ path: '/foo' }))), 'prefix-first', 'equal lengths tie; the first route wins (upstream compares lengths only)');

  const re = http(route('prefix', [[prefix('/api/v1')]]), route('regex', [[regex('/api/v[0-9]+/items/[0-9]+')]]));
  t.equal(routeName(re.authorizeHttp(plain, request({ path: '/api/v1/items/42' }))), 'regex', 'a regex counts the whole path length');
  t.equal(routeName(re.authorizeHttp(plain, request({ path: '/api/v1/items/x' }))), 'prefix');
});

t.test('prefix matches whole segments; trailing slashes ignored', async (t) => {
  for (const [pfx, path, want] of [
    ['/foo', '/foo', true],
    ['/foo', '/foo/', true],
    ['/foo', '/foo/bar', true],
    ['/foo', '/foobar', false],
    ['/foo/', '/foo', true],
    ['/foo/', '/foo/bar', true],
    ['/foo/', '/foobar', false],
    ['/', '/anything', true],
    ['/', '/', true],
    ['/foo', '/', false],
    ['/foo', '/bar/foo', false],
  ] as const) {
    const p = http(route('r', [[prefix(pfx)]]));
    t.equal(p.authorizeHttp(plain, request({ path })).kind, want ? 'allowed' : 'not-found', `prefix ${pfx} vs ${path}`);
  }
  const r = http(route('r', [[prefix('/foo/')]])).authorizeHttp(plain, request({ path: '/foo/bar' }));
  t.equal(r.kind === 'allowed' && r.routeKind === 'http' ? r.match.pathLength : -1, 4, 'prefix length excludes the trailing slash');
});

t.test('after path length: header count, then query count, then method', async (t) => {
  const hdr = (name: string, value: string) => ({ kind: 'exact' as const, name, value });
  const qp = (name: string, value: string) => ({ kind: 'exact' as const, name, value });
  const p = http(
    route('two-headers', [[m({ headers: [hdr('x-a', '1'), hdr('x-b', '2')] })]]),
    route('three-headers', [[m({ headers: [hdr('x-a', '1'), hdr('x-b', '2'), hdr('x-c', '3')] })]]),
  );
  t.equal(routeName(p.authorizeHttp(plain, request({ headers: { 'x-a': '1', 'x-b': '2', 'x-c': '3' } }))), 'three-headers', 'more headers win');
  t.equal(routeName(p.authorizeHttp(plain, request({ headers: { 'x-a': '1', 'x-b': '2' } }))), 'two-headers');

  const hq = http(route('method', [[m({ method: 'GET' })]]), route('query', [[m({ queryParams: [qp('q', '1')] })]]), route('header', [[m({ headers: [hdr('x-a', '1')] })]]));
  t.equal(routeName(hq.authorizeHttp(plain, request({ query: 'q=1', headers: { 'x-a': '1' } }))), 'header', 'headers outrank query params and method');
  t.equal(routeName(hq.authorizeHttp(plain, request({ query: 'q=1' }))), 'query', 'query params outrank method');
  t.equal(routeName(hq.authorizeHttp(plain, request({}))), 'method');
  t.equal(hq.authorizeHttp(plain, request({ method: 'PUT' })).kind, 'not-found', 'method mismatch excludes');

  const pathFirst = http(route('many-headers', [[m({ headers: [hdr('x-a', '1'), hdr('x-b', '2')] })]]), route('longer-path', [[prefix('/foo')]]));
  t.equal(routeName(pathFirst.authorizeHttp(plain, request({ path: '/foo', headers: { 'x-a': '1', 'x-b': '2' } }))), 'longer-path', 'path length comes first');
});

t.test('hosts: exact beats wildcard; any host match beats none; longer wins', async (t) => {
  const p = http(
    route('no-hosts', [[exact('/foo')]]),
    route('wildcard', [[exact('/foo')]], { hosts: [{ kind: 'suffix', reverseLabels: ['com', 'example'] }] }),
    route('exact', [[exact('/foo')]], { hosts: [{ kind: 'exact', host: 'foo.example.com' }] }),
    route('long-wildcard', [[exact('/foo')]], { hosts: [{ kind: 'suffix', reverseLabels: ['com', 'example', 'bar'] }] }),
  );
  const pick = (host: string | undefined, path = '/foo') => routeName(p.authorizeHttp(plain, request({ host, path })));
  t.equal(pick('foo.example.com'), 'exact');
  t.equal(pick('FOO.Example.COM:8080'), 'exact', 'case-insensitive, port ignored');
  t.equal(pick('foo.example.com.'), 'exact', 'trailing dot ignored');
  t.equal(pick('x.bar.example.com'), 'long-wildcard', 'longer suffix wins');
  t.equal(pick('bar.example.com'), 'wildcard', 'the wildcard needs a label before the suffix');
  t.equal(pick('other.example.com'), 'wildcard');
  t.equal(pick('example.com'), 'no-hosts', 'bare suffix is not a wildcard match');
  t.equal(pick('elsewhere.org'), 'no-hosts');
  t.equal(pick(undefined), 'no-hosts', 'no authority: only host-less routes');
  t.equal(pick('[fd00::1]:80'), 'no-hosts');
  t.equal(pick('foo.example.com', '/bar'), undefined, 'host matches but no rule does ⇒ not found');

  const hostBeatsPath = http(route('long-path', [[exact('/foo/bar/baz')]]), route('host', [[prefix('/')]], { hosts: [{ kind: 'exact', host: 'h' }] }));
  t.equal(routeName(hostBeatsPath.authorizeHttp(plain, request({ host: 'h', path: '/foo/bar/baz' }))), 'host', 'host specificity outranks path');
  const onlyHosted = http(route('hosted', [[prefix('/')]], { hosts: [{ kind: 'exact', host: 'a' }] }));
  t.equal(onlyHosted.authorizeHttp(plain, request({ host: 'b' })).kind, 'not-found');
  const absolute = http(route('abs', [[prefix('/')]], { hosts: [{ kind: 'suffix', reverseLabels: ['', 'com', 'example'] }] }));
  t.equal(absolute.authorizeHttp(plain, request({ host: 'a.example.com.' })).kind, 'allowed', 'absolute wildcard requires the dot');
  t.equal(absolute.authorizeHttp(plain, request({ host: 'a.example.com' })).kind, 'not-found');
});

t.test('first identical route/rule wins; empty rule matches all; routes without rules never match', async (t) => {
  const p = http(route('none', []), route('first', [[], []]), route('second', [[]]));
  const r = p.authorizeHttp(plain, request({ path: '/x', method: 'OPTIONS' }));
  t.equal(routeName(r), 'first');
  t.equal(r.kind === 'allowed' ? r.rule : undefined, p.policy.protocol.kind === 'http1' ? p.policy.protocol.routes[1]?.rules[0] : undefined, 'the first rule');
  t.same(r.kind === 'allowed' ? r.match : undefined, { pathKind: 'prefix', pathLength: 1, headers: 0, queryParams: 0, method: false }, 'implicit prefix /');
  t.equal(http(route('none', [])).authorizeHttp(plain, request()).kind, 'not-found');
  t.equal(http().authorizeHttp(plain, request()).kind, 'not-found', 'no routes ⇒ 404');
  const anyOf = http(route('r', [[exact('/a'), exact('/b')]]));
  t.equal(anyOf.authorizeHttp(plain, request({ path: '/b' })).kind, 'allowed', 'any match of a rule applies');
});

t.test('header and query value semantics', async (t) => {
  const p = http(
    route('hx', [[m({ headers: [{ kind: 'exact', name: 'x-env', value: 'prod' }] })]]),
    route('hr', [[m({ path: { kind: 'prefix', prefix: '/r' }, headers: [{ kind: 'regex', name: 'x-ver', pattern: 'v[0-9]+' }] })]]),
    route('qx', [[m({ path: { kind: 'prefix', prefix: '/q' }, queryParams: [{ kind: 'exact', name: 'a b', value: 'c/d' }] })]]),
    route('qr', [[m({ path: { kind: 'prefix', prefix: '/qr' }, queryParams: [{ kind: 'regex', name: 'n', pattern: '[0-9]+' }] })]]),
  );
  const k = (over: Parameters<typeof request>[0]) => routeName(p.authorizeHttp(plain, request(over)));
  t.equal(k({ headers: { 'x-env': 'prod' } }), 'hx');
  t.equal(k({ headers: { 'x-env': ['dev', 'prod'] } }), 'hx', 'any of several values');
  t.equal(k({ headers: { 'x-env': 'Prod' } }), undefined, 'exact is case-sensitive');
  t.equal(k({ path: '/r', headers: { 'x-ver': 'v12' } }), 'hr');
  t.equal(k({ path: '/r', headers: { 'x-ver': 'v12x' } }), undefined, 'regex must span the whole value');
  t.equal(k({ path: '/r', headers: { 'x-ver': 'xv12' } }), undefined);
  t.equal(k({ path: '/q', query: 'a+b=c%2Fd' }), 'qx', 'query is form-urlencoded decoded');
  t.equal(k({ path: '/q', query: '?z=1&a%20b=c/d' }), 'qx', 'a leading ? is tolerated');
  t.equal(k({ path: '/q', query: 'a b=c' }), undefined);
  t.equal(k({ path: '/qr', query: 'n=x&n=42' }), 'qr', 'any pair may match');
  t.equal(k({ path: '/qr', query: 'n=42a' }), undefined);
  t.equal(k({ path: '/qr' }), undefined, 'no query');
  const empty = http(route('e', [[m({ queryParams: [{ kind: 'exact', name: 'flag', value: '' }] })]]));
  t.equal(empty.authorizeHttp(plain, request({ query: 'flag' })).kind, 'allowed', 'a bare key has the empty value');
});

t.test('404 vs 403, route-level authorizations', async (t) => {
  const p = http(route('public', [[prefix('/public')]]), route('private', [[prefix('/private')]], { authorizations: [MTLS_ONLY] }));
  t.equal(p.authorizeHttp(plain, request({ path: '/public/x' })).kind, 'allowed');
  const denied = p.authorizeHttp(plain, request({ path: '/private/x' }));
  t.equal(denied.kind, 'denied', '403: route found, no authorization admits');
  t.equal(routeName(denied), 'private');
  t.equal(p.authorizeHttp(plain, request({ path: '/nowhere' })).kind, 'not-found', '404: no route');
  const ok = p.authorizeHttp(conn('10.0.0.1', { kind: 'terminated', clientId: DNS_ID }), request({ path: '/private' }));
  t.ok(ok.kind === 'allowed' && ok.authz === MTLS_ONLY);
  const noAuthz = http(route('closed', [[]], { authorizations: [] }));
  t.equal(noAuthz.authorizeHttp(plain, request()).kind, 'denied');
});

function grpcPolicy(...routes: GrpcRoute[]): ReturnType<typeof compileServerPolicy> {
  return compileServerPolicy({ meta: { group: 'policy.linkerd.io', kind: 'server', name: 'g' }, protocol: { kind: 'grpc', routes }, localRateLimit: undefined });
}

function grpcRoute(name: string, matches: { service?: string; method?: string; headers?: number }[][], authorizations = [ALLOW_ALL]): GrpcRoute {
  return {
    meta: { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', name },
    hosts: [],
    rules: matches.map((ms) => ({
      matches: ms.map((x) => ({
        service: x.service,
        method: x.method,
        headers: Array.from({ length: x.headers ?? 0 }, (_, i) => ({ kind: 'exact' as const, name: `x-h${i}`, value: 'y' })),
      })),
      filters: [],
    })),
    authorizations,
  };
}

t.test('gRPC routes: POST /service/method, service then method specificity', async (t) => {
  const p = grpcPolicy(
    grpcRoute('any', [[{}]]),
    grpcRoute('service', [[{ service: 'pkg.Svc' }]]),
    grpcRoute('method', [[{ service: 'pkg.Svc', method: 'Get' }]]),
    grpcRoute('method-only', [[{ method: 'List' }]]),
    grpcRoute('headers', [[{ service: 'pkg.Svc', method: 'Get', headers: 1 }]], [MTLS_ONLY]),
  );
  const g = (path: string, method = 'POST', headers: Record<string, string> = {}) => p.authorizeHttp(plain, request({ method, path, headers }));
  t.equal(routeName(g('/pkg.Svc/Get')), 'method');
  t.equal(routeName(g('/pkg.Svc/Put')), 'service');
  t.equal(routeName(g('/other.Svc/List')), 'method-only');
  t.equal(routeName(g('/pkg.Svc/List')), 'service', 'service length outranks method length');
  t.equal(routeName(g('/a/b/extra')), 'any', 'extra segments are ignored');
  t.equal(g('/a').kind, 'not-found', 'a method segment is required');
  t.equal(g('/pkg.Svc/Get', 'GET').kind, 'not-found', 'only POST');
  t.equal(g('pkg.Svc/Get').kind, 'not-found', 'path must start with /');
  const h = g('/pkg.Svc/Get', 'POST', { 'x-h0': 'y' });
  t.equal(h.kind, 'denied', 'more headers win, then its authorization applies');
  t.equal(h.kind === 'denied' ? h.routeKind : '', 'grpc');
  const defaults = grpcPolicy(grpcRoute('default', [[]]));
  t.equal(defaults.authorizeHttp(plain, request({ method: 'GET', path: '/' })).kind, 'allowed', 'a match-less rule accepts any request');
  const allowed = g('/pkg.Svc/Put');
  t.same(allowed.kind === 'allowed' && allowed.routeKind === 'grpc' ? allowed.match : undefined, { service: 7, method: 0, headers: 0 });
});

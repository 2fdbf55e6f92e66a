import t from 'tap';
import type { GrpcRoute, GrpcRule, HttpRoute, HttpRule, OutboundPolicy, PolicyMeta } from '../../../../src/discovery/outbound-policy-types.js';
import { grpcRoutes, h2Routes } from '../../../../src/outbound/h2/routes.js';
import { H2RequestView } from '../../../../src/inbound/http/request-view.js';

const meta = (name: string): PolicyMeta => ({ group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', name, namespace: 'ns', section: undefined, port: undefined });
const timeouts = { responseMs: undefined, requestMs: undefined, idleMs: undefined };

function grpcRule(matches: GrpcRule['matches']): GrpcRule {
  return { matches, filters: [], distribution: { kind: 'empty' }, timeouts, retry: undefined, allowL5dRequestHeaders: false };
}

function view(headers: Record<string, string>): H2RequestView {
  return new H2RequestView().reset({ ':method': 'POST', ':scheme': 'http', ':authority': 'svc.ns:8080', ...headers }, '10.0.0.1:8080');
}

t.test('gRPC routes: the most specific service/method match wins; others do not match', async (t) => {
  const anyMethod = grpcRule([{ service: 'pkg.Svc', method: undefined, headers: [] }]);
  const oneMethod = grpcRule([{ service: 'pkg.Svc', method: 'Get', headers: [] }]);
  const withHeader = grpcRule([{ service: 'pkg.Svc', method: 'Get', headers: [{ kind: 'exact', name: 'x-canary', value: '1' }] }]);
  const route: GrpcRoute = { meta: meta('r'), hosts: [], rules: [anyMethod, oneMethod, withHeader] };
  const routes = grpcRoutes([route]);
  t.equal(routes.kind, 'grpc');
  t.equal(routes.find(view({ ':path': '/pkg.Svc/List' }))?.rule, anyMethod, 'service-only rule');
  t.equal(routes.find(view({ ':path': '/pkg.Svc/Get' }))?.rule, oneMethod, 'the method match beats the service-only one');
  t.equal(routes.find(view({ ':path': '/pkg.Svc/Get', 'x-canary': '1' }))?.rule, withHeader, 'a header match adds specificity');
  t.equal(routes.find(view({ ':path': '/other.Svc/Get' })), undefined, 'another service: no route');
  t.equal(routes.find(view({ ':path': '/pkg.Svc/Get', ':method': 'GET' })), undefined, 'gRPC is POST only');
});

t.test('gRPC routes: host matches rank first; an empty rule list matches nothing', async (t) => {
  const generic = grpcRule([]);
  const exact = grpcRule([]);
  const routes = grpcRoutes([
    { meta: meta('any'), hosts: [], rules: [generic] },
    { meta: meta('exact'), hosts: [{ kind: 'exact', host: 'svc.ns' }], rules: [exact] },
    { meta: meta('empty'), hosts: [], rules: [] },
  ]);
  const hit = routes.find(view({ ':path': '/pkg.Svc/Get' }));
  t.equal(hit?.rule, exact, 'the exact host route wins');
  t.equal(hit?.kind, 'grpc');
  t.equal(routes.find(new H2RequestView().reset({ ':method': 'POST', ':authority': 'other', ':path': '/a/b' }, '10.0.0.1:80'))?.rule, generic);
});

t.test('h2Routes picks the protocol’s HTTP/2 side and caches per policy', async (t) => {
  const rule: HttpRule = { matches: [], filters: [], distribution: { kind: 'empty' }, timeouts, retry: undefined, allowL5dRequestHeaders: false };
  const h1Rule: HttpRule = { ...rule };
  const h2Route: HttpRoute = { meta: meta('h2'), hosts: [], rules: [rule] };
  const h1Route: HttpRoute = { meta: meta('h1'), hosts: [], rules: [h1Rule] };
  const policy = (protocol: OutboundPolicy['protocol']): OutboundPolicy => ({ meta: meta('svc'), protocol, backends: [] });
  const detect = policy({ kind: 'detect', timeoutMs: 1000, opaque: { route: undefined }, http1: { routes: [h1Route], failureAccrual: undefined }, http2: { routes: [h2Route], failureAccrual: undefined } });
  const compiled = h2Routes(detect)!;
  t.equal(compiled.kind, 'http');
  t.equal(compiled.find(view({ ':path': '/x' }))?.route, h2Route, 'detect: the http2 routes, not http1');
  t.equal(h2Routes(detect), compiled, 'compiled once per policy object');
  t.equal(h2Routes(policy({ kind: 'http2', routes: [h2Route], failureAccrual: undefined }))?.kind, 'http');
  t.equal(h2Routes(policy({ kind: 'grpc', routes: [], failureAccrual: undefined }))?.kind, 'grpc');
  t.equal(h2Routes(policy({ kind: 'opaque', route: undefined })), null, 'opaque targets have no HTTP/2 routes');
  t.equal(h2Routes(policy({ kind: 'http1', routes: [h1Route], failureAccrual: undefined })), null);
});

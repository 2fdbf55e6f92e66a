// decodeServer: realistic controller messages, long/bytes/oneof representations, and the protobufjs round trip.
import t from 'tap';
import {
  authorizeHttp,
  authorizeTcp,
  decodeServer,
  LOCALHOST_AUTHZ,
  SERVER_TO_OBJECT_OPTIONS,
  type HttpRoute,
} from '../../../../src/policy/inbound/index.js';
import { protoType } from '../../../../src/proto/load.js';
import {
  conn,
  DNS_ID,
  request,
  TLS_CASES,
  v4,
  VM_SPIFFE_ID,
  WIRE_ALL_NETWORKS,
  wireDefaultMeta,
  wireDetect,
  wireMeshTls,
  wireNet4,
  wireNet6,
  wirePrefixRoute,
  wireResourceMeta,
  wireUnauthenticated,
} from './fixtures.js';

/** What the policy controller sends for a pod port no Server selects, with the all-unauthenticated default. */
const DEFAULT_SERVER_WIRE = {
  protocol: wireDetect([
    wirePrefixRoute('default'),
    {
      metadata: wireDefaultMeta('probe'),
      authorizations: [
        {
          networks: WIRE_ALL_NETWORKS,
          authentication: wireUnauthenticated(),
          labels: { group: '', kind: 'default', name: 'probe' },
          metadata: wireDefaultMeta('probe'),
        },
      ],
      rules: [{ matches: [{ path: { exact: '/ready', kind: 'exact' }, method: { registered: 'GET', type: 'registered' } }] }],
    },
  ]),
  authorizations: [
    {
      networks: WIRE_ALL_NETWORKS,
      authentication: wireUnauthenticated(),
      labels: { group: '', kind: 'default', name: 'all-unauthenticated' },
      metadata: wireDefaultMeta('all-unauthenticated'),
    },
  ],
  labels: { group: '', kind: 'default', name: 'all-unauthenticated' },
};

t.test('a default server as the controller sends it', async (t) => {
  const p = decodeServer(DEFAULT_SERVER_WIRE);
  t.same(p.meta, { group: '', kind: 'default', name: 'all-unauthenticated' });
  if (p.protocol.kind !== 'detect') throw new Error('detect');
  t.equal(p.protocol.timeoutMs, 10_000);
  t.equal(p.protocol.tcpAuthorizations.length, 2, 'the server authz plus localhost');
  t.same(p.protocol.tcpAuthorizations[0], {
    meta: { group: '', kind: 'default', name: 'all-unauthenticated' },
    networks: [
      { net: { family: 4, addr: '0.0.0.0', prefixLen: 0 }, except: [] },
      { net: { family: 6, addr: '::', prefixLen: 0 }, except: [] },
    ],
    authentication: { kind: 'unauthenticated' },
  });
  t.equal(p.protocol.tcpAuthorizations[1], LOCALHOST_AUTHZ, 'localhost is appended last');
  const [dflt, probe] = p.protocol.httpRoutes as [HttpRoute, HttpRoute];
  t.same(dflt.meta, { group: '', kind: 'default', name: 'default' });
  t.same(dflt.rules, [{ matches: [{ path: { kind: 'prefix', prefix: '/' }, headers: [], queryParams: [], method: undefined }], filters: [] }]);
  t.same(dflt.authorizations, p.protocol.tcpAuthorizations, 'a route without authorizations gets the server list');
  t.same(probe.authorizations.map((a) => a.meta.name), ['probe', 'all-unauthenticated', 'localhost'], 'route authzs, then server authzs');
  t.same(probe.rules[0]?.matches[0], { path: { kind: 'exact', path: '/ready' }, headers: [], queryParams: [], method: 'GET' });
  const r = authorizeHttp(p, conn('10.0.0.1', TLS_CASES.plaintext), request({ path: '/ready' }));
  t.ok(r.kind === 'allowed' && r.route.meta.name === 'probe' && r.authz.meta.name === 'probe');
});

/** A Server resource with an HTTPRoute carrying filters, an AuthorizationPolicy and a rate limit. */
const RESOURCE_SERVER_WIRE = {
  protocol: {
    http1: {
      routes: [
        {
          metadata: wireResourceMeta('gateway.networking.k8s.io', 'HTTPRoute', 'books'),
          hosts: [{ exact: 'books.example.com', match: 'exact' }, { suffix: { reverseLabels: ['com', 'example'] }, match: 'suffix' }],
          authorizations: [
            { networks: [{ net: wireNet4(v4(10, 0, 0, 0), 8), except: [wireNet4(v4(10, 1, 0, 0), 16)] }], authentication: wireMeshTls([], [['serviceaccount', 'identity', 'linkerd', 'cluster', 'local']]), metadata: wireResourceMeta('policy.linkerd.io', 'AuthorizationPolicy', 'books-authz') },
          ],
          rules: [
            {
              matches: [
                {
                  path: { regex: '/books/[0-9]+', kind: 'regex' },
                  headers: [{ name: 'X-Env', exact: Buffer.from('prod'), value: 'exact' }, { name: 'x-ver', regex: '(?i)V[0-9]', value: 'regex' }],
                  queryParams: [{ name: 'q', exact: 'x', value: 'exact' }],
                  method: { unregistered: 'PROPFIND', type: 'unregistered' },
                },
              ],
              filters: [
                { requestHeaderModifier: { add: { headers: [{ name: 'X-Add', value: Buffer.from('1') }] }, set: { headers: [{ name: 'x-set', value: Buffer.from('2') }] }, remove: ['X-Del'] }, kind: 'requestHeaderModifier' },
                { redirect: { scheme: { registered: 'HTTPS', type: 'registered' }, host: 'new.example.com', port: 8443, status: 302, path: { prefix: '/v2', replace: 'prefix' } }, kind: 'redirect' },
                { failureInjector: { status: 503, message: 'boom', ratio: { numerator: 1, denominator: 4 } }, kind: 'failureInjector' },
                {},
              ],
            },
          ],
        },
      ],
      localRateLimit: {
        metadata: wireResourceMeta('policy.linkerd.io', 'HTTPLocalRateLimitPolicy', 'rl'),
        total: { requestsPerSecond: 100 },
        identity: { requestsPerSecond: 10 },
        overrides: [{ limit: { requestsPerSecond: 50 }, clients: { identities: [{ name: DNS_ID }] } }, { limit: {}, clients: { identities: [{ name: 'zero' }] } }],
      },
    },
    kind: 'http1',
  },
  authorizations: [],
  labels: { name: 'books-server' },
};

t.test('a Server resource with routes, filters and a rate limit', async (t) => {
  const p = decodeServer(RESOURCE_SERVER_WIRE);
  t.same(p.meta, { group: 'policy.linkerd.io', kind: 'server', name: 'books-server' }, 'group/kind defaults');
  if (p.protocol.kind !== 'http1') throw new Error('http1');
  const r = p.protocol.routes[0];
  t.same(r?.meta, { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'books' });
  t.same(r?.hosts, [{ kind: 'exact', host: 'books.example.com' }, { kind: 'suffix', reverseLabels: ['com', 'example'] }]);
  t.same(r?.authorizations[0]?.networks, [{ net: { family: 4, addr: '10.0.0.0', prefixLen: 8 }, except: [{ family: 4, addr: '10.1.0.0', prefixLen: 16 }] }]);
  t.same(r?.authorizations[0]?.authentication, { kind: 'tls-authenticated', identities: [], suffixes: [['serviceaccount', 'identity', 'linkerd', 'cluster', 'local']] });
  t.equal(r?.authorizations[1], LOCALHOST_AUTHZ);
  t.same(r?.rules[0]?.matches[0], {
    path: { kind: 'regex', pattern: '/books/[0-9]+' },
    headers: [{ kind: 'exact', name: 'x-env', value: 'prod' }, { kind: 'regex', name: 'x-ver', pattern: '(?i)V[0-9]' }],
    queryParams: [{ kind: 'exact', name: 'q', value: 'x' }],
    method: 'PROPFIND',
  });
  t.same(r?.rules[0]?.filters, [
    { kind: 'request-header-modifier', add: [['x-add', '1']], set: [['x-set', '2']], remove: ['x-del'] },
    { kind: 'redirect', scheme: 'https', authority: { kind: 'exact', authority: 'new.example.com:8443' }, path: { kind: 'prefix', prefix: '/v2' }, status: 302 },
    { kind: 'failure-injector', status: 503, message: 'boom', ratio: { numerator: 1, denominator: 4 } },
    { kind: 'internal-error', message: 'server policy configured with unknown filter' },
  ]);
  t.same(p.localRateLimit, {
    meta: { group: 'policy.linkerd.io', kind: 'HTTPLocalRateLimitPolicy', name: 'rl' },
    totalRps: 100,
    identityRps: 10,
    overrides: [{ rps: 50, identities: [DNS_ID] }],
  }, 'zero-rate overrides are dropped');

  const client = conn('10.2.0.9', { kind: 'terminated', clientId: DNS_ID });
  const req = request({ method: 'PROPFIND', path: '/books/12', query: 'q=x', host: 'books.example.com', headers: { 'x-env': 'prod', 'x-ver': 'v2' } });
  const ok = authorizeHttp(p, client, req);
  t.ok(ok.kind === 'allowed' && ok.authz.meta.name === 'books-authz', 'decoded route admits a meshed client');
  t.equal(authorizeHttp(p, conn('10.1.0.9', client.tls), req).kind, 'denied', 'except network');
  t.equal(authorizeHttp(p, conn('127.0.0.1', TLS_CASES.plaintext), req).kind, 'allowed', 'localhost always allowed');
  t.equal(authorizeHttp(p, client, { ...req, method: 'GET' }).kind, 'not-found');
  t.equal(authorizeTcp(p, client).allowed, false, 'http1 has no TCP authorizations');
});

t.test('protocol kinds', async (t) => {
  const authorizations = [{ networks: WIRE_ALL_NETWORKS, authentication: wireUnauthenticated(), metadata: wireDefaultMeta('x') }];
  const labels = { name: 's' };
  const opaque = decodeServer({ protocol: { opaque: {}, kind: 'opaque' }, authorizations, labels });
  t.same(opaque.protocol.kind, 'opaque');
  t.same(opaque.protocol.kind === 'opaque' && opaque.protocol.tcpAuthorizations.map((a) => a.meta.name), ['x', 'localhost']);
  const tls = decodeServer({ protocol: { tls: {}, kind: 'tls' }, labels });
  t.same(tls.protocol.kind === 'tls' && tls.protocol.tcpAuthorizations, [LOCALHOST_AUTHZ], 'no authorizations: only localhost');
  for (const kind of ['http1', 'http2'] as const) {
    const p = decodeServer({ protocol: { [kind]: {}, kind }, authorizations, labels });
    const routes = p.protocol.kind === kind ? p.protocol.routes : [];
    t.equal(routes.length, 1, `${kind} without routes gets a default route`);
    t.same(routes[0]?.meta, { group: '', kind: 'default', name: 'default' });
    t.same(routes[0]?.rules, [{ matches: [], filters: [] }]);
    t.same(routes[0]?.authorizations.map((a) => a.meta.name), ['x', 'localhost']);
  }
  const grpc = decodeServer({
    protocol: {
      grpc: {
        routes: [
          {
            metadata: wireResourceMeta('gateway.networking.k8s.io', 'GRPCRoute', 'g'),
            rules: [
              {
                matches: [{ rpc: { service: 'pkg.Svc' }, headers: [{ name: 'x', regex: 'a+', value: 'regex' }] }, { rpc: {} }],
                filters: [
                  { failureInjector: { code: 14, message: 'unavailable' }, kind: 'failureInjector' },
                  { requestHeaderModifier: { remove: ['x'] }, kind: 'requestHeaderModifier' },
                  {},
                ],
              },
            ],
          },
        ],
      },
      kind: 'grpc',
    },
    labels,
  });
  if (grpc.protocol.kind !== 'grpc') throw new Error('grpc');
  t.same(grpc.protocol.routes[0]?.rules[0]?.matches, [
    { service: 'pkg.Svc', method: undefined, headers: [{ kind: 'regex', name: 'x', pattern: 'a+' }] },
    { service: undefined, method: undefined, headers: [] },
  ]);
  t.same(grpc.protocol.routes[0]?.rules[0]?.filters, [
    { kind: 'failure-injector', code: 14, message: 'unavailable', ratio: { numerator: 1, denominator: 1 } },
    { kind: 'request-header-modifier', add: [], set: [], remove: ['x'] },
    { kind: 'internal-error', message: 'server policy configured with unknown filter' },
  ]);
  const grpcDefault = decodeServer({ protocol: { grpc: {}, kind: 'grpc' }, labels });
  t.same(grpcDefault.protocol.kind === 'grpc' && grpcDefault.protocol.routes.map((r) => r.meta.name), ['default']);
  const rl = decodeServer({ protocol: wireDetect([], 0), labels });
  t.equal(rl.localRateLimit, undefined, 'no rate limit message');
  t.equal(rl.protocol.kind === 'detect' && rl.protocol.timeoutMs, 0);
  const frac = decodeServer({ protocol: { detect: { timeout: { seconds: 1, nanos: 500_000_000 } }, kind: 'detect' }, labels });
  t.equal(frac.protocol.kind === 'detect' && frac.protocol.timeoutMs, 1500);
  const emptyTimeout = decodeServer({ protocol: { detect: { timeout: {} }, kind: 'detect' }, labels });
  t.equal(emptyTimeout.protocol.kind === 'detect' && emptyTimeout.protocol.timeoutMs, 0, 'a zero Duration is present but empty');
});

t.test('server meta from labels (upstream try_new_with_default)', async (t) => {
  const meta = (labels: Record<string, string>) => decodeServer({ protocol: { opaque: {}, kind: 'opaque' }, labels }).meta;
  t.same(meta({ name: 'web' }), { group: 'policy.linkerd.io', kind: 'server', name: 'web' });
  t.same(meta({ name: 'web', group: 'g', kind: 'k' }), { group: 'g', kind: 'k', name: 'web' });
  t.same(meta({ name: 'deny', group: '', kind: 'default' }), { group: '', kind: 'default', name: 'deny' });
  t.same(meta({ name: 'default:deny' }), { group: '', kind: 'default', name: 'deny' }, 'legacy kind:name');
  t.same(meta({ name: 'server:web' }), { group: 'policy.linkerd.io', kind: 'server', name: 'web' });
  const asMap = decodeServer({ protocol: { opaque: {}, kind: 'opaque' }, labels: new Map([['name', 'm']]) });
  t.equal(asMap.meta.name, 'm', 'a Map works too');
  const authzMeta = decodeServer({
    protocol: { opaque: {}, kind: 'opaque' },
    labels: { name: 's' },
    authorizations: [{ networks: WIRE_ALL_NETWORKS, authentication: wireUnauthenticated(), labels: { name: 'legacy' } }],
  });
  t.same(authzMeta.protocol.kind === 'opaque' && authzMeta.protocol.tcpAuthorizations[0]?.meta, { group: 'policy.linkerd.io', kind: 'serverauthorization', name: 'legacy' }, 'authz labels fallback');
});

t.test('IP networks in every long representation', async (t) => {
  const decodeNet = (net: unknown) => {
    const p = decodeServer({ protocol: { opaque: {}, kind: 'opaque' }, labels: { name: 's' }, authorizations: [{ networks: [{ net }], authentication: wireUnauthenticated() , labels: { name: 'a' } }] });
    return p.protocol.kind === 'opaque' ? p.protocol.tcpAuthorizations[0]?.networks[0]?.net : undefined;
  };
  t.same(decodeNet(wireNet4(0x0a000001, 32)), { family: 4, addr: '10.0.0.1', prefixLen: 32 }, '0x0A000001 is 10.0.0.1');
  t.same(decodeNet(wireNet4(0xffffffff, 32)), { family: 4, addr: '255.255.255.255', prefixLen: 32 });
  const fd = { family: 6, addr: 'fd00::1', prefixLen: 8 };
  t.same(decodeNet(wireNet6('18230571291595767808', '1', 8)), fd, 'decimal strings (longs: String)');
  t.same(decodeNet(wireNet6(0xfd00000000000000, 1, 8)), fd, 'numbers (longs: Number), exact here');
  t.same(decodeNet(wireNet6(0xfd00000000000000n, 1n, 8)), fd, 'bigints');
  t.same(decodeNet(wireNet6({ low: 0, high: 0xfd000000 | 0, unsigned: true }, { low: 1, high: 0, unsigned: true }, 8)), fd, 'unsigned Long objects');
  t.same(decodeNet(wireNet6({ low: 0, high: 0xfd000000 | 0, unsigned: false }, { low: 1, high: 0 }, 8)), fd, 'signed Long objects keep their 64 bits');
  t.same(decodeNet(wireNet6('-216172782113783808', '1', 8)), fd, 'a negative decimal is taken as its 64-bit pattern');
  t.same(decodeNet(wireNet6('2306139568115548160', '0', 32)), { family: 6, addr: '2001:db8::', prefixLen: 32 });
  t.same(decodeNet(wireNet6(undefined, '1', 128)), { family: 6, addr: '::1', prefixLen: 128 }, 'absent half is zero');
  t.same(decodeNet(wireNet6('0', '281470849515521', 128)), { family: 6, addr: '::ffff:10.0.0.1', prefixLen: 128 }, 'mapped text form');
});

t.test('oneofs without the virtual field, enums as numbers, bytes as arrays/base64', async (t) => {
  const p = decodeServer({
    protocol: {
      detect: {
        timeout: { seconds: { low: 3, high: 0 } },
        httpRoutes: [
          {
            metadata: { default: 'r' },
            rules: [
              {
                matches: [
                  { path: { exact: '/a' }, method: { registered: 7 }, headers: [{ name: 'x', exact: [104, 105] }, { name: 'y', exact: 'aGk=' }] },
                ],
              },
            ],
          },
        ],
      },
    },
    authorizations: [{ networks: [{ net: { ip: { ipv4: 1 }, prefixLen: 32 } }], authentication: { meshTLS: { unauthenticated: {} } }, metadata: { resource: { group: 'g', kind: 'k', name: 'n' } } }],
    labels: { name: 's' },
  });
  if (p.protocol.kind !== 'detect') throw new Error('detect');
  t.equal(p.protocol.timeoutMs, 3000);
  t.same(p.protocol.httpRoutes[0]?.rules[0]?.matches[0], {
    path: { kind: 'exact', path: '/a' },
    headers: [{ kind: 'exact', name: 'x', value: 'hi' }, { kind: 'exact', name: 'y', value: 'hi' }],
    queryParams: [],
    method: 'HEAD',
  });
  t.same(p.protocol.tcpAuthorizations[0], {
    meta: { group: 'g', kind: 'k', name: 'n' },
    networks: [{ net: { family: 4, addr: '0.0.0.1', prefixLen: 32 }, except: [] }],
    authentication: { kind: 'tls-unauthenticated' },
  });
  t.ok(Object.isFrozen(p) && Object.isFrozen(p.protocol) && Object.isFrozen(p.protocol.tcpAuthorizations), 'decoded policies are frozen');
});

t.test('round trip through our inbound.proto', async (t) => {
  const Server = protoType('io.linkerd.proxy.inbound.Server');
  for (const [name, wire] of [['default server', DEFAULT_SERVER_WIRE], ['resource server', RESOURCE_SERVER_WIRE]] as const) {
    const bytes = Server.encode(Server.fromObject(wire)).finish();
    const back = Server.toObject(Server.decode(bytes), SERVER_TO_OBJECT_OPTIONS);
    t.same(decodeServer(back), decodeServer(wire), `${name}: same policy after the wire`);
    const numberLongs = Server.toObject(Server.decode(bytes), { ...SERVER_TO_OBJECT_OPTIONS, longs: Number });
    t.same(decodeServer(numberLongs), decodeServer(wire), `${name}: longs: Number works for these values`);
    const raw = Server.decode(bytes);
    t.same(decodeServer(Server.toObject(raw, { oneofs: true })), decodeServer(wire), `${name}: default options (Long objects, enum numbers)`);
  }
  const ew = {
    protocol: wireDetect([wirePrefixRoute('default')]),
    authorizations: [{ networks: [{ net: wireNet6('18230571291595767808', '0', 8) }], authentication: wireMeshTls([VM_SPIFFE_ID]), metadata: wireResourceMeta('policy.linkerd.io', 'authorizationpolicy', 'vm') }],
    labels: { group: 'policy.linkerd.io', kind: 'server', name: 'vm' },
  };
  const back = Server.toObject(Server.decode(Server.encode(Server.fromObject(ew)).finish()), SERVER_TO_OBJECT_OPTIONS);
  const policy = decodeServer(back);
  t.ok(authorizeTcp(policy, conn('fd00::5', TLS_CASES.spiffeId)).allowed, 'IPv6 network and SPIFFE identity survive the wire');
  t.notOk(authorizeTcp(policy, conn('fd00::5', TLS_CASES.dnsId)).allowed);
});

// Inbound policy messages shaped like the policy controller's survive our encode/decode intact.
import t, { type Test } from 'tap';
import { decodeMessage, encodeMessage, ipNetwork } from '../../support/control-plane-codec.js';
import type { Wire } from '../../support/control-plane-codec.js';
import { roundTrip as sharedRoundTrip } from './round-trip.js';

const PKG = 'io.linkerd.proxy.inbound';

function roundTrip(t: Test, type: string, decoded: Wire): Wire {
  return sharedRoundTrip(t, `${PKG}.${type}`, decoded);
}

/** ipNetwork() plus the oneof arm name the decoder adds. */
function net(cidr: string): Wire {
  const n = ipNetwork(cidr) as { ip: Wire; prefixLen: number };
  const ip = { ...n.ip, ip: 'ipv4' in n.ip ? 'ipv4' : 'ipv6' };
  return n.prefixLen === 0 ? { ip } : { ip, prefixLen: n.prefixLen };
}

const tdSuffix = ['serviceaccount', 'identity', 'linkerd', 'cluster', 'local'];

const authorizations: Wire[] = [
  {
    // MeshTLSAuthentication with SPIFFE IDs, a ServiceAccount, a Namespace and "*".
    networks: [{ net: net('0.0.0.0/0'), except: [net('169.254.0.0/16')] }, { net: net('::/0') }],
    authentication: {
      meshTLS: {
        identities: {
          identities: [
            { name: 'spiffe://root.linkerd.cluster.local/external-workload' },
            { name: 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local' },
          ],
          suffixes: [{ parts: ['emojivoto', ...tdSuffix] }, {}],
        },
        clients: 'identities',
      },
      permit: 'meshTLS',
    },
    labels: { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name: 'legacy-clients' },
    metadata: { resource: { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name: 'legacy-clients', namespace: 'default' }, kind: 'resource' },
  },
  {
    networks: [{ net: net('10.0.0.0/8') }, { net: net('fd00::/8') }],
    authentication: { meshTLS: { unauthenticated: {}, clients: 'unauthenticated' }, permit: 'meshTLS' },
    metadata: { default: 'cluster-authenticated', kind: 'default' },
  },
  {
    networks: [{ net: net('0.0.0.0/0') }, { net: net('::/0') }],
    authentication: { unauthenticated: {}, permit: 'unauthenticated' },
    labels: { group: '', kind: 'default', name: 'all-unauthenticated' },
    metadata: { default: 'all-unauthenticated', kind: 'default' },
  },
];

const httpRoutes: Wire[] = [
  {
    metadata: { resource: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'books-api', namespace: 'default' }, kind: 'resource' },
    hosts: [{ exact: 'books.example.com', match: 'exact' }, { suffix: { reverseLabels: ['com', 'example'] }, match: 'suffix' }],
    authorizations: [authorizations[0] as Wire],
    rules: [
      {
        matches: [
          {
            path: { prefix: '/api/', kind: 'prefix' },
            headers: [{ name: 'x-tenant', exact: Buffer.from('blue'), value: 'exact' }, { name: 'x-trace', regex: '^[0-9a-f]+$', value: 'regex' }],
            queryParams: [{ name: 'debug', exact: '1', value: 'exact' }],
            method: { registered: 'POST', type: 'registered' },
          },
          { path: { exact: '/healthz', kind: 'exact' } },
        ],
        filters: [
          {
            requestHeaderModifier: {
              add: { headers: [{ name: 'x-added', value: Buffer.from([0xff, 0x00, 0x41]) }] },
              set: { headers: [{ name: 'x-set', value: Buffer.from('v') }] },
              remove: ['x-internal'],
            },
            kind: 'requestHeaderModifier',
          },
          {
            redirect: { scheme: { registered: 'HTTPS', type: 'registered' }, host: 'new.example.com', path: { prefix: '/v2/', replace: 'prefix' }, port: 8443, status: 301 },
            kind: 'redirect',
          },
          { failureInjector: { status: 503, message: 'chaos', ratio: { numerator: 1, denominator: 100 } }, kind: 'failureInjector' },
        ],
      },
    ],
  },
  // The default route: metadata Default "default", prefix "/".
  { metadata: { default: 'default', kind: 'default' }, rules: [{ matches: [{ path: { prefix: '/', kind: 'prefix' } }] }] },
];

const rateLimit: Wire = {
  metadata: { resource: { group: 'policy.linkerd.io', kind: 'HTTPLocalRateLimitPolicy', name: 'books-rl', namespace: 'default' }, kind: 'resource' },
  total: { requestsPerSecond: 1000 },
  identity: { requestsPerSecond: 100 },
  overrides: [{ limit: { requestsPerSecond: 500 }, clients: { identities: [{ name: 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local' }] } }],
};

t.test('PortSpec with an ExternalWorkload workload string', async (t) => {
  roundTrip(t, 'PortSpec', { workload: '{"ns":"default","external_workload":"legacy-vm-1"}\n', port: 8080 });
});

t.test('Server: detect with routes, rate limit and networks/except/identities/suffixes authorizations', async (t) => {
  roundTrip(t, 'Server', {
    protocol: { detect: { timeout: { seconds: '10' }, httpRoutes, httpLocalRateLimit: rateLimit }, kind: 'detect' },
    authorizations,
    labels: { group: 'policy.linkerd.io', kind: 'server', name: 'legacy-http' },
  });
});

t.test('Server: explicit HTTP/1, HTTP/2, gRPC, opaque and TLS protocols', async (t) => {
  roundTrip(t, 'Server', { protocol: { http1: { routes: httpRoutes, localRateLimit: rateLimit }, kind: 'http1' }, authorizations });
  roundTrip(t, 'Server', { protocol: { http2: { routes: httpRoutes }, kind: 'http2' } });
  roundTrip(t, 'Server', {
    protocol: {
      grpc: {
        routes: [
          {
            metadata: { resource: { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', name: 'dst', namespace: 'linkerd' }, kind: 'resource' },
            hosts: [{ exact: 'linkerd-dst.linkerd.svc.cluster.local', match: 'exact' }],
            authorizations,
            rules: [
              {
                matches: [{ rpc: { service: 'io.linkerd.proxy.destination.Destination', method: 'Get' }, headers: [{ name: 'x-env', exact: Buffer.from('prod'), value: 'exact' }] }],
                filters: [
                  { failureInjector: { code: 14, message: 'injected', ratio: { numerator: 1, denominator: 2 } }, kind: 'failureInjector' },
                  { requestHeaderModifier: { remove: ['x-drop'] }, kind: 'requestHeaderModifier' },
                ],
              },
            ],
          },
        ],
      },
      kind: 'grpc',
    },
  });
  roundTrip(t, 'Server', { protocol: { opaque: {}, kind: 'opaque' }, authorizations, labels: { group: '', kind: 'default', name: 'all-unauthenticated' } });
  roundTrip(t, 'Server', { protocol: { tls: {}, kind: 'tls' } });
});

t.test('an empty authorization list and a deny-all default stay distinguishable from "no protocol"', async (t) => {
  const decoded = decodeMessage(`${PKG}.Server`, encodeMessage(`${PKG}.Server`, { protocol: { opaque: {} }, authorizations: [], labels: { kind: 'default', name: 'deny' } }));
  t.same(decoded, { protocol: { opaque: {}, kind: 'opaque' }, labels: { kind: 'default', name: 'deny' } }, 'empty repeated fields are absent');
  t.same(decodeMessage(`${PKG}.Server`, Buffer.alloc(0)), {}, 'a Server without protocol decodes, and the decoder must reject it');
});

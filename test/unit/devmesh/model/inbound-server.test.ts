// Server resources on inbound ports: selection (oldest first, named ports), protocols, accessPolicy and AuthorizationPolicies.
import t from 'tap';
import { authorizeHttp, authorizeTcp, type ClientConnection } from '../../../../src/policy/inbound/authorize.js';
import type { Authorization, ServerPolicy } from '../../../../src/policy/inbound/types.js';
import { ewWorkload, ewYaml, getInbound, snapshotOf } from './wire-check.js';

const EW = ewYaml({ name: 'vm', ip: '198.18.0.2', labels: { app: 'web', tier: 'back' }, ports: '  - port: 8080\n    name: http\n  - port: 9090\n    name: grpc' });
const VM = ewWorkload('default', 'vm');

function server(name: string, spec: string, extraMeta = ''): string {
  return `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata:
  name: ${name}
${extraMeta}spec:
${spec}
---
`;
}

function authzs(p: ServerPolicy): readonly Authorization[] {
  if (p.protocol.kind === 'detect' || p.protocol.kind === 'opaque' || p.protocol.kind === 'tls') return p.protocol.tcpAuthorizations;
  if (p.protocol.kind === 'grpc') return p.protocol.routes[0]?.authorizations ?? [];
  return p.protocol.routes[0]?.authorizations ?? [];
}

const GET = { method: 'GET', path: '/', query: undefined, host: undefined, headers: () => undefined };
const fromVm = (id: string): ClientConnection => ({ clientIp: '198.18.0.9', tls: { kind: 'terminated', clientId: id } });

t.test('the oldest selecting Server wins: creationTimestamp first, then manifest order', async (t) => {
  const a = server('a-newer', '  externalWorkloadSelector: { matchLabels: { app: web } }\n  port: 8080\n  proxyProtocol: HTTP/2');
  const b = server('b-older', '  externalWorkloadSelector: { matchLabels: { app: web } }\n  port: http\n  proxyProtocol: HTTP/1', '  creationTimestamp: "2024-01-01T00:00:00Z"\n');
  const c = server('c-file-first', '  externalWorkloadSelector: { matchExpressions: [ { key: tier, operator: In, values: [back] } ] }\n  port: 8080\n  proxyProtocol: gRPC');
  t.equal(getInbound(snapshotOf(EW + a + b), VM, 8080).meta.name, 'b-older', 'an explicit timestamp is older than manifests applied now');
  t.equal(getInbound(snapshotOf(EW + c + a), VM, 8080).meta.name, 'c-file-first', 'without timestamps, file order is creation order');
  t.equal(getInbound(snapshotOf(EW + a + c), VM, 8080).meta.name, 'a-newer');
  const p = getInbound(snapshotOf(EW + b), VM, 8080);
  t.same(p.meta, { group: 'policy.linkerd.io', kind: 'server', name: 'b-older' });
  t.equal(p.protocol.kind, 'http1');
});

t.test('selection needs the right workload kind, labels and port', async (t) => {
  const s = snapshotOf(
    EW +
      server('pods-only', '  podSelector: { matchLabels: { app: web } }\n  port: 8080') +
      server('wrong-labels', '  externalWorkloadSelector: { matchLabels: { app: api } }\n  port: 8080') +
      server('not-in', '  externalWorkloadSelector: { matchExpressions: [ { key: tier, operator: NotIn, values: [back] } ] }\n  port: 8080') +
      server('unknown-name', '  externalWorkloadSelector: {}\n  port: metrics') +
      server('grpc', '  externalWorkloadSelector: {}\n  port: grpc\n  proxyProtocol: gRPC'),
  );
  t.equal(getInbound(s, VM, 8080).meta.name, 'all-unauthenticated', 'no Server selects vm:8080');
  const g = getInbound(s, VM, 9090);
  t.equal(g.meta.name, 'grpc', 'an empty selector selects every EW; the port by name');
  t.equal(g.protocol.kind, 'grpc');
  if (g.protocol.kind === 'grpc') t.same(g.protocol.routes.map((r) => r.meta.name), ['default']);
});

t.test('protocols: unknown is detect 10s; opaque and TLS carry only connection authorizations', async (t) => {
  for (const [proto, kind] of [['unknown', 'detect'], ['HTTP/2', 'http2'], ['opaque', 'opaque'], ['TLS', 'tls']] as const) {
    const p = getInbound(snapshotOf(EW + server('s', `  externalWorkloadSelector: {}\n  port: 8080\n  proxyProtocol: ${proto}`)), VM, 8080);
    t.equal(p.protocol.kind, kind, proto);
    if (p.protocol.kind === 'detect') t.equal(p.protocol.timeoutMs, 10_000);
  }
});

t.test('a Server without authorizations denies; accessPolicy adds that default policy', async (t) => {
  const deny = getInbound(snapshotOf(EW + server('s', '  externalWorkloadSelector: {}\n  port: 8080\n  proxyProtocol: HTTP/1')), VM, 8080);
  t.same(authzs(deny).map((a) => a.meta.name), ['localhost']);
  t.equal(authorizeHttp(deny, fromVm('spiffe://x/y'), GET).kind, 'denied');
  const open = getInbound(snapshotOf(EW + server('s', '  externalWorkloadSelector: {}\n  port: 8080\n  accessPolicy: all-unauthenticated')), VM, 8080);
  t.same(authzs(open).map((a) => a.meta.name), ['all-unauthenticated', 'localhost']);
  t.equal(authorizeTcp(open, { clientIp: '203.0.113.1', tls: { kind: 'none' } }).allowed, true);
});

const MTLS = (spec: string): string => `apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: { name: ids }
spec:
${spec}
---
`;
const POLICY = (target: string, refs: string): string => `apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: allow }
spec:
  targetRef: ${target}
  requiredAuthenticationRefs:${refs === '[]' ? ' []' : `\n${refs}`}
---
`;
const TO_SERVER = '{ group: policy.linkerd.io, kind: Server, name: s }';
const SRV = server('s', '  externalWorkloadSelector: {}\n  port: 8080\n  proxyProtocol: HTTP/1');

t.test('MeshTLSAuthentication identities and identityRefs become exact identities and suffixes', async (t) => {
  const yaml =
    EW +
    SRV +
    MTLS(`  identities: [ "spiffe://root.linkerd.cluster.local/vm", "*.ops.example.org" ]
  identityRefs:
  - { kind: ServiceAccount, name: web }
  - { kind: ServiceAccount, name: api, namespace: shop }
  - { kind: Namespace, name: batch }`) +
    POLICY(TO_SERVER, '  - { group: policy.linkerd.io, kind: MeshTLSAuthentication, name: ids }');
  const p = getInbound(snapshotOf(yaml), VM, 8080);
  const [a] = authzs(p);
  t.same(a?.meta, { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name: 'allow' });
  t.same(a?.authentication, {
    kind: 'tls-authenticated',
    identities: [
      'spiffe://root.linkerd.cluster.local/vm',
      'web.default.serviceaccount.identity.linkerd.cluster.local',
      'api.shop.serviceaccount.identity.linkerd.cluster.local',
    ],
    suffixes: [
      ['ops', 'example', 'org'],
      ['batch', 'serviceaccount', 'identity', 'linkerd', 'cluster', 'local'],
    ],
  });
  t.same(a?.networks.map((n) => `${n.net.addr}/${n.net.prefixLen}`), ['0.0.0.0/0', '::/0'], 'no NetworkAuthentication: every network');
  t.equal(authorizeHttp(p, fromVm('spiffe://root.linkerd.cluster.local/vm'), GET).kind, 'allowed');
  t.equal(authorizeHttp(p, fromVm('spiffe://root.linkerd.cluster.local/other'), GET).kind, 'denied');
  t.equal(authorizeHttp(p, fromVm('job.batch.serviceaccount.identity.linkerd.cluster.local'), GET).kind, 'allowed');
  t.equal(authorizeHttp(p, { clientIp: '198.18.0.9', tls: { kind: 'none' } }, GET).kind, 'denied');
});

t.test('NetworkAuthentication networks, ServiceAccount refs and Namespace targets', async (t) => {
  const net = `apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: { name: lan }
spec:
  networks:
  - { cidr: 198.18.0.0/16, except: [ 198.18.0.9/32 ] }
  - { cidr: "fd00::/8" }
---
`;
  const yaml = EW + SRV + net + POLICY('{ kind: Namespace, name: default }', '  - { group: policy.linkerd.io, kind: NetworkAuthentication, name: lan }\n  - { kind: ServiceAccount, name: web }');
  const s = snapshotOf(yaml);
  t.same(s.problems, []);
  const p = getInbound(s, VM, 8080);
  const [a] = authzs(p);
  t.same(a?.networks.map((n) => [`${n.net.addr}/${n.net.prefixLen}`, n.except.map((e) => `${e.addr}/${e.prefixLen}`)]), [
    ['198.18.0.0/16', ['198.18.0.9/32']],
    ['fd00::/8', []],
  ]);
  t.same(a?.authentication, { kind: 'tls-authenticated', identities: ['web.default.serviceaccount.identity.linkerd.cluster.local'], suffixes: [] });
  const web = 'web.default.serviceaccount.identity.linkerd.cluster.local';
  t.equal(authorizeHttp(p, { clientIp: '198.18.3.3', tls: { kind: 'terminated', clientId: web } }, GET).kind, 'allowed');
  t.equal(authorizeHttp(p, { clientIp: '198.18.0.9', tls: { kind: 'terminated', clientId: web } }, GET).kind, 'denied', 'an excepted address');
  t.equal(authorizeHttp(p, { clientIp: '203.0.113.1', tls: { kind: 'terminated', clientId: web } }, GET).kind, 'denied', 'outside the networks');
});

t.test('no required authentications: anyone from anywhere; a missing authentication: the policy is skipped with a warning', async (t) => {
  const open = getInbound(snapshotOf(EW + SRV + POLICY(TO_SERVER, '[]')), VM, 8080);
  t.equal(authorizeHttp(open, { clientIp: '203.0.113.1', tls: { kind: 'none' } }, GET).kind, 'allowed');
  const s = snapshotOf(EW + SRV + POLICY(TO_SERVER, '  - { group: policy.linkerd.io, kind: MeshTLSAuthentication, name: missing }'));
  t.match(s.problems, [{ severity: 'warning', resource: 'AuthorizationPolicy default/allow', field: 'spec.requiredAuthenticationRefs', message: /could not find MeshTLSAuthentication missing/ }]);
  t.same(authzs(getInbound(s, VM, 8080)).map((a) => a.meta.name), ['localhost']);
  const other = getInbound(snapshotOf(EW + SRV + POLICY('{ group: policy.linkerd.io, kind: Server, name: other }', '[]')), VM, 8080);
  t.same(authzs(other).map((a) => a.meta.name), ['localhost'], 'a policy for another Server does not apply');
});

// InboundServerPolicies for ports no Server selects: workload lookup, default policies and their sources, decoded by the proxy.
import t from 'tap';
import { authorizeHttp, authorizeTcp } from '../../../../src/policy/inbound/authorize.js';
import type { ServerPolicy } from '../../../../src/policy/inbound/types.js';
import { ewWorkload, ewYaml, getInbound, podWorkload, snapshotOf } from './wire-check.js';

const POD = `apiVersion: v1
kind: Pod
metadata: { name: web-1, namespace: shop, annotations: { linkerd.io/inject: enabled } }
spec:
  containers:
  - name: c
    ports: [ { name: http, containerPort: 8080 }, { containerPort: 5432 } ]
    readinessProbe: { httpGet: { port: http, path: /ready?x=1 } }
    livenessProbe: { httpGet: { port: 8080, path: /live } }
---
`;

const GET = { method: 'GET', path: '/', query: undefined, host: undefined, headers: () => undefined };

function names(p: ServerPolicy): string[] {
  const authzs = p.protocol.kind === 'detect' || p.protocol.kind === 'opaque' || p.protocol.kind === 'tls' ? p.protocol.tcpAuthorizations : [];
  return authzs.map((a) => a.meta.name);
}

t.test('workload strings: JSON pod/external_workload, legacy ns:pod, and what is refused', async (t) => {
  const s = snapshotOf(POD + ewYaml({ name: 'vm', ip: '198.18.0.2', ns: 'shop' }));
  t.equal(s.inboundServer(podWorkload('shop', 'web-1'), 8080).kind, 'server');
  t.equal(s.inboundServer('{"ns":"shop", "pod":"web-1"}\n', 8080).kind, 'server', 'as the injector writes it, with a trailing newline');
  t.equal(s.inboundServer('shop:web-1', 8080).kind, 'server');
  t.equal(s.inboundServer(ewWorkload('shop', 'vm'), 8080).kind, 'server');
  t.equal(s.inboundServer('{"ns":"shop","nodeName":"n","external_workload":"vm"}', 8080).kind, 'server', 'other keys are ignored');
  for (const bad of ['{"ns":"shop","nonsense":"vm"}', '{"ns":"shop"', 'no-colon', ':web-1', 'shop:', '{"pod":"web-1"}', '{"ns":"shop","pod":"a","external_workload":"b"}']) {
    t.match(s.inboundServer(bad, 8080), { kind: 'refused', code: 'INVALID_ARGUMENT' }, bad);
  }
  t.match(s.inboundServer(podWorkload('shop', 'web-1'), 0), { kind: 'refused', code: 'INVALID_ARGUMENT' });
  t.match(s.inboundServer(podWorkload('shop', 'nope'), 8080), { kind: 'refused', code: 'NOT_FOUND' });
  t.match(s.inboundServer(ewWorkload('other', 'vm'), 8080), { kind: 'refused', code: 'NOT_FOUND' });
  t.match(s.inboundServer(podWorkload('shop', 'vm'), 8080), { kind: 'refused', code: 'NOT_FOUND' }, 'an EW is not a pod');
});

t.test('the default server: detect 10s, the cluster default policy, a match-all route', async (t) => {
  const s = snapshotOf(ewYaml({ name: 'vm', ip: '198.18.0.2' }));
  const p = getInbound(s, ewWorkload('default', 'vm'), 8080);
  t.same(p.meta, { group: '', kind: 'default', name: 'all-unauthenticated' });
  t.equal(p.protocol.kind, 'detect');
  if (p.protocol.kind !== 'detect') return;
  t.equal(p.protocol.timeoutMs, 10_000);
  t.same(p.protocol.httpRoutes.map((r) => r.meta.name), ['default']);
  t.match(p.protocol.httpRoutes[0]?.rules[0]?.matches, [{ path: { kind: 'prefix', prefix: '/' } }]);
  t.same(names(p), ['all-unauthenticated', 'localhost']);
  t.same(p.protocol.tcpAuthorizations[0]?.networks.map((n) => `${n.net.addr}/${n.net.prefixLen}`), ['0.0.0.0/0', '::/0']);
  t.equal(authorizeTcp(p, { clientIp: '203.0.113.1', tls: { kind: 'none' } }).allowed, true);
  t.equal(authorizeHttp(p, { clientIp: '203.0.113.1', tls: { kind: 'none' } }, GET).kind, 'allowed');
});

t.test('default policy sources: EW annotation, settings; pods also inherit the namespace annotation', async (t) => {
  const ns = `apiVersion: v1
kind: Namespace
metadata: { name: shop, annotations: { config.linkerd.io/default-inbound-policy: deny } }
---
`;
  const ew = ewYaml({ name: 'vm', ip: '198.18.0.2', ns: 'shop' });
  const ewAnnotated = ewYaml({ name: 'vm2', ip: '198.18.0.3', ns: 'shop', annotations: { 'config.linkerd.io/default-inbound-policy': 'cluster-authenticated' } });
  const s = snapshotOf(ns + POD + ew + ewAnnotated);
  const pod = getInbound(s, podWorkload('shop', 'web-1'), 8080);
  t.equal(pod.meta.name, 'deny');
  t.same(names(pod), ['localhost'], 'deny authorizes nobody but localhost');
  t.equal(getInbound(s, ewWorkload('shop', 'vm'), 8080).meta.name, 'all-unauthenticated', 'EWs are not injected: the namespace annotation does not reach them');
  const cluster = getInbound(s, ewWorkload('shop', 'vm2'), 8080);
  t.equal(cluster.meta.name, 'cluster-authenticated');
  if (cluster.protocol.kind === 'detect') {
    const a = cluster.protocol.tcpAuthorizations[0];
    t.same(a?.networks.map((n) => `${n.net.addr}/${n.net.prefixLen}`), ['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8']);
    t.same(a?.authentication, { kind: 'tls-authenticated', identities: [], suffixes: [[]] });
  }
  const audited = snapshotOf(POD, { defaultInboundPolicy: 'audit' });
  t.equal(getInbound(audited, podWorkload('shop', 'web-1'), 8080).meta.name, 'audit');
});

t.test('opaque-ports and require-identity annotations on the default server', async (t) => {
  const ew = ewYaml({
    name: 'vm',
    ip: '198.18.0.2',
    ports: '  - port: 8080\n    name: http\n  - port: 9000',
    annotations: { 'config.linkerd.io/opaque-ports': 'http', 'config.linkerd.io/proxy-require-identity-inbound-ports': '9000' },
  });
  const s = snapshotOf(ew + POD);
  const opaque = getInbound(s, ewWorkload('default', 'vm'), 8080);
  t.equal(opaque.protocol.kind, 'opaque', 'named by the EW port name');
  t.equal(getInbound(s, ewWorkload('default', 'vm'), 3306).protocol.kind, 'detect', 'default opaque ports do not apply inbound to EWs');
  const strict = getInbound(s, ewWorkload('default', 'vm'), 9000);
  t.equal(strict.meta.name, 'all-authenticated', 'require-identity turns the allow policy authenticated');
  t.equal(authorizeTcp(strict, { clientIp: '10.0.0.1', tls: { kind: 'none' } }).allowed, false);
  t.equal(getInbound(s, podWorkload('shop', 'web-1'), 5432).protocol.kind, 'opaque', 'injection lists a pod container port from the default opaque list');
});

t.test('pods: a probe route for the HTTP probes on that port, authorized from the probe networks', async (t) => {
  const s = snapshotOf(`${POD}apiVersion: v1
kind: Namespace
metadata: { name: shop, annotations: { config.linkerd.io/default-inbound-policy: deny } }
`);
  const p = getInbound(s, podWorkload('shop', 'web-1'), 8080);
  if (p.protocol.kind !== 'detect') {
    t.fail('expected detect');
    return;
  }
  t.same(p.protocol.httpRoutes.map((r) => r.meta.name), ['default', 'probe']);
  const probe = p.protocol.httpRoutes[1];
  t.same(probe?.rules[0]?.matches.map((m) => [m.method, m.path]), [
    ['GET', { kind: 'exact', path: '/live' }],
    ['GET', { kind: 'exact', path: '/ready' }],
  ]);
  const kubelet = { clientIp: '10.42.0.1', tls: { kind: 'none' } } as const;
  t.equal(authorizeHttp(p, kubelet, { ...GET, path: '/ready' }).kind, 'allowed', 'probes pass even with deny');
  t.equal(authorizeHttp(p, kubelet, GET).kind, 'denied');
  const other = getInbound(s, podWorkload('shop', 'web-1'), 5432);
  t.equal(other.protocol.kind, 'opaque');
});

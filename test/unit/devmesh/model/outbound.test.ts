// OutboundPolicies from manifests: Service policies, undefined ports, egress fallback and NOT_FOUND, decoded by the proxy.
import t from 'tap';
import type { Backend, OutboundPolicy } from '../../../../src/discovery/outbound-policy-types.js';
import { getOutbound, snapshotOf } from './wire-check.js';

const s = snapshotOf(`apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  clusterIP: 10.43.1.1
  selector: { app: web }
  ports:
  - { name: http, port: 80 }
  - { name: mysql, port: 3306 }
  - { name: h1, port: 81, appProtocol: http }
  - { name: h2c, port: 82, appProtocol: kubernetes.io/h2c }
  - { name: tcp, port: 83, appProtocol: linkerd.io/opaque }
---
apiVersion: v1
kind: Service
metadata: { name: v6, namespace: other }
spec: { clusterIP: "fd00::10", selector: { app: web }, ports: [ { port: 8080 } ] }
`);

function balancerPaths(p: OutboundPolicy): string[] {
  return p.backends.map((b: Backend) => (b.dispatch.kind === 'balancer' ? b.dispatch.path : b.dispatch.kind));
}

t.test('a Service ClusterIP:port gets the Service default policy (Detect, HTTP/1, HTTP/2, opaque)', async (t) => {
  const p = getOutbound(s, { kind: 'addr', ip: '10.43.1.1', port: 80 });
  t.match(p.meta, { group: 'core', kind: 'Service', name: 'web', namespace: 'default', port: 80 });
  t.equal(p.protocol.kind, 'detect');
  if (p.protocol.kind !== 'detect') return;
  t.equal(p.protocol.timeoutMs, 10_000);
  t.equal(p.protocol.http1.routes.length, 1);
  const route = p.protocol.http1.routes[0];
  t.match(route?.meta, { kind: 'default', name: 'http' });
  t.match(route?.rules[0]?.matches, [{ path: { kind: 'prefix', prefix: '/' } }]);
  t.equal(p.protocol.http2.routes.length, 1);
  t.match(p.protocol.opaque.route?.meta, { kind: 'default', name: 'opaq' });
  t.equal(p.backends.length, 1, 'every route shares the one Service backend');
  const b = p.backends[0];
  t.same(b?.queue, { capacity: 100, failfastTimeoutMs: 3000 });
  t.same(b?.dispatch, { kind: 'balancer', path: 'web.default.svc.cluster.local:80', load: { kind: 'peak-ewma', defaultRttMs: 30, decayMs: 10_000 } });
  t.match(b?.meta, { group: 'core', kind: 'Service', name: 'web', port: 80 });
});

t.test('by authority: the same policy, port 80 by default', async (t) => {
  const byAddr = getOutbound(s, { kind: 'addr', ip: '10.43.1.1', port: 80 });
  t.same(getOutbound(s, { kind: 'authority', authority: 'web.default.svc.cluster.local:80' }), byAddr);
  t.same(getOutbound(s, { kind: 'authority', authority: 'web.default.svc.cluster.local' }), byAddr);
  t.same(getOutbound(s, { kind: 'authority', authority: 'web.default.svc.cluster.local.:80' }), byAddr);
  t.match(s.outboundPolicy({ kind: 'authority', authority: 'example.com:80' }, '{"ns":"default","pod":"x"}'), { kind: 'refused', code: 'NOT_FOUND' });
  t.match(s.outboundPolicy({ kind: 'authority', authority: ':80' }, '{"ns":"default","pod":"x"}'), { kind: 'refused', code: 'INVALID_ARGUMENT' });
});

t.test('opaque ports and appProtocol choose the protocol', async (t) => {
  t.equal(getOutbound(s, { kind: 'addr', ip: '10.43.1.1', port: 3306 }).protocol.kind, 'opaque', 'a default opaque port');
  t.equal(getOutbound(s, { kind: 'addr', ip: '10.43.1.1', port: 81 }).protocol.kind, 'http1');
  t.equal(getOutbound(s, { kind: 'addr', ip: '10.43.1.1', port: 82 }).protocol.kind, 'http2');
  const opaque = getOutbound(s, { kind: 'addr', ip: '10.43.1.1', port: 83 });
  t.equal(opaque.protocol.kind, 'opaque');
  t.same(balancerPaths(opaque), ['web.default.svc.cluster.local:83']);
});

t.test('a ClusterIP on a port the Service lacks: the undefined-port Forbidden policy', async (t) => {
  const p = getOutbound(s, { kind: 'addr', ip: '10.43.1.1', port: 9999 });
  t.match(p.meta, { group: 'core', kind: 'Service', name: 'web', namespace: 'default', port: 9999 });
  t.equal(p.protocol.kind, 'opaque');
  if (p.protocol.kind !== 'opaque') return;
  t.match(p.protocol.route?.meta, { kind: 'default', name: 'undefined-port' });
  t.same(p.protocol.route?.rule.distribution, { kind: 'empty' });
  t.same(p.protocol.route?.rule.filters, [{ kind: 'forbidden' }]);
});

t.test('an IPv6 ClusterIP is matched canonically', async (t) => {
  const p = getOutbound(s, { kind: 'addr', ip: 'fd00:0::10', port: 8080 });
  t.same(balancerPaths(p), ['v6.other.svc.cluster.local:8080']);
});

t.test('inside the cluster networks but not a Service: NOT_FOUND; outside: egress-fallback', async (t) => {
  t.match(s.outboundPolicy({ kind: 'addr', ip: '10.42.0.5', port: 80 }, '{"ns":"default","pod":"x"}'), { kind: 'refused', code: 'NOT_FOUND' });
  t.match(s.outboundPolicy({ kind: 'addr', ip: 'fd00::99', port: 80 }, '{"ns":"default","pod":"x"}'), { kind: 'refused', code: 'NOT_FOUND' });
  const p = getOutbound(s, { kind: 'addr', ip: '203.0.113.9', port: 443 });
  t.match(p.meta, { kind: 'default', name: 'egress-fallback' });
  t.equal(p.protocol.kind, 'detect');
  t.equal(p.backends.length, 1);
  const d = p.backends[0]?.dispatch;
  t.equal(d?.kind, 'forward');
  if (d?.kind === 'forward') {
    t.equal(d.endpoint.key, '203.0.113.9:443');
    t.equal(d.endpoint.weight, 1);
    t.equal(d.endpoint.tlsIdentity, undefined);
  }
  const custom = snapshotOf('', { clusterNetworks: ['203.0.113.0/24'] });
  t.match(custom.outboundPolicy({ kind: 'addr', ip: '203.0.113.9', port: 443 }, 'default:x'), { kind: 'refused', code: 'NOT_FOUND' }, 'the cluster networks setting decides');
});

t.test('the source workload must parse; the target port must be valid', async (t) => {
  t.match(s.outboundPolicy({ kind: 'addr', ip: '10.43.1.1', port: 80 }, 'garbage'), { kind: 'refused', code: 'INVALID_ARGUMENT' });
  t.match(s.outboundPolicy({ kind: 'addr', ip: '10.43.1.1', port: 0 }, 'default:x'), { kind: 'refused', code: 'INVALID_ARGUMENT' });
  t.match(s.outboundPolicy({ kind: 'addr', ip: 'not-an-ip', port: 80 }, 'default:x'), { kind: 'refused', code: 'INVALID_ARGUMENT' });
  t.equal(s.outboundPolicy({ kind: 'addr', ip: '10.43.1.1', port: 80 }, 'default:x').kind, 'policy', 'the legacy ns:pod form is accepted');
});

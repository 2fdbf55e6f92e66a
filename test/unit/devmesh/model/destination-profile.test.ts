// Destination.GetProfile from manifests: service profiles by name or ClusterIP, endpoint profiles by pod/EW/unknown IP.
import t from 'tap';
import { ewYaml, getProfile, snapshotOf } from './wire-check.js';

const YAML = `apiVersion: v1
kind: Service
metadata: { name: web, annotations: { config.linkerd.io/opaque-ports: "db" } }
spec:
  clusterIP: 10.43.1.1
  selector: { app: web }
  ports: [ { name: http, port: 80 }, { name: db, port: 5000 }, { name: mysql, port: 3306 } ]
---
apiVersion: v1
kind: Service
metadata: { name: plain }
spec: { clusterIP: 10.43.1.2, selector: { app: web }, ports: [ { port: 3306 } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: web-1, labels: { app: web }, annotations: { linkerd.io/inject: enabled, devmesh.l5d.io/ips: "10.42.0.5" } }
spec: { containers: [ { name: c, ports: [ { containerPort: 80 } ] } ] }
---
${ewYaml({ name: 'vm', ip: '198.18.0.2', ports: '  - port: 80\n  - port: 6379' })}`;

const s = snapshotOf(YAML);

t.test('by Service name and by ClusterIP: the default profile of that Service port', async (t) => {
  for (const path of ['web.default.svc.cluster.local:80', '10.43.1.1:80']) {
    const p = getProfile(s, path);
    t.equal(p.fullyQualifiedName, 'web.default.svc.cluster.local', path);
    t.same(p.retryBudget, { retryRatio: Math.fround(0.2), minRetriesPerSecond: 10, ttlMs: 10_000 });
    t.equal(p.endpoint, undefined);
    t.equal(p.opaqueProtocol, false);
    t.match(p.parentRef, { group: 'core', kind: 'Service', name: 'web', namespace: 'default', port: 80 });
    t.same(p.routes, []);
  }
  t.equal(getProfile(s, 'web.default.svc.cluster.local:5000').opaqueProtocol, true, 'a Service port named in its opaque-ports annotation');
  t.equal(getProfile(s, 'web.default.svc.cluster.local:3306').opaqueProtocol, false, 'the annotation replaces the default list');
  t.equal(getProfile(s, 'plain.default.svc.cluster.local:3306').opaqueProtocol, true, 'without it, the default opaque ports apply');
});

t.test('a port the Service lacks gets an empty profile', async (t) => {
  t.same(s.destinationProfile('web.default.svc.cluster.local:81'), { kind: 'profile', profile: {} });
  t.same(s.destinationProfile('10.43.1.1:81'), { kind: 'profile', profile: {} });
});

t.test('an EW IP with a declared port: its endpoint, identity and opaque flag', async (t) => {
  const p = getProfile(s, '198.18.0.2:80');
  t.equal(p.endpoint?.key, '198.18.0.2:80');
  t.same(p.endpoint?.tlsIdentity, { kind: 'uri', name: 'spiffe://root.linkerd.cluster.local/vm', serverName: 'vm.cluster.local' });
  t.equal(p.endpoint?.protocolHint, 'h2');
  t.same(p.endpoint?.metricLabels, { external_workload: 'vm', zone: '', namespace: 'default' });
  t.equal(p.opaqueProtocol, false);
  const redis = getProfile(s, '198.18.0.2:6379');
  t.equal(redis.opaqueProtocol, true);
  t.equal(redis.endpoint?.protocolHint, 'opaque');
  t.equal(redis.endpoint?.opaqueTransportPort, 4143);
});

t.test('an EW IP on an undeclared port, and unknown IPs: a bare endpoint', async (t) => {
  for (const path of ['198.18.0.2:9999', '192.168.7.7:80']) {
    const p = getProfile(s, path);
    t.equal(p.endpoint?.key, path, path);
    t.equal(p.endpoint?.tlsIdentity, undefined);
    t.equal(p.endpoint?.protocolHint, undefined);
    t.same(p.endpoint?.metricLabels, {});
    t.equal(p.opaqueProtocol, false);
  }
  t.equal(getProfile(s, '192.168.7.7:5432').opaqueProtocol, true, 'default opaque ports apply to unknown addresses');
  t.equal(getProfile(s, '[fd00::7]:80').endpoint?.key, '[fd00::7]:80');
});

t.test('a pod IP: the pod endpoint with its DNS identity and namespace label', async (t) => {
  const p = getProfile(s, '10.42.0.5:80');
  t.equal(p.endpoint?.tlsIdentity?.name, 'default.default.serviceaccount.identity.linkerd.cluster.local');
  t.match(p.endpoint?.metricLabels, { pod: 'web-1', namespace: 'default', serviceaccount: 'default' });
  t.notOk(p.endpoint && 'zone_locality' in p.endpoint.metricLabels, 'zone_locality is a Get label');
});

t.test('refusals', async (t) => {
  t.match(s.destinationProfile('nope.default.svc.cluster.local:80'), { kind: 'refused', code: 'NOT_FOUND' });
  t.match(s.destinationProfile('example.com:80'), { kind: 'refused', code: 'INVALID_ARGUMENT' });
  t.match(s.destinationProfile('10.0.0.1:99999'), { kind: 'refused', code: 'INVALID_ARGUMENT' });
});

// buildSnapshot as a whole: workloads, settings, address claims and assignment, headless lookups, immutability.
import t from 'tap';
import { parseManifests } from '../../../../src/devmesh/manifests/load.js';
import { buildCluster } from '../../../../src/devmesh/model/cluster.js';
import { DEFAULT_MESH_SETTINGS, resolveSettings } from '../../../../src/devmesh/model/settings.js';
import { buildSnapshot, loadSnapshot } from '../../../../src/devmesh/model/snapshot.js';
import { ewYaml, getEndpoints, getOutbound, getProfile, snapshotOf, snapshotWithProblems } from './wire-check.js';

const pod = (name: string, ip: string | undefined, inject = true): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { app: web }
  annotations: { ${inject ? 'linkerd.io/inject: enabled, ' : ''}${ip === undefined ? '' : `devmesh.l5d.io/ips: "${ip}"`} }
spec: { serviceAccountName: sa, containers: [ { name: c, ports: [ { name: http, containerPort: 80 }, { containerPort: 53, protocol: UDP } ] } ] }
---
`;

t.test('workloads: EWs and meshed pods (not plain ones), with identities to issue', async (t) => {
  const s = snapshotOf(pod('meshed', '10.42.0.2') + pod('plain', '10.42.0.3', false) + ewYaml({ name: 'vm', ip: '198.18.0.2' }));
  t.same(s.workloads, [
    {
      kind: 'pod',
      namespace: 'default',
      name: 'meshed',
      ips: ['10.42.0.2'],
      labels: { app: 'web', 'linkerd.io/control-plane-ns': 'linkerd', 'linkerd.io/workload-ns': 'default' },
      identity: 'sa.default.serviceaccount.identity.linkerd.cluster.local',
      serverName: 'sa.default.serviceaccount.identity.linkerd.cluster.local',
      serviceAccount: 'sa',
      ports: [{ name: 'http', port: 80 }],
    },
    {
      kind: 'external-workload',
      namespace: 'default',
      name: 'vm',
      ips: ['198.18.0.2'],
      labels: { app: 'web' },
      identity: 'spiffe://root.linkerd.cluster.local/vm',
      serverName: 'vm.cluster.local',
      ports: [{ name: 'http', port: 8080 }],
    },
  ]);
  t.same(s.settings, DEFAULT_MESH_SETTINGS);
});

t.test('settings override the stock defaults, and bad ones are refused', async (t) => {
  const s = snapshotOf(pod('p', '10.42.0.2'), { identityTrustDomain: 'example.org', controlPlaneNamespace: 'mesh', clusterDomain: 'k.local' });
  t.equal(s.workloads[0]?.identity, 'sa.default.serviceaccount.identity.mesh.example.org');
  t.throws(() => buildSnapshot([], { clusterNetworks: ['10.0.0.0/33'] }), /clusterNetworks/);
  t.throws(() => buildSnapshot([], { defaultInboundPolicy: 'allow-all' }), /defaultInboundPolicy/);
  t.throws(() => buildSnapshot([], { defaultOpaquePorts: [0] }), /defaultOpaquePorts/);
  t.throws(() => buildSnapshot([], { clusterDomain: 'bad domain' }), /clusterDomain/);
});

t.test('an address used twice: the later resource is reported and skipped', async (t) => {
  const s = snapshotWithProblems(pod('first', '10.42.0.2') + pod('second', '10.42.0.2') + ewYaml({ name: 'vm', ip: '10.42.0.2' }));
  t.same(s.workloads.map((w) => w.name), ['first']);
  t.match(s.problems, [
    { severity: 'error', file: 'test.yaml', resource: 'Pod default/second', field: 'metadata.annotations["devmesh.l5d.io/ips"]', message: /10\.42\.0\.2 is already used by Pod default\/first/ },
    { severity: 'error', resource: 'ExternalWorkload default/vm', field: 'spec.workloadIPs' },
  ]);
  const shared = snapshotOf(ewYaml({ name: 'a', ip: '198.18.0.2' }) + ewYaml({ name: 'b', ip: '198.18.0.2', ports: '  - port: 9000' }));
  t.equal(shared.workloads.length, 2, 'EWs may share a VM address on different ports');
  t.equal(getProfile(shared, '198.18.0.2:9000').endpoint?.metricLabels.external_workload, 'b');
});

t.test('assigned addresses: pods from the pod pool, Services from the service pool, stable', async (t) => {
  const yaml = `${pod('p', undefined)}apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [ { port: 80 } ] }
`;
  const a = snapshotOf(yaml);
  const b = snapshotOf(`${pod('other', '10.42.77.77')}${yaml}`);
  const ip = a.workloads[0]?.ips[0] ?? '';
  t.match(ip, /^10\.42\./);
  t.equal(b.workloads.find((w) => w.name === 'p')?.ips[0], ip, 'unrelated manifests do not move an assigned address');
  const clusterIp = (text: string): string => buildCluster(parseManifests([{ file: 'x.yaml', text }]), resolveSettings()).services[0]?.clusterIPs[0] ?? '';
  const svcIp = clusterIp(yaml);
  t.match(svcIp, /^10\.43\./);
  t.equal(clusterIp(`${pod('other', '10.42.77.77')}${yaml}`), svcIp);
  t.equal(getProfile(a, `${svcIp}:80`).fullyQualifiedName, 'web.default.svc.cluster.local', 'the assigned ClusterIP answers for the Service');
});

t.test('headless Services: endpoints by hostname; ExternalName and selector-less Services have none', async (t) => {
  const s = snapshotOf(`apiVersion: v1
kind: Service
metadata: { name: db }
spec: { clusterIP: None, selector: { app: web }, ports: [ { port: 8080 } ] }
---
apiVersion: v1
kind: Service
metadata: { name: ext }
spec: { type: ExternalName, ports: [ { port: 80 } ] }
---
apiVersion: v1
kind: Service
metadata: { name: manual }
spec: { clusterIP: 10.43.5.5, ports: [ { port: 80 } ] }
---
${ewYaml({ name: 'vm-0', ip: '198.18.0.2', ports: '  - port: 8080' })}${ewYaml({ name: 'vm-1', ip: '198.18.0.3', ports: '  - port: 8080' })}`);
  t.same(getEndpoints(s, 'db.default.svc.cluster.local:8080').map((e) => e.key), ['198.18.0.2:8080', '198.18.0.3:8080']);
  t.same(getEndpoints(s, 'vm-1.db.default.svc.cluster.local:8080').map((e) => e.key), ['198.18.0.3:8080']);
  t.equal(getProfile(s, 'vm-0.db.default.svc.cluster.local:8080').endpoint?.key, '198.18.0.2:8080');
  t.match(s.destinationProfile('vm-9.db.default.svc.cluster.local:8080'), { kind: 'refused', code: 'NOT_FOUND' });
  t.same(getEndpoints(s, 'ext.default.svc.cluster.local:80'), []);
  t.same(getEndpoints(s, 'manual.default.svc.cluster.local:80'), []);
  t.equal(getOutbound(s, { kind: 'addr', ip: '10.43.5.5', port: 80 }).meta.name, 'manual');
});

t.test('answers are computed once and frozen', async (t) => {
  const s = snapshotOf(ewYaml({ name: 'vm', ip: '198.18.0.2' }));
  const a = s.inboundServer('{"ns":"default","external_workload":"vm"}', 8080);
  t.equal(s.inboundServer('{"ns":"default","external_workload":"vm"}', 8080), a);
  t.ok(Object.isFrozen(a));
  if (a.kind === 'server') t.ok(Object.isFrozen(a.server.protocol));
  t.ok(Object.isFrozen(s.workloads[0]?.labels));
  const { destinationGet } = s;
  t.equal(destinationGet('x.default.svc.cluster.local:80').kind, 'refused', 'methods work detached from the snapshot');
});

t.test('loadSnapshot reports unreadable paths and keeps going', async (t) => {
  const s = loadSnapshot(['/nonexistent/manifests']);
  t.match(s.problems, [{ severity: 'error', file: '/nonexistent/manifests', message: /cannot read/ }]);
  t.same(s.workloads, []);
});

// Destination.Get from manifests: Services select ready pods and EWs, with the identities and hints the proxy decodes.
import t from 'tap';
import { ewYaml, getEndpoints, snapshotOf } from './wire-check.js';

const SVC = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  clusterIP: 10.43.1.1
  selector: { app: web }
  ports:
  - { name: http, port: 80, targetPort: http }
  - { name: admin, port: 9000, targetPort: 9000 }
  - { name: db, port: 3306 }
---
`;

const POD = (name: string, ip: string, extra = ''): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: default
  labels: { app: web }
  annotations:
    linkerd.io/inject: enabled
    devmesh.l5d.io/ips: "${ip}"
${extra}spec:
  serviceAccountName: web
  containers:
  - name: app
    ports:
    - { name: http, containerPort: 8080 }
    - { containerPort: 3306 }
---
`;

t.test('pods and ready EWs selected by one Service, targetPort by name', async (t) => {
  const s = snapshotOf(SVC + POD('web-1', '10.42.0.5') + ewYaml({ name: 'vm', ip: '198.18.0.2' }) + ewYaml({ name: 'vm-down', ip: '198.18.0.3', ready: false }));
  t.same(s.problems, []);
  const eps = getEndpoints(s, 'web.default.svc.cluster.local:80');
  t.same(
    eps.map((e) => e.key),
    ['10.42.0.5:8080', '198.18.0.2:8080'],
    'the EW without a Ready=True condition is not an endpoint',
  );
  const [pod, vm] = eps;
  t.same(pod?.tlsIdentity, {
    kind: 'dns',
    name: 'web.default.serviceaccount.identity.linkerd.cluster.local',
    serverName: 'web.default.serviceaccount.identity.linkerd.cluster.local',
  });
  t.equal(pod?.protocolHint, 'h2', 'meshed pods are hinted h2 (H2 upgrade on)');
  t.equal(pod?.opaqueTransportPort, undefined);
  t.equal(pod?.weight, 10000);
  t.match(pod?.metricLabels, { service: 'web', namespace: 'default', pod: 'web-1', pod_template_hash: undefined, serviceaccount: 'web', control_plane_ns: 'linkerd', zone_locality: 'unknown' });
  t.equal(pod?.http2?.keepAlive?.intervalMs, 10_000);
  t.same(vm?.tlsIdentity, { kind: 'uri', name: 'spiffe://root.linkerd.cluster.local/vm', serverName: 'vm.cluster.local' });
  t.equal(vm?.protocolHint, 'h2');
  t.same(vm?.metricLabels, { service: 'web', namespace: 'default', external_workload: 'vm', zone: '', zone_locality: 'unknown' });
});

t.test('a numbered targetPort reaches every pod, but only EWs declaring it', async (t) => {
  const s = snapshotOf(SVC + POD('web-1', '10.42.0.5') + ewYaml({ name: 'vm', ip: '198.18.0.2' }) + ewYaml({ name: 'vm9000', ip: '198.18.0.4', ports: '  - port: 9000' }));
  t.same(
    getEndpoints(s, 'web.default.svc.cluster.local:9000').map((e) => e.key),
    ['10.42.0.5:9000', '198.18.0.4:9000'],
  );
  t.same(
    getEndpoints(s, 'web.default.svc.cluster.local:80').map((e) => e.key),
    ['10.42.0.5:8080', '198.18.0.2:8080'],
    'vm9000 has no port named http',
  );
});

t.test('a pod without the named targetPort is not an endpoint for it', async (t) => {
  const s = snapshotOf(`${SVC}apiVersion: v1
kind: Pod
metadata: { name: other, labels: { app: web }, annotations: { devmesh.l5d.io/ips: "10.42.0.9" } }
spec: { containers: [ { name: c } ] }
`);
  t.same(getEndpoints(s, 'web.default.svc.cluster.local:80'), []);
  t.same(getEndpoints(s, 'web.default.svc.cluster.local:9000').map((e) => e.key), ['10.42.0.9:9000']);
});

t.test('opaque ports: default list, annotation, Server; EW opaque transport uses its linkerd-proxy port', async (t) => {
  const ewPorts = '  - port: 3306\n  - port: 8080\n    name: http\n  - port: 4180\n    name: linkerd-proxy';
  const server = `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: vm-http, namespace: default }
spec:
  externalWorkloadSelector: { matchLabels: { app: web } }
  port: http
  proxyProtocol: opaque
---
`;
  const s = snapshotOf(SVC + POD('web-1', '10.42.0.5') + ewYaml({ name: 'vm', ip: '198.18.0.2', ports: ewPorts }) + server);
  const db = getEndpoints(s, 'web.default.svc.cluster.local:3306');
  t.same(db.map((e) => [e.key, e.protocolHint, e.opaqueTransportPort]), [
    ['10.42.0.5:3306', 'opaque', 4143],
    ['198.18.0.2:3306', 'opaque', 4180],
  ]);
  const http = getEndpoints(s, 'web.default.svc.cluster.local:80');
  t.same(http.map((e) => [e.key, e.protocolHint, e.opaqueTransportPort]), [
    ['10.42.0.5:8080', 'h2', undefined],
    ['198.18.0.2:8080', 'opaque', 4180],
  ], 'a Server with proxyProtocol opaque makes the EW port opaque');

  const annotated = snapshotOf(SVC + POD('web-1', '10.42.0.5', '    config.linkerd.io/opaque-ports: "http"\n'));
  t.same(getEndpoints(annotated, 'web.default.svc.cluster.local:80').map((e) => [e.protocolHint, e.opaqueTransportPort]), [['opaque', 4143]]);
  t.same(getEndpoints(annotated, 'web.default.svc.cluster.local:3306').map((e) => e.protocolHint), ['h2'], 'the annotation replaces the default list');
});

t.test('unmeshed pods are plain endpoints; a Service with no ready endpoints answers an empty set', async (t) => {
  const s = snapshotOf(`${SVC}apiVersion: v1
kind: Pod
metadata: { name: plain, labels: { app: web }, annotations: { devmesh.l5d.io/ips: "10.42.0.7" } }
spec: { containers: [ { name: c, ports: [ { name: http, containerPort: 8080 } ] } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: starting, labels: { app: web }, annotations: { devmesh.l5d.io/ips: "10.42.0.8" } }
spec: { containers: [ { name: c, ports: [ { name: http, containerPort: 8080 } ] } ] }
status: { conditions: [ { type: Ready, status: "False" } ] }
---
apiVersion: v1
kind: Service
metadata: { name: empty }
spec: { selector: { app: nothing }, ports: [ { port: 80 } ] }
`);
  const eps = getEndpoints(s, 'web.default.svc.cluster.local:80');
  t.same(eps.map((e) => e.key), ['10.42.0.7:8080'], 'a pod whose Ready condition is False is not an endpoint');
  const [plain] = eps;
  t.equal(plain?.tlsIdentity, undefined);
  t.equal(plain?.protocolHint, undefined);
  t.notOk(plain && 'control_plane_ns' in plain.metricLabels);
  t.same(s.destinationGet('empty.default.svc.cluster.local:80'), { kind: 'endpoints', setLabels: { namespace: 'default', service: 'empty' }, endpoints: [] });
});

t.test('refusals: unknown Service, IP paths, names outside the cluster domain', async (t) => {
  const s = snapshotOf(SVC);
  t.match(s.destinationGet('nope.default.svc.cluster.local:80'), { kind: 'refused', code: 'NOT_FOUND' });
  t.match(s.destinationGet('10.43.1.1:80'), { kind: 'refused', code: 'INVALID_ARGUMENT', message: /IP queries/ });
  t.match(s.destinationGet('[fd00::1]:80'), { kind: 'refused', code: 'INVALID_ARGUMENT' });
  t.match(s.destinationGet('web.default.svc.example.org:80'), { kind: 'refused', code: 'INVALID_ARGUMENT' });
  t.match(s.destinationGet('web.default.svc.cluster.local:0'), { kind: 'refused', code: 'INVALID_ARGUMENT' });
  t.equal(getEndpoints(s, 'web.default.svc.cluster.local').length, 0, 'no port means 80');
});

t.test('Deployments expand into replicas with stable names, owner labels and assigned IPs', async (t) => {
  const yaml = `apiVersion: apps/v1
kind: Deployment
metadata: { name: api, annotations: { devmesh.l5d.io/ips: "10.42.9.1" } }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api }, annotations: { linkerd.io/inject: enabled } }
    spec: { containers: [ { name: c, ports: [ { containerPort: 80 } ] } ] }
---
apiVersion: v1
kind: Service
metadata: { name: api }
spec: { selector: { app: api }, ports: [ { port: 80 } ] }
`;
  const a = getEndpoints(snapshotOf(yaml), 'api.default.svc.cluster.local:80');
  const b = getEndpoints(snapshotOf(yaml.replace('containerPort: 80 }', 'containerPort: 80, name: web }')), 'api.default.svc.cluster.local:80');
  t.equal(a.length, 2);
  t.equal(a[0]?.key, '10.42.9.1:80', 'the annotated replica keeps its address');
  t.match(a[1]?.key, /^10\.42\.\d+\.\d+:80$/, 'the other is assigned from the pod pool');
  t.same(a.map((e) => e.key), b.map((e) => e.key), 'addresses do not move when the template changes');
  t.same(a.map((e) => e.metricLabels.pod), b.map((e) => e.metricLabels.pod), 'nor do pod names');
  t.match(a[0]?.metricLabels, { deployment: 'api', pod: /^api-[b-z2-9]+-[b-z2-9]{5}$/, pod_template_hash: /^[b-z2-9]+$/ });
});

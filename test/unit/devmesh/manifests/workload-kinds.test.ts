// Validation of ExternalWorkload, Service, Pod and Deployment: what is read, and bad fields reported by file, resource and field.
import t from 'tap';
import { parseManifests } from '../../../../src/devmesh/manifests/load.js';
import type { ManifestResource } from '../../../../src/devmesh/manifests/types.js';

function parse(text: string): { resources: readonly ManifestResource[]; problems: readonly { severity: string; file: string; resource?: string; field?: string; message: string }[] } {
  return parseManifests([{ file: 'w.yaml', text }]);
}

const EW_ALPHA = `apiVersion: workload.linkerd.io/v1alpha1
kind: ExternalWorkload
metadata: { name: vm, namespace: env }
spec:
  meshTls: { identity: "spiffe://td/vm", serverName: vm.example.org }
  workloadIPs: [ { ip: 198.18.0.2 } ]
  ports: [ { port: 80, name: http }, { port: 53, protocol: UDP } ]
status:
  conditions: [ { type: Ready, status: "True" } ]
`;

t.test('ExternalWorkload: v1alpha1 meshTls and v1beta1 meshTLS, IPs, ports, Ready', async (t) => {
  const alpha = parse(EW_ALPHA);
  t.same(alpha.problems, []);
  t.match(alpha.resources[0], {
    kind: 'ExternalWorkload',
    meta: { name: 'vm', namespace: 'env' },
    identity: 'spiffe://td/vm',
    serverName: 'vm.example.org',
    ips: ['198.18.0.2'],
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }],
    ready: true,
  });
  const beta = parse(
    EW_ALPHA.replace('v1alpha1', 'v1beta1')
      .replace('meshTls', 'meshTLS')
      .replace('[ { ip: 198.18.0.2 } ]', '[ { ip: 198.18.0.2 }, { ip: "fd00::2" } ]')
      .replace('status: "True"', 'status: "False"'),
  );
  t.same(beta.problems, []);
  t.match(beta.resources[0], { ips: ['198.18.0.2', 'fd00::2'], ready: false });
});

t.test('ExternalWorkload errors name the field; the resource is dropped', async (t) => {
  const cases: [string, string, RegExp][] = [
    [EW_ALPHA.replace('meshTls', 'meshTLS'), 'spec.meshTLS', /spelled meshTls in workload.linkerd.io\/v1alpha1/],
    [EW_ALPHA.replace('identity: "spiffe://td/vm", ', ''), 'spec.meshTls.identity', /is required/],
    [EW_ALPHA.replace('spiffe://td/vm', 'just-a-name'), 'spec.meshTls.identity', /not a URI/],
    [EW_ALPHA.replace('vm.example.org', 'not a name'), 'spec.meshTls.serverName', /not a DNS name/],
    [EW_ALPHA.replace('198.18.0.2', '198.18.0.300'), 'spec.workloadIPs[0].ip', /not an IP address/],
    [EW_ALPHA.replace('[ { ip: 198.18.0.2 } ]', '[ { ip: 198.18.0.2 }, { ip: "fd00::2" } ]'), 'spec.workloadIPs', /at most 1 address/],
    [EW_ALPHA.replace('port: 80, name: http', 'port: 0, name: http'), 'spec.ports[0].port', /out of range/],
    [EW_ALPHA.replace('port: 53, protocol: UDP', 'port: 81, name: http'), 'spec.ports[1].name', /declared twice/],
    [EW_ALPHA.replace('status: "True"', 'status: "Yes"'), 'status.conditions[0].status', /must be one of/],
  ];
  for (const [text, field, message] of cases) {
    const r = parse(text);
    t.same(r.resources, [], field);
    t.match(r.problems, [{ severity: 'error', file: 'w.yaml', resource: 'ExternalWorkload env/vm', field, message }], field);
  }
  const twoV4 = parse(EW_ALPHA.replace('v1alpha1', 'v1beta1').replace('meshTls', 'meshTLS').replace('[ { ip: 198.18.0.2 } ]', '[ { ip: 198.18.0.2 }, { ip: 198.18.0.3 } ]'));
  t.match(twoV4.problems, [{ field: 'spec.workloadIPs[1].ip', message: /one IPv4 and one IPv6/ }]);
});

const SVC = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: env, annotations: { config.linkerd.io/opaque-ports: "db,8000-8002" } }
spec:
  clusterIP: 10.43.0.10
  selector: { app: web }
  ports:
  - { name: http, port: 80, targetPort: http, appProtocol: http }
  - { name: db, port: 5432 }
`;

t.test('Service: clusterIP, selector, ports with targetPort by name or defaulted', async (t) => {
  const r = parse(SVC);
  t.same(r.problems, []);
  t.match(r.resources[0], {
    kind: 'Service',
    type: 'ClusterIP',
    clusterIP: '10.43.0.10',
    ipFamilies: [4],
    selector: { app: 'web' },
    ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' }, { name: 'db', port: 5432, targetPort: 5432 }],
  });
  t.match(parse(SVC.replace('clusterIP: 10.43.0.10', 'clusterIP: None')).resources[0], { clusterIP: 'None', ipFamilies: undefined });
  t.match(parse(SVC.replace('  clusterIP: 10.43.0.10\n', '')).resources[0], { clusterIP: undefined });
  t.match(parse(SVC.replace('selector: { app: web }', 'selector: {}')).resources[0], { selector: undefined });
});

t.test('Service errors', async (t) => {
  const cases: [string, string, RegExp][] = [
    [SVC.replace('targetPort: http', 'targetPort: "8080"'), 'spec.ports[0].targetPort', /quoted number/],
    [SVC.replace('targetPort: http', 'targetPort: 70000'), 'spec.ports[0].targetPort', /out of range/],
    [SVC.replace('{ name: db, port: 5432 }', '{ port: 5432 }'), 'spec.ports[1].name', /required when a Service has more than one port/],
    [SVC.replace('name: db,', 'name: http,'), 'spec.ports[1].name', /used by another port/],
    [SVC.replace('10.43.0.10', '10.43.0'), 'spec.clusterIP', /not an IP address or None/],
    [SVC.replace('selector: { app: web }', 'selector: { app: 1 }'), 'spec.selector.app', /must be a string/],
    [SVC.replace('name: web,', 'name: Web,'), 'metadata.name', /DNS label/],
  ];
  for (const [text, field, message] of cases) {
    const r = parse(text);
    t.same(r.resources, [], field);
    t.match(r.problems, [{ severity: 'error', field, message }], field);
  }
  const warned = parse(SVC.replace('"db,8000-8002"', '"db,cache"'));
  t.equal(warned.resources.length, 1, 'a bad Linkerd annotation is a warning; the Service is kept');
  t.match(warned.problems, [{ severity: 'warning', field: 'metadata.annotations["config.linkerd.io/opaque-ports"]', message: /"cache" is not a port/ }]);
});

const POD = `apiVersion: v1
kind: Pod
metadata: { name: p, annotations: { devmesh.l5d.io/ips: "198.18.1.2, fd00::1:2" } }
spec:
  serviceAccountName: api
  hostname: p0
  subdomain: web
  containers:
  - name: app
    ports: [ { name: http, containerPort: 8080 } ]
    livenessProbe: { httpGet: { port: http, path: "/live?full=1" } }
    readinessProbe: { httpGet: { port: 9000 } }
  initContainers:
  - name: init
    ports: [ { containerPort: 7000 } ]
`;

t.test('Pod: IPs from devmesh.l5d.io/ips, service account, container ports, HTTP probes', async (t) => {
  const r = parse(POD);
  t.same(r.problems, []);
  t.match(r.resources[0], {
    kind: 'Pod',
    meta: { namespace: 'default' },
    ips: ['198.18.1.2', 'fd00::1:2'],
    ready: true,
    spec: {
      serviceAccount: 'api',
      hostname: 'p0',
      subdomain: 'web',
      ports: [{ name: 'http', port: 8080 }, { port: 7000 }],
      probes: [{ port: 8080, path: '/live' }, { port: 9000, path: '/' }],
    },
  });
  t.match(parse(POD.replace('  serviceAccountName: api\n', '')).resources[0], { spec: { serviceAccount: 'default' } });
});

t.test('Pod errors', async (t) => {
  const cases: [string, string, RegExp][] = [
    [POD.replace('198.18.1.2, fd00::1:2', '198.18.1.2, nope'), 'metadata.annotations["devmesh.l5d.io/ips"]', /"nope" is not an IP/],
    [POD.replace('fd00::1:2', '198.18.1.3'), 'metadata.annotations["devmesh.l5d.io/ips"]', /one IPv4 and one IPv6/],
    [POD.replace('containerPort: 8080', 'containerPort: http'), 'spec.containers[0].ports[0].containerPort', /must be an integer/],
    [POD.replace(/ {2}containers:[\s\S]*?initContainers:/, '  initContainers:'), 'spec.containers', /is required/],
  ];
  for (const [text, field, message] of cases) {
    const r = parse(text);
    t.same(r.resources, [], field);
    t.match(r.problems, [{ severity: 'error', resource: 'Pod default/p', field, message }], field);
  }
  const probe = parse(POD.replace('port: http, path', 'port: metrics, path'));
  t.match(probe.problems, [{ severity: 'warning', field: 'spec.containers[0].livenessProbe.httpGet.port' }]);
});

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata: { name: api, annotations: { devmesh.l5d.io/ips: "10.42.0.5,10.42.0.6" } }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: back }, annotations: { linkerd.io/inject: enabled } }
    spec: { containers: [ { name: c } ] }
`;

t.test('Deployment: replicas, selector matching the template, per-replica IPs', async (t) => {
  const r = parse(DEPLOY);
  t.same(r.problems, []);
  t.match(r.resources[0], { kind: 'Deployment', replicas: 2, ips: ['10.42.0.5', '10.42.0.6'], template: { labels: { app: 'api', tier: 'back' }, annotations: { 'linkerd.io/inject': 'enabled' } } });
  const mismatch = parse(DEPLOY.replace('matchLabels: { app: api }', 'matchLabels: { app: web }'));
  t.match(mismatch.problems, [{ severity: 'error', resource: 'Deployment default/api', field: 'spec.template.metadata.labels', message: /do not match spec.selector/ }]);
  t.match(parse(DEPLOY.replace('replicas: 2', 'replicas: 1')).problems, [{ severity: 'warning', message: /2 addresses for 1 replica/ }]);
  t.match(parse(DEPLOY.replace('replicas: 2', 'replicas: -1')).problems, [{ severity: 'error', field: 'spec.replicas' }]);
  t.match(parse(DEPLOY.replace('inject: enabled', 'inject: yes-please')).problems, [{ severity: 'warning', field: 'spec.template.metadata.annotations["linkerd.io/inject"]' }]);
});

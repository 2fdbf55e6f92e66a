// The loopback layout's copy of the walkthrough manifests: addresses into 127.18/16, the app port 80 to 8080, nothing else.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { defaultExamplesDir } from '../../../src/demo/cli.js';
import { rewriteManifestForLoopback, writeLoopbackManifests } from '../../../src/demo/loopback-manifests.js';
import { loadSnapshot } from '../../../src/devmesh/model/index.js';

const docsOf = (text: string): Record<string, unknown>[] => parseAllDocuments(text as string & {}).map((d) => d.toJS() as Record<string, unknown>);

t.test('the walkthrough files: IPs and workload ports move, Service ports, names and comments stay', async (t) => {
  const dir = defaultExamplesDir();
  const legacy = rewriteManifestForLoopback(readFileSync(path.join(dir, '10-legacy-app.yaml'), 'utf8'), '10-legacy-app.yaml');
  const [svc, svcCluster, deploy] = docsOf(legacy.text);
  t.match(svc, { kind: 'Service', spec: { clusterIP: '10.43.0.10', ports: [{ port: 80, name: 'one', targetPort: 8080 }] } }, 'Service port 80 kept, absent targetPort becomes 8080');
  t.match(svcCluster, { spec: { ports: [{ port: 80, targetPort: 8080 }] } });
  t.match(deploy, {
    metadata: { annotations: { 'devmesh.l5d.io/ips': '127.18.1.2' } },
    spec: { template: { spec: { containers: [{ ports: [{ name: 'http', containerPort: 8080 }] }] } } },
  });
  t.match(legacy.text, /# The walkthrough names this port "http-port"/, 'comments are kept');
  t.match(legacy.text, /^---$/m, 'documents stay separated');
  t.same(
    legacy.changes.map((c) => `${c.resource} ${c.field}: ${c.from} → ${c.to}`),
    [
      'Service mixed-env/legacy-app spec.ports[0].targetPort: (absent: the port, 80) → 8080',
      'Service mixed-env/legacy-app-cluster spec.ports[0].targetPort: (absent: the port, 80) → 8080',
      'Deployment mixed-env/legacy-app metadata.annotations["devmesh.l5d.io/ips"]: 198.18.1.2 → 127.18.1.2',
      'Deployment mixed-env/legacy-app spec.template.spec.containers[0].ports[0].containerPort: 80 → 8080',
    ],
  );

  const ew = rewriteManifestForLoopback(readFileSync(path.join(dir, '20-external-workload.yaml'), 'utf8'), '20-external-workload.yaml');
  t.match(docsOf(ew.text)[0], { spec: { workloadIPs: [{ ip: '127.18.0.2' }], ports: [{ port: 8080, name: 'http' }], meshTls: { identity: 'spiffe://root.linkerd.cluster.local/external-workload' } } });
  const client = rewriteManifestForLoopback(readFileSync(path.join(dir, '30-client.yaml'), 'utf8'), '30-client.yaml');
  t.match(docsOf(client.text)[1], { kind: 'Pod', metadata: { annotations: { 'devmesh.l5d.io/ips': '127.18.2.2', 'linkerd.io/inject': 'enabled' } } });

  const deny = readFileSync(path.join(dir, '40-server-deny.yaml'), 'utf8');
  const denyOut = rewriteManifestForLoopback(deny, '40-server-deny.yaml');
  t.equal(denyOut.text, deny, 'a Server selecting a named port is left byte for byte');
  t.same(denyOut.changes, []);
});

t.test('numbers and names: numeric targetPort and Server port move, named ones and other ports stay', async (t) => {
  const text = `apiVersion: v1
kind: Service
metadata: { name: s, namespace: n }
spec:
  ports:
  - { port: 80, targetPort: 80 }
  - { port: 80, targetPort: http }
  - { port: 9000 }
  - { port: 81, targetPort: 80 }
---
apiVersion: policy.linkerd.io/v1beta2
kind: Server
metadata: { name: srv, namespace: n }
spec:
  podSelector: { matchLabels: { app: a } }
  port: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: n
  annotations: { devmesh.l5d.io/ips: "198.18.1.7, 10.42.0.9" }
spec:
  containers:
  - name: c
    ports: [{ containerPort: 80 }, { containerPort: 9090 }]
`;
  const r = rewriteManifestForLoopback(text, 'x.yaml');
  const [svc, server, pod] = docsOf(r.text);
  t.match(svc, { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 80, targetPort: 'http' }, { port: 9000 }, { port: 81, targetPort: 8080 }] } });
  t.notOk(((svc?.spec as { ports: Record<string, unknown>[] }).ports[2] ?? {}).targetPort, 'an absent targetPort of another port stays absent');
  t.match(server, { spec: { port: 8080 } });
  t.match(pod, { metadata: { annotations: { 'devmesh.l5d.io/ips': '127.18.1.7,10.42.0.9' } }, spec: { containers: [{ ports: [{ containerPort: 8080 }, { containerPort: 9090 }] }] } });
  t.equal(r.changes.length, 5);
  t.ok(r.changes.every((c) => c.file === 'x.yaml'));
  t.throws(() => rewriteManifestForLoopback('a: [1,\n', 'bad.yaml'), /bad\.yaml/, 'invalid YAML is reported with its file');
});

t.test('writeLoopbackManifests: every file copied; the dev control plane sees the loopback mesh', async (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'l5dts-lbm-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const changes = writeLoopbackManifests(defaultExamplesDir(), out);
  t.same(readdirSync(out).sort(), readdirSync(defaultExamplesDir()).filter((f) => f.endsWith('.yaml')).sort());
  t.equal(new Set(changes.map((c) => c.file)).size, 3, 'three files changed (legacy-app, the external workload, the client)');
  const s = loadSnapshot(['00-namespace.yaml', '10-legacy-app.yaml', '20-external-workload.yaml', '30-client.yaml'].map((f) => path.join(out, f)));
  t.same(s.problems.filter((p) => p.severity === 'error'), []);
  t.same(s.workloads.map((w) => `${w.name} ${w.ips.join(',')} ${w.ports.map((p) => p.port).join(',')}`).sort(), ['client 127.18.2.2 ', 'external-workload 127.18.0.2 8080', expectPod(s.workloads)]);
  const get = s.destinationGet('legacy-app.mixed-env.svc.cluster.local:80');
  t.equal(get.kind, 'endpoints');
  if (get.kind === 'endpoints') t.equal(get.endpoints.length, 2, 'legacy-app still selects the VM and the pod');
});

function expectPod(ws: readonly { name: string }[]): string {
  const pod = ws.find((w) => w.name.startsWith('legacy-app'));
  return `${pod?.name ?? 'legacy-app'} 127.18.1.2 8080`;
}

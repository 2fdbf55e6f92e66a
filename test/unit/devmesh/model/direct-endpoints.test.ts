// directEndpoints: without traffic redirection every meshed endpoint is reached through its proxy's inbound port.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startDevControlPlane } from '../../../../src/devmesh/index.js';
import { ControlPlaneClient } from '../../../support/control-plane-codec.js';
import { ewYaml, getEndpoints, getProfile, snapshotOf } from './wire-check.js';

const MESH = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  clusterIP: 10.43.1.1
  selector: { app: web }
  ports:
  - { name: http, port: 80, targetPort: 8080 }
  - { name: db, port: 3306, targetPort: 3306 }
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: default
  labels: { app: web }
  annotations:
    linkerd.io/inject: enabled
    devmesh.l5d.io/ips: "127.18.1.2"
spec:
  serviceAccountName: web
  containers:
  - name: app
    ports:
    - { name: http, containerPort: 8080 }
    - { containerPort: 3306 }
---
apiVersion: v1
kind: Pod
metadata:
  name: plain
  namespace: default
  labels: { app: web }
  annotations:
    devmesh.l5d.io/ips: "127.18.1.3"
spec:
  containers:
  - name: app
    ports:
    - { containerPort: 8080 }
---
${ewYaml({ name: 'vm', ip: '127.18.0.2', ports: '  - port: 8080\n    name: http\n  - port: 3306\n    name: db' })}`;

t.test('HTTP endpoints keep identity and the h2 hint and gain opaque transport to 4143', async (t) => {
  const eps = getEndpoints(snapshotOf(MESH, { directEndpoints: true }), 'web.default.svc.cluster.local:80');
  const byKey = new Map(eps.map((e) => [e.key, e]));
  t.same([...byKey.keys()].sort(), ['127.18.0.2:8080', '127.18.1.2:8080', '127.18.1.3:8080']);
  const pod = byKey.get('127.18.1.2:8080');
  t.equal(pod?.protocolHint, 'h2', 'the meshed pod is still hinted h2');
  t.equal(pod?.opaqueTransportPort, 4143, "dialled on its proxy's inbound port");
  t.equal(pod?.tlsIdentity?.name, 'web.default.serviceaccount.identity.linkerd.cluster.local');
  const vm = byKey.get('127.18.0.2:8080');
  t.equal(vm?.protocolHint, 'h2');
  t.equal(vm?.opaqueTransportPort, 4143, 'the ExternalWorkload too');
  t.equal(vm?.tlsIdentity?.name, 'spiffe://root.linkerd.cluster.local/vm');
  const plain = byKey.get('127.18.1.3:8080');
  t.equal(plain?.opaqueTransportPort, undefined, 'a pod without a proxy is dialled as it is');
  t.equal(plain?.tlsIdentity, undefined);
});

t.test('opaque ports keep their opaque hint; GetProfile by IP says the same', async (t) => {
  const s = snapshotOf(MESH, { directEndpoints: true });
  const db = getEndpoints(s, 'web.default.svc.cluster.local:3306');
  for (const e of db.filter((x) => x.tlsIdentity !== undefined)) {
    t.equal(e.protocolHint, 'opaque', `${e.key} opaque`);
    t.equal(e.opaqueTransportPort, 4143, `${e.key} through 4143`);
  }
  const profile = getProfile(s, '127.18.1.2:8080');
  t.equal(profile.endpoint?.opaqueTransportPort, 4143, 'the profile endpoint of a pod IP');
});

t.test('without the option nothing changes: HTTP endpoints are dialled on their own port', async (t) => {
  for (const e of getEndpoints(snapshotOf(MESH), 'web.default.svc.cluster.local:80')) t.equal(e.opaqueTransportPort, undefined, e.key);
});

t.test('startDevControlPlane({ directEndpoints: true }) serves the direct endpoints', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-direct-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'mesh.yaml'), MESH);
  const cp = await startDevControlPlane({ manifests: [dir], stateDir: path.join(dir, 'state'), listen: { destination: '127.0.0.1:0', policy: '127.0.0.1:0', identity: '127.0.0.1:0' }, watch: false, directEndpoints: true });
  t.teardown(() => cp.close());
  t.equal(cp.snapshot().settings.directEndpoints, true, 'the snapshot was built with it');
  const client = new ControlPlaneClient('io.linkerd.proxy.destination.Destination', cp.addrs.destination);
  t.teardown(() => client.close());
  const stream = client.serverStream('Get', { path: 'web.default.svc.cluster.local:80' });
  stream.on('error', () => undefined);
  t.teardown(() => stream.cancel());
  const update = await new Promise<Record<string, unknown>>((resolve) => stream.once('data', resolve));
  const addrs = (update.add as { addrs: { protocolHint?: { opaqueTransport?: { inboundPort?: number } } }[] }).addrs;
  t.same(addrs.map((a) => a.protocolHint?.opaqueTransport?.inboundPort ?? 0).sort(), [0, 4143, 4143], 'two meshed endpoints through 4143, the plain pod as it is');
});

// Every kind of Wire answer is exactly what protobufjs encodes: no unknown fields, and re-encoding the decoded message gives the same bytes.
import t from 'tap';
import { TO_OBJECT_OPTIONS } from '../../../../src/discovery/wire.js';
import type { Wire } from '../../../../src/devmesh/model/types.js';
import { protoType } from '../../../../src/proto/load.js';
import { ewWorkload, ewYaml, podWorkload, snapshotOf, unknownFields } from './wire-check.js';

const s = snapshotOf(`apiVersion: v1
kind: Service
metadata: { name: web }
spec: { clusterIP: 10.43.1.1, selector: { app: web }, ports: [ { name: http, port: 80, targetPort: 8080 }, { name: db, port: 3306, targetPort: 8080 } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: p, labels: { app: web }, annotations: { linkerd.io/inject: enabled, devmesh.l5d.io/ips: "10.42.0.2,fd00::2" } }
spec: { containers: [ { name: c, ports: [ { containerPort: 8080 } ], readinessProbe: { httpGet: { port: 8080, path: /ready } } } ] }
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: grpc }
spec: { externalWorkloadSelector: {}, port: 9090, proxyProtocol: gRPC, accessPolicy: cluster-authenticated }
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: { name: lan }
spec: { networks: [ { cidr: "fd00::/8", except: [ "fd00::1" ] } ] }
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: { name: ids }
spec: { identities: [ "*", "spiffe://td/x" ] }
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: ap }
spec:
  targetRef: { kind: Namespace, name: default }
  requiredAuthenticationRefs: [ { group: policy.linkerd.io, kind: NetworkAuthentication, name: lan }, { group: policy.linkerd.io, kind: MeshTLSAuthentication, name: ids } ]
---
${ewYaml({ name: 'vm', ip: '198.18.0.2', ports: '  - port: 8080\n  - port: 9090\n  - port: 4143\n    name: linkerd-proxy' })}`);

function answers(): [string, string, Wire][] {
  const out: [string, string, Wire][] = [];
  const get = s.destinationGet('web.default.svc.cluster.local:80');
  if (get.kind === 'endpoints') out.push(['Get', 'io.linkerd.proxy.destination.Update', { add: { addrs: get.endpoints, metricLabels: get.setLabels } }]);
  const opaque = s.destinationGet('web.default.svc.cluster.local:3306');
  if (opaque.kind === 'endpoints') for (const e of opaque.endpoints) out.push(['Get opaque', 'io.linkerd.proxy.destination.WeightedAddr', e]);
  for (const path of ['web.default.svc.cluster.local:80', '10.43.1.1:81', '198.18.0.2:8080', '[fd00::2]:8080', '192.168.1.1:5432']) {
    const p = s.destinationProfile(path);
    if (p.kind === 'profile') out.push([`GetProfile ${path}`, 'io.linkerd.proxy.destination.DestinationProfile', p.profile]);
  }
  const inbound: [string, number][] = [[podWorkload('default', 'p'), 8080], [ewWorkload('default', 'vm'), 9090], [ewWorkload('default', 'vm'), 8080]];
  for (const [w, port] of inbound) {
    const a = s.inboundServer(w, port);
    if (a.kind === 'server') out.push([`inbound ${w}:${port}`, 'io.linkerd.proxy.inbound.Server', a.server]);
  }
  const targets = [
    { kind: 'addr', ip: '10.43.1.1', port: 80 },
    { kind: 'addr', ip: '10.43.1.1', port: 3306 },
    { kind: 'addr', ip: '10.43.1.1', port: 81 },
    { kind: 'addr', ip: '2001:db8::1', port: 443 },
  ] as const;
  for (const target of targets) {
    const a = s.outboundPolicy(target, podWorkload('default', 'p'));
    if (a.kind === 'policy') out.push([`outbound ${target.ip}:${target.port}`, 'io.linkerd.proxy.outbound.OutboundPolicy', a.policy]);
  }
  return out;
}

t.test('every answer kind survives fromObject, encode and decode unchanged', async (t) => {
  const all = answers();
  t.equal(all.length, 15, 'every case produced an answer');
  for (const [what, typeName, wire] of all) {
    const type = protoType(typeName);
    t.same(unknownFields(type, wire), [], `${what}: every field is in the schema`);
    const bytes = type.encode(type.fromObject(wire)).finish();
    const decoded = type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS);
    const again = type.encode(type.fromObject(decoded)).finish();
    t.same(Buffer.from(again), Buffer.from(bytes), `${what}: re-encoding the decoded message gives the same bytes`);
  }
});

// The proxy's own clients against the dev control plane built from the walkthrough's YAML: the VM's SVID over the
// Workload API, Destination.Get with both legacy-app backends, an edited manifest updating it, and a Server added
// on disk changing the VM's inbound policy; over plaintext and over TLS.
import t from 'tap';
import type { Test } from 'tap';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { controlPlaneClients } from '../../src/discovery/clients.js';
import type { EndpointsView, InboundPolicyView } from '../../src/discovery/index.js';
import { EW, SERVICE, devControlPlane, proxyConfig, proxyIdentity, until, walkthroughDir, withControlPlaneTls } from './devmesh-helpers.js';

const VM_ID = 'spiffe://root.linkerd.cluster.local/external-workload';

const SERVER = `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata:
  name: vm-http
  namespace: mixed-env
spec:
  externalWorkloadSelector:
    matchLabels:
      workload_name: external-workload
  port: http
  proxyProtocol: HTTP/1
`;

async function scenario(t: Test, tls: boolean): Promise<void> {
  const dir = walkthroughDir(t, ['00-namespace.yaml', '10-legacy-app.yaml', '20-external-workload.yaml', '30-client.yaml']);
  const socket = path.join(dir, 'spire.sock');
  const cp = await devControlPlane(t, { manifests: [dir], plaintext: !tls, workloadApis: [{ socket, externalWorkload: EW }] });
  t.same(cp.tls, { destination: tls, policy: tls, identity: tls });
  t.same(cp.snapshot().problems, [], 'the walkthrough files have no problems');

  const base = proxyConfig(cp, EW);
  t.equal(base.identity.mode.kind, 'spire', 'the VM proxy runs in SPIRE mode');
  const identity = proxyIdentity(t, base);
  const creds = await identity.ready();
  t.equal(creds.serverId, VM_ID, 'the Workload API handed out the VM\'s SVID, and the proxy installed it');

  const config = tls ? withControlPlaneTls(base, cp) : base;
  const clients = controlPlaneClients(config, identity, { plaintextOnLoopback: !tls });
  t.teardown(() => clients.close());

  let view: EndpointsView | undefined;
  const sub = clients.destination.get(SERVICE, (v) => (view = v));
  t.teardown(() => sub.unsubscribe());
  await sub.first();
  await until(() => view?.endpoints.size === 2, 'both legacy-app endpoints');
  const vm = view?.endpoints.get('198.18.0.2:80');
  t.match(vm?.tlsIdentity, { kind: 'uri', name: VM_ID, serverName: 'external-workload.cluster.local' }, 'the VM endpoint: URI identity + server name');
  t.equal(vm?.protocolHint, 'h2');
  t.match(view?.endpoints.get('198.18.1.2:80')?.tlsIdentity, { kind: 'dns', name: 'default.mixed-env.serviceaccount.identity.linkerd.cluster.local' });

  const ewFile = path.join(dir, '20-external-workload.yaml');
  writeFileSync(ewFile, readFileSync(ewFile, 'utf8').replace('ip: 198.18.0.2', 'ip: 198.18.0.3'));
  await until(() => view?.endpoints.has('198.18.0.3:80') === true && !view.endpoints.has('198.18.0.2:80'), 'the moved VM address');
  t.equal(view?.endpoints.size, 2, 'the edit on disk moved the VM endpoint');

  const outbound = await clients.outboundPolicy.watch({ host: '10.43.0.10', port: 80, family: 4 }).first();
  t.equal(outbound.kind, 'policy', 'the legacy-app ClusterIP has an outbound policy the proxy accepts');
  t.equal(JSON.stringify(outbound).includes('legacy-app.mixed-env.svc.cluster.local:80'), true, 'balancing over the Service\'s Destination.Get path');

  let inbound: InboundPolicyView | undefined;
  const port = clients.inboundPolicy.watchPort(80, (v) => (inbound = v));
  t.teardown(() => port.unsubscribe());
  await until(() => inbound?.policy.meta.kind === 'default', 'the default inbound policy');
  t.match(inbound, { kind: 'server', policy: { meta: { kind: 'default', name: 'all-unauthenticated' }, protocol: { kind: 'detect' } } });

  writeFileSync(path.join(dir, '60-vm-server.yaml'), SERVER);
  await until(() => inbound?.policy.meta.name === 'vm-http', 'the Server from the new file');
  t.match(inbound, { kind: 'server', policy: { meta: { group: 'policy.linkerd.io', kind: 'server', name: 'vm-http' }, protocol: { kind: 'http1' } } });
}

t.test('plaintext (loopback, as the proxy dials it)', (t) => scenario(t, false));
t.test('TLS with the dev CA\'s server certificates, the VM\'s SVID as client certificate', (t) => scenario(t, true));

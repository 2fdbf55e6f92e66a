// The shipped examples/mesh-expansion manifests give the walkthrough's answers, step by step.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import t from 'tap';
import { authorizeHttp, type ClientConnection } from '../../../../src/policy/inbound/authorize.js';
import { loadSnapshot } from '../../../../src/devmesh/model/snapshot.js';
import { ewWorkload, getEndpoints, getInbound, getOutbound, podWorkload } from './wire-check.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../examples/mesh-expansion');
const file = (name: string): string => path.join(DIR, name);
const BASE = ['00-namespace.yaml', '10-legacy-app.yaml', '20-external-workload.yaml', '30-client.yaml'].map(file);

const VM_ID = 'spiffe://root.linkerd.cluster.local/external-workload';
const GET = { method: 'GET', path: '/who-am-i', query: undefined, host: 'legacy-app-cluster.mixed-env.svc.cluster.local', headers: () => undefined };
const fromVm: ClientConnection = { clientIp: '198.18.0.2', tls: { kind: 'terminated', clientId: VM_ID } };
const fromClient: ClientConnection = { clientIp: '198.18.2.2', tls: { kind: 'terminated', clientId: 'client.mixed-env.serviceaccount.identity.linkerd.cluster.local' } };

t.test('the whole directory loads without problems', async (t) => {
  const s = loadSnapshot([DIR]);
  t.same(s.problems, []);
  t.same(
    s.workloads.map((w) => [w.kind, w.name.replace(/-[b-z2-9]+-[b-z2-9]{5}$/, '-<hash>'), w.ips, w.identity]),
    [
      ['pod', 'legacy-app-<hash>', ['198.18.1.2'], 'default.mixed-env.serviceaccount.identity.linkerd.cluster.local'],
      ['external-workload', 'external-workload', ['198.18.0.2'], VM_ID],
      ['pod', 'client', ['198.18.2.2'], 'client.mixed-env.serviceaccount.identity.linkerd.cluster.local'],
    ],
  );
  t.equal(s.workloads[1]?.serverName, 'external-workload.cluster.local');
});

t.test('legacy-app is answered by the pod and the VM; legacy-app-cluster by the pod only', async (t) => {
  const s = loadSnapshot(BASE);
  const eps = getEndpoints(s, 'legacy-app.mixed-env.svc.cluster.local:80');
  t.same(eps.map((e) => [e.key, e.tlsIdentity?.kind, e.tlsIdentity?.name, e.tlsIdentity?.serverName, e.protocolHint]), [
    ['198.18.1.2:80', 'dns', 'default.mixed-env.serviceaccount.identity.linkerd.cluster.local', 'default.mixed-env.serviceaccount.identity.linkerd.cluster.local', 'h2'],
    ['198.18.0.2:80', 'uri', VM_ID, 'external-workload.cluster.local', 'h2'],
  ]);
  t.same(getEndpoints(s, 'legacy-app-cluster.mixed-env.svc.cluster.local:80').map((e) => e.key), ['198.18.1.2:80']);
  const policy = getOutbound(s, { kind: 'addr', ip: '10.43.0.10', port: 80 }, podWorkload('mixed-env', 'client'));
  t.same(policy.backends.map((b) => (b.dispatch.kind === 'balancer' ? b.dispatch.path : '')), ['legacy-app.mixed-env.svc.cluster.local:80']);
  const fromVmSide = getOutbound(s, { kind: 'addr', ip: '10.43.0.11', port: 80 }, ewWorkload('mixed-env', 'external-workload'));
  t.same(fromVmSide.backends.map((b) => (b.dispatch.kind === 'balancer' ? b.dispatch.path : '')), ['legacy-app-cluster.mixed-env.svc.cluster.local:80']);
});

t.test('the Server steps: default allow, then deny (40), then the VM SPIFFE ID allowed (50)', async (t) => {
  const podOf = (s: ReturnType<typeof loadSnapshot>): string => podWorkload('mixed-env', s.workloads.find((w) => w.name.startsWith('legacy-app-'))?.name ?? '');

  const before = loadSnapshot(BASE);
  const open = getInbound(before, podOf(before), 80);
  t.same(open.meta, { group: '', kind: 'default', name: 'all-unauthenticated' });
  t.equal(authorizeHttp(open, fromVm, GET).kind, 'allowed');

  const denied = loadSnapshot([...BASE, file('40-server-deny.yaml')]);
  t.same(denied.problems, []);
  const deny = getInbound(denied, podOf(denied), 80);
  t.same(deny.meta, { group: 'policy.linkerd.io', kind: 'server', name: 'in-cluster-endpoint' });
  t.equal(deny.protocol.kind, 'http1');
  t.equal(authorizeHttp(deny, fromVm, GET).kind, 'denied', 'the VM is refused');
  t.equal(authorizeHttp(deny, fromClient, GET).kind, 'denied', 'and so is everyone else');
  t.equal(getInbound(denied, ewWorkload('mixed-env', 'external-workload'), 80).meta.name, 'all-unauthenticated', 'the Server selects pods, not the VM');

  const allowed = loadSnapshot([...BASE, file('40-server-deny.yaml'), file('50-authz-policy.yaml')]);
  t.same(allowed.problems, [], 're-applying the identical Server is not a problem');
  const allow = getInbound(allowed, podOf(allowed), 80);
  t.equal(allow.meta.name, 'in-cluster-endpoint');
  t.equal(authorizeHttp(allow, fromVm, GET).kind, 'allowed', 'the VM SPIFFE ID is admitted');
  t.equal(authorizeHttp(allow, fromClient, GET).kind, 'denied', 'other identities still are not');
});

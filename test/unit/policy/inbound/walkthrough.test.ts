// The external-workload walkthrough (control-plane-api §7.5) as data: what each controller answer admits.
import t from 'tap';
import { authorizeHttp, authorizeTcp, decodeServer, defaultServerPolicy, type ServerPolicy } from '../../../../src/policy/inbound/index.js';
import {
  CLUSTER_NETWORKS,
  conn,
  DNS_ID,
  request,
  TLS_CASES,
  v4,
  VM_SPIFFE_ID,
  wireDetect,
  wireMeshTls,
  wireNet4,
  wireNet6,
  wirePrefixRoute,
  wireResourceMeta,
} from './fixtures.js';

const SERVER_LABELS = { group: 'policy.linkerd.io', kind: 'server', name: 'vm-http' };
const VM_CLIENT = '10.42.0.7';
const OTHER_SPIFFE = 'spiffe://root.linkerd.cluster.local/other-workload';

/** Step 1: a Server selecting the EW port, accessPolicy deny, no AuthorizationPolicy yet. */
const step1 = decodeServer({ protocol: wireDetect([wirePrefixRoute('default')]), labels: SERVER_LABELS });

/**
 * Step 2: an AuthorizationPolicy targets the Server, requiring a MeshTLSAuthentication that names
 * the VM's SPIFFE id; without a NetworkAuthentication the controller uses the cluster networks.
 */
const step2 = decodeServer({
  protocol: wireDetect([wirePrefixRoute('default')]),
  authorizations: [
    {
      networks: [{ net: wireNet4(v4(10, 0, 0, 0), 8) }, { net: wireNet6('18230571291595767808', '0', 8) }],
      authentication: wireMeshTls([VM_SPIFFE_ID]),
      metadata: wireResourceMeta('policy.linkerd.io', 'authorizationpolicy', 'vm-authz'),
    },
  ],
  labels: SERVER_LABELS,
});

function both(policy: ServerPolicy, ip: string, tls: (typeof TLS_CASES)[keyof typeof TLS_CASES]): { tcp: boolean; http: string } {
  return { tcp: authorizeTcp(policy, conn(ip, tls)).allowed, http: authorizeHttp(policy, conn(ip, tls), request({ path: '/api' })).kind };
}

t.test('step 1: default deny (no authorizations) ⇒ denied', async (t) => {
  t.same(step1.meta, SERVER_LABELS);
  for (const [name, tls] of Object.entries(TLS_CASES)) {
    t.same(both(step1, VM_CLIENT, tls), { tcp: false, http: 'denied' }, `${name}: connection closed, request 403`);
  }
  t.same(both(step1, '127.0.0.1', TLS_CASES.plaintext), { tcp: true, http: 'allowed' }, 'the implicit localhost authorization still admits the pod itself');
});

t.test('step 2: MeshTLSAuthentication naming the VM SPIFFE id ⇒ exactly that client', async (t) => {
  const ok = authorizeHttp(step2, conn(VM_CLIENT, TLS_CASES.spiffeId), request({ path: '/api' }));
  t.ok(ok.kind === 'allowed' && ok.authz.meta.name === 'vm-authz', 'the VM is admitted by vm-authz');
  t.same(both(step2, VM_CLIENT, TLS_CASES.spiffeId), { tcp: true, http: 'allowed' });
  t.same(both(step2, 'fd00::42', TLS_CASES.spiffeId), { tcp: true, http: 'allowed' }, 'also over IPv6');
  t.same(both(step2, VM_CLIENT, { kind: 'terminated', clientId: OTHER_SPIFFE }), { tcp: false, http: 'denied' }, 'another SPIFFE id');
  t.same(both(step2, VM_CLIENT, { kind: 'terminated', clientId: `${VM_SPIFFE_ID}/sub` }), { tcp: false, http: 'denied' }, 'a longer SPIFFE id');
  t.same(both(step2, VM_CLIENT, TLS_CASES.dnsId), { tcp: false, http: 'denied' }, 'a DNS identity');
  t.same(both(step2, VM_CLIENT, TLS_CASES.terminatedNoId), { tcp: false, http: 'denied' }, 'mTLS without identity');
  t.same(both(step2, VM_CLIENT, TLS_CASES.passthrough), { tcp: false, http: 'denied' }, 'passthrough TLS');
  t.same(both(step2, VM_CLIENT, TLS_CASES.plaintext), { tcp: false, http: 'denied' }, 'plaintext');
  t.same(both(step2, '192.168.0.9', TLS_CASES.spiffeId), { tcp: false, http: 'denied' }, 'outside the cluster networks');
});

t.test('all-authenticated admits a DNS client and refuses a SPIFFE client', async (t) => {
  const p = defaultServerPolicy('all-authenticated', { detectTimeoutMs: 10_000, clusterNetworks: CLUSTER_NETWORKS });
  t.same(both(p, VM_CLIENT, TLS_CASES.dnsId), { tcp: true, http: 'allowed' });
  t.same(both(p, VM_CLIENT, TLS_CASES.spiffeId), { tcp: false, http: 'denied' }, 'SPIFFE ids match only explicit identities');
  const wire = decodeServer({
    protocol: wireDetect([wirePrefixRoute('default')]),
    authorizations: [{ networks: [{ net: wireNet4(0, 0) }], authentication: wireMeshTls([], [[]]), metadata: { default: 'all-authenticated', kind: 'default' } }],
    labels: { group: '', kind: 'default', name: 'all-authenticated' },
  });
  t.same(both(wire, VM_CLIENT, { kind: 'terminated', clientId: DNS_ID }), { tcp: true, http: 'allowed' }, 'as the controller sends it');
  t.same(both(wire, VM_CLIENT, TLS_CASES.spiffeId), { tcp: false, http: 'denied' });
});

// The environment printed for each proxy: what a pod (Linkerd identity) and a VM (SPIRE) need, shell-safe.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../../src/config/index.js';
import { proxyEnvFor, shellExports } from '../../../src/devmesh/proxy-env.js';
import type { ProxyEnvContext } from '../../../src/devmesh/proxy-env.js';
import { TestPki } from '../../support/pki.js';
import { EW, POD, SETTINGS } from './helpers/fake-snapshot.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const anchor = pki.root().certPem;
const DST = 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local';

const ctx = (socket: string | undefined): ProxyEnvContext => ({
  trustAnchorPem: anchor,
  settings: SETTINGS,
  destination: { addr: '10.0.0.1:8086', name: DST },
  policy: { addr: '10.0.0.1:8090', name: DST },
  identity: { addr: '10.0.0.1:8080', name: 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local' },
  nodeName: 'my-vm',
  tokenFile: (ns, sa) => `/state/tokens/${ns}/${sa}`,
  identityDir: (ns, pod) => `/state/identity/${ns}/${pod}`,
  workloadApiSocket: () => socket,
});

t.test('an ExternalWorkload: SPIRE socket, SPIFFE id, the guide\'s workload and context strings', async (t) => {
  const env = proxyEnvFor(EW, ctx('/tmp/spire/api.sock'));
  t.match(env, {
    LINKERD2_PROXY_IDENTITY_SERVER_ID: 'spiffe://root.linkerd.cluster.local/external-workload',
    LINKERD2_PROXY_IDENTITY_SERVER_NAME: 'external-workload.cluster.local',
    LINKERD2_PROXY_IDENTITY_SPIRE_WORKLOAD_API_ADDRESS: 'unix:///tmp/spire/api.sock',
    LINKERD2_PROXY_POLICY_WORKLOAD: '{"ns":"mixed-env","external_workload":"external-workload"}',
    LINKERD2_PROXY_DESTINATION_CONTEXT: '{"ns":"mixed-env","nodeName":"my-vm","external_workload":"external-workload"}',
    LINKERD2_PROXY_DESTINATION_SVC_NAME: DST,
    LINKERD2_PROXY_INBOUND_PORTS: '80',
  });
  t.equal(env.LINKERD2_PROXY_IDENTITY_TOKEN_FILE, undefined);
  t.equal(env.LINKERD2_PROXY_DESTINATION_PROFILE_NETWORKS, undefined, 'like the guide, no profile networks on a VM');
  const { config } = loadConfig(env);
  t.equal(config.identity.mode.kind, 'spire', 'a valid proxy configuration');
  t.equal(config.controlPlane.destination.tls.kind, 'mtls');
  t.throws(() => proxyEnvFor(EW, ctx(undefined)), /no SPIFFE Workload API serves ExternalWorkload mixed-env\/external-workload; add one \(--workload-api SOCKET=mixed-env\/external-workload\)/);
});

t.test('a Pod: Linkerd identity dir, token and service, profile networks', async (t) => {
  const env = proxyEnvFor(POD, ctx(undefined));
  t.match(env, {
    LINKERD2_PROXY_IDENTITY_SERVER_ID: POD.identity,
    LINKERD2_PROXY_IDENTITY_DIR: '/state/identity/mixed-env/legacy-app-cluster',
    LINKERD2_PROXY_IDENTITY_TOKEN_FILE: '/state/tokens/mixed-env/legacy-app',
    LINKERD2_PROXY_IDENTITY_SVC_ADDR: '10.0.0.1:8080',
    LINKERD2_PROXY_POLICY_WORKLOAD: '{"ns":"mixed-env","pod":"legacy-app-cluster"}',
    LINKERD2_PROXY_DESTINATION_PROFILE_NETWORKS: SETTINGS.clusterNetworks.join(','),
  });
  const { config } = loadConfig(env);
  t.equal(config.identity.mode.kind, 'linkerd');
});

t.test('shell exports survive quotes and newlines', async (t) => {
  const text = shellExports({ A: "it's\nmulti-line", B: '{"ns":"x"}' });
  const out = execFileSync('bash', ['-c', `${text}printf '%s|%s' "$A" "$B"`], { encoding: 'utf8' });
  t.equal(out, `it's\nmulti-line|{"ns":"x"}`);
});

// The assembled dev control plane with a stand-in model: addresses, reload, state dir, pod identity files, close.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startDevControlPlane } from '../../../src/devmesh/index.js';
import { ControlPlaneClient } from '../../support/control-plane-codec.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { TestPki } from '../../support/pki.js';
import { EW, FakeLoader, POD } from './helpers/fake-snapshot.js';

const listen = { destination: '127.0.0.1:0', policy: '127.0.0.1:0', identity: '127.0.0.1:0' };
const SVC = 'legacy-app.mixed-env.svc.cluster.local:80';

t.test('a temporary state dir with tokens and the pods\' identity documents, removed by close()', async (t) => {
  const loader = new FakeLoader({ workloads: [POD, EW] });
  const cp = await startDevControlPlane({ manifests: [], listen, watch: false, loadSnapshot: loader.load });
  t.ok(existsSync(path.join(cp.stateDir, 'ca.crt')), 'a generated trust anchor');
  t.equal(readFileSync(path.join(cp.stateDir, 'ca.crt'), 'utf8'), cp.trustAnchorPem);
  t.ok(existsSync(path.join(cp.stateDir, 'tokens', 'mixed-env', 'legacy-app')), 'the pod\'s ServiceAccount token');
  const env = cp.proxyEnv('mixed-env/legacy-app-cluster');
  t.ok(existsSync(path.join(env.LINKERD2_PROXY_IDENTITY_DIR!, 'key.p8')) && existsSync(path.join(env.LINKERD2_PROXY_IDENTITY_DIR!, 'csr.der')), 'key and CSR for the pod proxy');
  t.match(cp.addrs, { destination: /^127\.0\.0\.1:\d+$/, policy: /^127\.0\.0\.1:\d+$/, identity: /^127\.0\.0\.1:\d+$/ });
  t.same(cp.tls, { destination: false, policy: false, identity: false }, 'loopback: plaintext by default');
  t.equal(env.LINKERD2_PROXY_DESTINATION_SVC_ADDR, cp.addrs.destination);
  t.equal(cp.proxyEnv('mixed-env/legacy-app-cluster', { LINKERD2_PROXY_LOG: 'debug' }).LINKERD2_PROXY_LOG, 'debug', 'overrides');
  t.throws(() => cp.proxyEnv('mixed-env/nope'), /no Pod or ExternalWorkload mixed-env\/nope/);
  t.throws(() => cp.proxyEnv('mixed-env/external-workload'), /no SPIFFE Workload API serves/);
  await cp.close();
  await cp.close();
  t.notOk(existsSync(cp.stateDir), 'removed');
});

t.test('reload() pushes the new answers; a crashing model keeps the old snapshot', async (t) => {
  const loader = new FakeLoader({ gets: { [SVC]: { kind: 'endpoints', setLabels: {}, endpoints: [] } } });
  const logger = new CaptureLogger();
  let crash = false;
  const load = () => {
    if (crash) throw new Error('model bug');
    return loader.load();
  };
  const cp = await startDevControlPlane({ manifests: [], listen, watch: false, loadSnapshot: load, logger });
  t.teardown(() => cp.close());
  const client = new ControlPlaneClient('io.linkerd.proxy.destination.Destination', cp.addrs.destination);
  t.teardown(() => client.close());
  const stream = client.serverStream('Get', { path: SVC });
  const got = new Promise<Record<string, unknown>>((resolve) => stream.once('data', resolve));
  stream.on('error', () => undefined);
  t.teardown(() => stream.cancel());
  await new Promise((r) => setTimeout(r, 50));
  loader.tables = { gets: { [SVC]: { kind: 'endpoints', setLabels: {}, endpoints: [{ addr: { ip: { ipv4: 1 }, port: 80 } }] } } };
  await cp.reload();
  t.equal((await got).update, 'add');

  const before = cp.snapshot();
  crash = true;
  await cp.reload();
  t.equal(cp.snapshot(), before, 'unchanged');
  t.ok(logger.find('could not rebuild the mesh').length > 0);
});

t.test('an explicit trust anchor and state dir; TLS when asked; wildcard listeners advertise a reachable host', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const root = pki.root();
  const state = mkdtempSync(path.join(tmpdir(), 'l5dts-devmesh-state-'));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  const cp = await startDevControlPlane({
    manifests: [],
    listen: { ...listen, policy: '0.0.0.0:0' },
    stateDir: state,
    trustAnchor: { certFile: root.certPath, keyFile: root.keyPath },
    plaintext: false,
    advertiseHost: 'vm.example',
    watch: false,
    loadSnapshot: new FakeLoader({ workloads: [POD] }).load,
  });
  t.teardown(() => cp.close());
  t.equal(cp.trustAnchorPem.replace(/\s+/g, ''), root.certPem.replace(/\s+/g, ''));
  t.notOk(existsSync(path.join(state, 'ca.crt')), 'nothing generated');
  t.same(cp.tls, { destination: true, policy: true, identity: true });
  t.match(cp.proxyEnv('mixed-env/legacy-app-cluster').LINKERD2_PROXY_POLICY_SVC_ADDR, /^vm\.example:\d+$/);
  const plain = new ControlPlaneClient('io.linkerd.proxy.identity.Identity', cp.addrs.identity);
  t.teardown(() => plain.close());
  await t.rejects(plain.unary('Certify', {}), { code: grpc.status.UNAVAILABLE }, 'a plaintext client cannot talk to a TLS server');
  await cp.close();
  t.ok(existsSync(state), 'a given state dir is kept');
});

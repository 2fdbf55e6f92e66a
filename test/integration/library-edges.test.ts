// startProxy as a library: the control-plane channel edge replaces how the identity service is dialled.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startProxy, loadConfig, type ControlPlaneService } from '../../src/index.js';
import { identityInit } from '../../src/identity/identity-init.js';
import { TestPki } from '../support/pki.js';
import { FakeIdentity } from '../support/fake-identity.js';

const NAME = 'web.default.serviceaccount.identity.linkerd.cluster.local';

t.test('an injected channel factory reaches the identity service the config does not name', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const ca = pki.root();
  const fake = await FakeIdentity.start({ pki, issuer: ca, expectedToken: 'tok', lifetimeSec: 600 });
  t.teardown(() => fake.close());
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-lib-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await identityInit({ name: NAME, dir });
  writeFileSync(path.join(dir, 'token'), 'tok');
  const { config } = loadConfig({
    LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '127.0.0.1:0',
    LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:0',
    LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '127.0.0.1:0',
    LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: ca.certPem,
    LINKERD2_PROXY_IDENTITY_LOCAL_NAME: NAME,
    LINKERD2_PROXY_IDENTITY_DIR: dir,
    LINKERD2_PROXY_IDENTITY_TOKEN_FILE: path.join(dir, 'token'),
    // Nothing listens here: only the injected channel can reach the fake.
    LINKERD2_PROXY_IDENTITY_SVC_ADDR: '127.0.0.1:1',
    LINKERD2_PROXY_DESTINATION_SVC_ADDR: 'localhost:8086',
    LINKERD2_PROXY_POLICY_SVC_ADDR: 'localhost:8090',
    LINKERD2_PROXY_POLICY_WORKLOAD: 'default:web',
    LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'all-unauthenticated',
  });
  const asked: ControlPlaneService[] = [];
  const proxy = await startProxy(config, {
    controlPlaneChannel: (service) => {
      asked.push(service);
      return { target: `127.0.0.1:${fake.port}`, credentials: grpc.credentials.createInsecure(), options: {} };
    },
  });
  t.teardown(() => proxy.shutdown());
  await proxy.ready();
  t.same(asked, ['identity'], 'the factory was asked for the identity channel');
  t.equal(fake.requests.length, 1, 'Certify went through the injected channel');
  t.equal(proxy.identity.current()?.serverId, NAME);
});

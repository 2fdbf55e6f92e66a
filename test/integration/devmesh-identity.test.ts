// Linkerd identity mode against the dev control plane: a pod's proxy is certified with its ServiceAccount token
// (over plaintext and TLS) and then uses that certificate for mTLS to Destination; wrong tokens are refused.
import t from 'tap';
import type { Test } from 'tap';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { controlPlaneClients } from '../../src/discovery/clients.js';
import type { DevControlPlane } from '../../src/devmesh/index.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { SERVICE, devControlPlane, proxyConfig, proxyIdentity, walkthroughDir, withControlPlaneTls } from './devmesh-helpers.js';

const FILES = ['00-namespace.yaml', '10-legacy-app.yaml', '20-external-workload.yaml', '30-client.yaml'];

function legacyPod(cp: DevControlPlane): string {
  const pod = cp.snapshot().workloads.find((w) => w.kind === 'pod' && w.labels.app === 'legacy-app');
  if (!pod) throw new Error('no legacy-app pod in the snapshot');
  return `${pod.namespace}/${pod.name}`;
}

async function certified(t: Test, tls: boolean): Promise<void> {
  const dir = walkthroughDir(t, FILES);
  const cp = await devControlPlane(t, { manifests: [dir], stateDir: path.join(dir, 'state'), plaintext: !tls });
  const pod = legacyPod(cp);
  const env = cp.proxyEnv(pod);
  t.equal(env.LINKERD2_PROXY_IDENTITY_TOKEN_FILE, cp.tokenFile('mixed-env', 'default'), 'the pod proxy reads its ServiceAccount token');
  t.equal(env.LINKERD2_PROXY_IDENTITY_SVC_NAME, 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local');
  const base = proxyConfig(cp, pod);
  t.equal(base.identity.mode.kind, 'linkerd');

  const identity = proxyIdentity(t, base, tls ? { tlsName: cp.names.identity } : {});
  const creds = await identity.ready();
  t.equal(creds.serverId, 'default.mixed-env.serviceaccount.identity.linkerd.cluster.local');
  const leaf = new X509Certificate(creds.certChainPem);
  t.equal(leaf.subjectAltName, 'DNS:default.mixed-env.serviceaccount.identity.linkerd.cluster.local');
  t.ok(Date.parse(leaf.validTo) - Date.now() > 23 * 3600_000, 'a day\'s certificate');

  const config = tls ? withControlPlaneTls(base, cp) : base;
  const clients = controlPlaneClients(config, identity, { plaintextOnLoopback: !tls });
  t.teardown(() => clients.close());
  const view = await clients.destination.get(SERVICE).first();
  t.equal(view.endpoints.size, 2, 'and it discovers legacy-app with that identity');
}

t.test('Certify with the ServiceAccount token, plaintext', (t) => certified(t, false));
t.test('Certify with the ServiceAccount token over TLS, then mTLS to Destination', (t) => certified(t, true));

t.test('another ServiceAccount\'s token, or a made-up one, is refused and nothing is installed', async (t) => {
  const dir = walkthroughDir(t, FILES);
  const cp = await devControlPlane(t, { manifests: [dir], plaintext: false });
  const pod = legacyPod(cp);
  for (const [what, token, expected] of [
    ['the client ServiceAccount\'s token', readFileSync(cp.tokenFile('mixed-env', 'client'), 'utf8'), /FAILED_PRECONDITION: requested identity did not match provided token: requested=default\.mixed-env\..*; found=client\.mixed-env\./],
    ['a made-up token', 'not-a-token', /FAILED_PRECONDITION: authentication token could not be authenticated/],
  ] as const) {
    const tokenFile = path.join(dir, `bad-token-${what.length}`);
    writeFileSync(tokenFile, token);
    const logger = new CaptureLogger();
    const identity = proxyIdentity(t, proxyConfig(cp, pod, { LINKERD2_PROXY_IDENTITY_TOKEN_FILE: tokenFile }), { tlsName: cp.names.identity, logger });
    const failure = await logger.waitFor('Failed to obtain identity', 10_000);
    t.match(String(failure.fields.error), expected, what);
    t.equal(identity.current(), undefined, `${what}: no certificate`);
  }
});

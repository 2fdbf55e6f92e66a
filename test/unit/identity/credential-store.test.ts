// The credential store: verify-then-install, keep the old certificate on failure, listeners, metrics.
import t from 'tap';
import { Registry } from 'prom-client';
import { CredentialStore } from '../../../src/identity/credential-store.js';
import { splitDerCertificates } from '../../../src/identity/x509.js';
import { TestPki } from '../../support/pki.js';
import type { Leaf } from '../../support/pki.js';
import { credentialsFromLeaf, staticIdentity } from '../../support/static-identity.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { ManualClock } from './helpers/manual-clock.js';

const ID = 'web.default.serviceaccount.identity.linkerd.cluster.local';
const pki = new TestPki();
t.teardown(() => pki.cleanup());
const root = pki.root();
const issuer = pki.intermediate(root);

function candidate(leaf: Leaf) {
  return { chainDer: splitDerCertificates(leaf.chainDer), keyDer: leaf.keyDer };
}

function newStore() {
  const logger = new CaptureLogger();
  const registry = new Registry();
  const clock = new ManualClock();
  const store = new CredentialStore({ serverId: ID, serverName: ID, trustAnchorsPem: root.certPem, logger, registry, clock });
  return { store, logger, registry, clock };
}

t.test('first install makes it ready; each install bumps the generation and notifies', async (t) => {
  const { store } = newStore();
  t.teardown(() => store.close());
  t.equal(store.current(), undefined);
  const seen: number[] = [];
  store.onUpdate((c) => seen.push(c.generation));
  const a = await store.install(candidate(pki.leaf(issuer, { dns: [ID] })));
  t.ok(a.ok);
  const ready = await store.ready();
  t.equal(ready.generation, 1);
  t.equal(ready.serverId, ID);
  t.equal(ready.trustAnchorsPem, root.certPem);
  const b = await store.install(candidate(pki.leaf(issuer, { dns: [ID] })));
  t.ok(b.ok);
  t.equal(store.current()?.generation, 2);
  t.same(seen, [1, 2]);
  t.equal(await store.ready(), ready, 'ready() keeps the first credentials');
});

t.test('a failed install keeps the previous credentials and logs why', async (t) => {
  const { store, logger } = newStore();
  t.teardown(() => store.close());
  await store.install(candidate(pki.leaf(issuer, { dns: [ID] })));
  const before = store.current();
  let notified = 0;
  store.onUpdate(() => notified++);
  const r = await store.install(candidate(pki.leaf(issuer, { dns: ['someone-else.test'] })));
  t.notOk(r.ok);
  if (!r.ok) t.match(r.reason, `leaf does not name ${ID}`);
  t.equal(store.current(), before);
  t.equal(notified, 0);
  const line = logger.find('Rejected a new identity certificate; keeping the current one')[0];
  t.equal(line?.level, 'warn');
  t.match(String(line?.fields.reason), 'leaf does not name');
});

t.test('installs are serialised: the last one submitted wins', async (t) => {
  const { store } = newStore();
  t.teardown(() => store.close());
  const leaves = [0, 1, 2].map(() => pki.leaf(issuer, { dns: [ID] }));
  const results = await Promise.all(leaves.map((l) => store.install(candidate(l))));
  t.same(results.map((r) => r.ok && r.credentials.generation), [1, 2, 3]);
  t.equal(store.current()?.certChainPem, leaves[2]?.chainPem);
});

t.test('validity is judged by the injected clock', async (t) => {
  const { store, clock } = newStore();
  t.teardown(() => store.close());
  clock.advance(2 * 86400_000);
  const r = await store.install(candidate(pki.leaf(issuer, { dns: [ID] })));
  t.notOk(r.ok);
  if (!r.ok) t.match(r.reason, 'certificate expired at');
});

t.test('metrics after an install and a rejection', async (t) => {
  const { store, registry, clock } = newStore();
  t.teardown(() => store.close());
  const r = await store.install(candidate(pki.leaf(issuer, { dns: [ID] })));
  await store.install(candidate(pki.leaf(pki.root('rogue'), { dns: [ID] })));
  t.ok(r.ok);
  if (!r.ok) return;
  const text = await registry.metrics();
  t.match(text, `control_identity_cert_expiration_timestamp_seconds ${r.credentials.notAfterMs / 1000}\n`);
  t.match(text, `control_identity_cert_refresh_timestamp_seconds ${clock.now() / 1000}\n`);
  t.match(text, 'control_identity_cert_refreshes_total{result="ok"} 1\n');
  t.match(text, 'control_identity_cert_refreshes_total{result="error"} 1\n');
  t.match(text, '# TYPE control_identity_cert_expiration_timestamp_seconds gauge');
  t.match(text, '# TYPE control_identity_cert_refreshes_total counter');
});

t.test('a second store on the same registry reuses the families', async (t) => {
  const registry = new Registry();
  const opts = { serverId: ID, serverName: ID, trustAnchorsPem: root.certPem, logger: new CaptureLogger(), registry };
  const a = new CredentialStore(opts);
  const b = new CredentialStore(opts);
  t.teardown(() => { a.close(); b.close(); });
  await b.install(candidate(pki.leaf(issuer, { dns: [ID] })));
  t.match(await registry.metrics(), 'control_identity_cert_refreshes_total{result="ok"} 1');
});

t.test('giveUp rejects ready(); close() rejects it too and stops installs', async (t) => {
  const a = newStore().store;
  a.giveUp('no way to get a certificate');
  await t.rejects(a.ready(), { code: 'identity_fatal', message: 'no way to get a certificate' });
  a.close();

  const b = newStore().store;
  let closed = 0;
  b.onClose(() => closed++);
  b.close();
  b.close();
  t.equal(closed, 1, 'close hooks run once');
  await t.rejects(b.ready(), { code: 'identity_closed' });
  const r = await b.install(candidate(pki.leaf(issuer, { dns: [ID] })));
  t.notOk(r.ok);
  t.equal(b.current(), undefined);
});

t.test('a throwing listener does not stop the others', async (t) => {
  const { store, logger } = newStore();
  t.teardown(() => store.close());
  let second = 0;
  store.onUpdate(() => { throw new Error('boom'); });
  const off = store.onUpdate(() => second++);
  await store.install(candidate(pki.leaf(issuer, { dns: [ID] })));
  t.equal(second, 1);
  t.equal(logger.find('listener failed').length, 1);
  off();
  await store.install(candidate(pki.leaf(issuer, { dns: [ID] })));
  t.equal(second, 1, 'unsubscribed');
});

t.test('static identity from a TestPki leaf', async (t) => {
  const leaf = pki.leaf(issuer, { dns: [ID] });
  const creds = credentialsFromLeaf(leaf, { trustAnchors: root });
  t.equal(creds.serverId, ID);
  t.equal(creds.serverName, ID);
  t.equal(creds.certChainPem, leaf.chainPem);
  const source = staticIdentity(creds);
  t.equal(source.current(), creds);
  t.equal(await source.ready(), creds);
  source.onUpdate(() => t.fail('never rotates'))();
  source.close();
});

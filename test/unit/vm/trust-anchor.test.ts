// vm init's trust-anchor check: a CA bundle in date passes; leaves, expired or future certs and bad PEM are named.
import t from 'tap';
import { TestPki } from '../../support/pki.js';
import { EXPIRY_WARNING_MS, checkTrustAnchor } from '../../../src/vm/trust-anchor.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const root = pki.root('root.linkerd.cluster.local');

t.test('a root CA in date: ok, only the certificate kept', async (t) => {
  const r = checkTrustAnchor(`# the mesh root\n${root.certPem}${root.keyPem}`, Date.now());
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.anchors.length, 1);
  t.equal(r.anchors[0]?.subject, 'CN=root.linkerd.cluster.local');
  t.equal(r.pem.match(/BEGIN CERTIFICATE/g)?.length, 1);
  t.notMatch(r.pem, /PRIVATE KEY/, 'the key never reaches the env file');
  t.match(r.warnings, [/left out of the env file: PRIVATE KEY/]);
});

t.test('a bundle of two anchors (rotation) keeps both', async (t) => {
  const next = pki.root('root-next.linkerd.cluster.local');
  const r = checkTrustAnchor(root.certPem + next.certPem, Date.now());
  t.ok(r.ok && r.anchors.length === 2 && r.pem.match(/BEGIN CERTIFICATE/g)?.length === 2);
});

t.test('problems are named: a leaf, an expired CA, a CA not valid yet', async (t) => {
  const leaf = pki.leaf(root, { dns: ['web.example'], cn: 'web.example' });
  const expired = pki.leaf(root, { ca: true, cn: 'old-root', notBeforeSec: -86400 * 10, notAfterSec: -86400 });
  const future = pki.leaf(root, { ca: true, cn: 'future-root', notBeforeSec: 86400, notAfterSec: 86400 * 10 });
  const r = checkTrustAnchor(leaf.certPem + expired.certPem + future.certPem, Date.now());
  t.notOk(r.ok);
  if (r.ok) return;
  t.match(r.problems, [/^CN=web\.example is not a CA certificate/, /^CN=old-root expired on \d{4}-/, /^CN=future-root is not valid until \d{4}-/]);
});

t.test('close to expiry: a warning, not a failure', async (t) => {
  const r = checkTrustAnchor(root.certPem, Date.now() + 30 * 86_400_000 - EXPIRY_WARNING_MS / 2);
  t.ok(r.ok);
  t.match(r.ok && r.warnings, [/expires soon/]);
});

t.test('not PEM at all', async (t) => {
  t.match(checkTrustAnchor('hello', Date.now()), { ok: false, problems: [/not a PEM certificate bundle: no PEM certificate found/] });
  t.match(checkTrustAnchor(root.keyPem, Date.now()), { ok: false, problems: [/not a PEM certificate bundle/] });
});

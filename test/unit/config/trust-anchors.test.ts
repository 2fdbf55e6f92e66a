// Trust-anchor bundles: at least one parseable certificate; bad PEM is fatal, bad certificates are skipped.
import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { parseTrustAnchors } from '../../../src/config/trust-anchors.js';
import { TEST_ROOT_PEM } from './fixtures.js';

const junkCert = `-----BEGIN CERTIFICATE-----\n${Buffer.from('not a certificate at all').toString('base64')}\n-----END CERTIFICATE-----\n`;

t.test('a real certificate parses and is re-encoded as PEM', async (t) => {
  const r = parseTrustAnchors(TEST_ROOT_PEM);
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.certs.length, 1);
  t.equal(r.skipped, 0);
  t.equal(new X509Certificate(r.certs[0]!).subject, 'CN=root.linkerd.cluster.local');
});

t.test('several certificates, other block types and surrounding text', async (t) => {
  const bundle = `# roots\n${TEST_ROOT_PEM}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n${TEST_ROOT_PEM}`;
  const r = parseTrustAnchors(bundle);
  t.match(r, { ok: true, skipped: 0 });
  t.equal(r.ok && r.certs.length, 2);
});

t.test('an unparseable certificate is skipped when another is good', async (t) => {
  const r = parseTrustAnchors(junkCert + TEST_ROOT_PEM);
  t.match(r, { ok: true, skipped: 1 });
  t.equal(r.ok && r.certs.length, 1);
});

t.test('fatal bundles', async (t) => {
  t.match(parseTrustAnchors(''), { ok: false, detail: 'no PEM certificate found' });
  t.match(parseTrustAnchors('hello'), { ok: false });
  t.match(parseTrustAnchors(junkCert), { ok: false, detail: 'no parseable certificate in the bundle' });
  t.match(parseTrustAnchors('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), {
    ok: false,
    detail: 'no CERTIFICATE block found',
  });
  t.match(parseTrustAnchors('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n'), {
    ok: false,
    detail: 'a CERTIFICATE block is not valid base64',
  });
  t.match(parseTrustAnchors(TEST_ROOT_PEM.replace('-----END CERTIFICATE-----', '')), { ok: false, detail: 'unterminated PEM block' });
  t.match(parseTrustAnchors(`${TEST_ROOT_PEM}-----BEGIN CERTIFICATE-----\nAAAA\n`), { ok: false, detail: 'unterminated PEM block' });
});

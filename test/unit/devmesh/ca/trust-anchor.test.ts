// Loading the trust anchor from the walkthrough's kind of PEM files, or creating it once in the state dir.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  loadOrCreateTrustAnchor, trustAnchorFromFiles, trustAnchorFromPem,
} from '../../../../src/devmesh/ca/trust-anchor.js';
import { TestPki } from '../../../support/pki.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const now = (): number => Date.now() + 1000;

t.test('reads an openssl-made CA: PKCS#8 and SEC1 (EC PRIVATE KEY) keys', async (t) => {
  const root = pki.root();
  const anchor = await trustAnchorFromFiles(root.certPath, root.keyPath, now());
  t.match(anchor.certPem, /BEGIN CERTIFICATE/);
  t.equal(anchor.key.hash, 'SHA-256');
  const sec1 = execFileSync('openssl', ['ec', '-in', root.keyPath], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  t.match(sec1, /BEGIN EC PRIVATE KEY/);
  const again = await trustAnchorFromPem({ certPem: root.certPem, keyPem: sec1 }, now());
  t.same(again.certDer, anchor.certDer);
});

t.test('refuses a key of another certificate, a non-CA, an RSA key, two certificates, missing files', async (t) => {
  const a = pki.root('a');
  const b = pki.root('b');
  await t.rejects(trustAnchorFromPem({ certPem: a.certPem, keyPem: b.keyPem }, now()), /key does not belong/);
  const leaf = pki.leaf(a, { dns: ['x.example'] });
  await t.rejects(trustAnchorFromPem({ certPem: leaf.certPem, keyPem: leaf.keyPem }, now()), /not a CA/);
  const rsa = pki.root('rsa', { keyType: 'rsa2048' });
  await t.rejects(trustAnchorFromPem({ certPem: rsa.certPem, keyPem: rsa.keyPem }, now()), /rsa.*ECDSA/);
  await t.rejects(trustAnchorFromPem({ certPem: a.certPem + b.certPem, keyPem: a.keyPem }, now()), /exactly one certificate \(found 2\)/);
  await t.rejects(trustAnchorFromPem({ certPem: a.certPem, keyPem: 'nonsense' }, now()), /not an unencrypted PEM private key/);
  await t.rejects(trustAnchorFromFiles(path.join(pki.dir, 'nope.crt'), a.keyPath, now()), /nope\.crt does not exist/);
  await t.rejects(trustAnchorFromPem({ certPem: a.certPem, keyPem: a.keyPem }, now() + 400 * 86_400_000), /expired/);
});

t.test('the state dir gets ca.crt and a 0600 ca.key once; later runs reuse them', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-anchor-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = await loadOrCreateTrustAnchor(path.join(dir, 'state'), now());
  t.ok(first.created);
  t.equal(statSync(path.join(dir, 'state', 'ca.key')).mode & 0o777, 0o600);
  t.equal(readFileSync(path.join(dir, 'state', 'ca.crt'), 'utf8'), first.anchor.certPem);
  const second = await loadOrCreateTrustAnchor(path.join(dir, 'state'), now());
  t.notOk(second.created);
  t.same(second.anchor.certDer, first.anchor.certDer);

  rmSync(path.join(dir, 'state', 'ca.key'));
  await t.rejects(loadOrCreateTrustAnchor(path.join(dir, 'state'), now()), /only one of ca\.crt and ca\.key/);
  writeFileSync(path.join(dir, 'state', 'ca.key'), 'garbage');
  await t.rejects(loadOrCreateTrustAnchor(path.join(dir, 'state'), now()), /not an unencrypted PEM private key/);
});

// DER splitting, PEM conversion, SANs and every way verifyCredentials refuses a certificate.
import t from 'tap';
import {
  derToPem, parseCertificate, pemToDer, pemToDers, splitDerCertificates, subjectAltNames, verifyCredentials,
} from '../../../src/identity/x509.js';
import type { VerifyInput } from '../../../src/identity/x509.js';
import { TestPki } from '../../support/pki.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const root = pki.root('root.test');
const intermediate = pki.intermediate(root, 'intermediate.test');
const intermediate2 = pki.intermediate(intermediate, 'intermediate2.test');
const DNS_ID = 'web.default.serviceaccount.identity.linkerd.cluster.local';
const SPIFFE_ID = 'spiffe://cluster.local/ns/default/sa/web';
const leaf = pki.leaf(intermediate, { dns: [DNS_ID, 'second.example'], uris: [SPIFFE_ID] });

function input(over: Partial<VerifyInput> = {}): VerifyInput {
  return {
    chainDer: splitDerCertificates(leaf.chainDer),
    keyDer: leaf.keyDer,
    serverId: DNS_ID,
    trustAnchorsPem: root.certPem,
    nowMs: Date.now(),
    ...over,
  };
}

async function reason(over: Partial<VerifyInput>): Promise<string> {
  const r = await verifyCredentials(input(over));
  return r.ok ? 'ok' : r.reason;
}

t.test('splits concatenated DER certificates', async (t) => {
  const self = pki.leaf(root, { dns: ['a.test'] });
  t.same(splitDerCertificates(self.chainDer), [self.certDer], 'one certificate');
  const two = splitDerCertificates(leaf.chainDer);
  t.equal(two.length, 2);
  t.ok(two[0]?.equals(leaf.certDer), 'leaf first');
  t.ok(two[1]?.equals(pemToDer(intermediate.certPem)), 'then the intermediate');
  const deep = pki.leaf(intermediate2, { dns: ['b.test'] });
  const three = splitDerCertificates(deep.chainDer);
  t.equal(three.length, 3);
  t.ok(Buffer.concat(three).equals(deep.chainDer), 'the pieces add up to the input');
});

t.test('garbage is an error', async (t) => {
  t.throws(() => splitDerCertificates(Buffer.alloc(0)), { code: 'invalid_certificate', message: /empty/ });
  t.throws(() => splitDerCertificates(Buffer.from('not a certificate')), { code: 'invalid_certificate' });
  t.throws(() => splitDerCertificates(Buffer.concat([leaf.certDer, leaf.certDer.subarray(0, 20)])), {
    message: /certificate 2 in the chain is not valid DER/,
  });
  t.throws(() => splitDerCertificates(Buffer.from([0x02, 0x01, 0x05])), { message: /not a DER SEQUENCE/ }, 'an INTEGER is not a certificate');
});

t.test('DER and PEM round trip', async (t) => {
  const pem = derToPem(leaf.certDer);
  t.match(pem, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
  t.ok(pemToDer(pem).equals(leaf.certDer));
  t.equal(pemToDers(leaf.chainPem).length, 2);
  t.throws(() => pemToDer(leaf.chainPem), { message: /expected one CERTIFICATE PEM block, found 2/ });
  t.same(pemToDers(leaf.keyPem), [], 'only CERTIFICATE blocks by default');
  t.ok(pemToDers(leaf.keyPem, 'PRIVATE KEY')[0]?.equals(leaf.keyDer));
});

t.test('SANs in order, and the validity window', async (t) => {
  t.same(subjectAltNames(leaf.certDer), [
    { kind: 'dns', value: DNS_ID },
    { kind: 'dns', value: 'second.example' },
    { kind: 'uri', value: SPIFFE_ID },
  ]);
  const timed = pki.leaf(root, { dns: ['t.test'], notBeforeSec: -3600, notAfterSec: 7200 });
  const info = parseCertificate(timed.certDer);
  t.ok(Math.abs(info.notBeforeMs - (Date.now() - 3600_000)) < 5000);
  t.ok(Math.abs(info.notAfterMs - (Date.now() + 7200_000)) < 5000);
  t.same(subjectAltNames(pki.leaf(root, { cn: 'no-sans' }).certDer), []);
  t.throws(() => parseCertificate(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])), { code: 'invalid_certificate' });
});

t.test('a good chain verifies for DNS and SPIFFE ids', async (t) => {
  const r = await verifyCredentials(input());
  t.ok(r.ok);
  if (r.ok) {
    t.equal(pemToDers(r.verified.certChainPem).length, 2);
    t.match(r.verified.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  }
  t.equal(await reason({ serverId: SPIFFE_ID }), 'ok');
  const direct = pki.leaf(root, { dns: [DNS_ID] });
  t.equal(await reason({ chainDer: [direct.certDer], keyDer: direct.keyDer }), 'ok', 'leaf issued by the anchor itself');
  const deep = pki.leaf(intermediate2, { dns: [DNS_ID] });
  t.equal(await reason({ chainDer: splitDerCertificates(deep.chainDer), keyDer: deep.keyDer }), 'ok', 'two intermediates');
  t.equal(await reason({ trustAnchorsPem: pki.root('unrelated').certPem + root.certPem }), 'ok', 'any anchor of the bundle');
});

t.test('wrong CA', async (t) => {
  const other = pki.root('other.test');
  t.match(await reason({ trustAnchorsPem: other.certPem }), /^certificate does not chain to the trust anchors/);
  t.match(await reason({ chainDer: [leaf.certDer] }), /^certificate does not chain to the trust anchors/, 'missing intermediate');
  const rogue = pki.leaf(other, { dns: [DNS_ID] });
  t.match(await reason({ chainDer: [rogue.certDer], keyDer: rogue.keyDer }), /^certificate does not chain/);
});

t.test('an end-entity certificate cannot act as an issuer', async (t) => {
  const notCa = pki.leaf(intermediate, { dns: ['not-a-ca.test'] });
  const fakeIssuer = { ...intermediate, certPem: notCa.certPem, keyPem: notCa.keyPem, certPath: notCa.certPath, keyPath: notCa.keyPath, chainPem: notCa.chainPem };
  const forged = pki.leaf(fakeIssuer, { dns: [DNS_ID] });
  t.match(await reason({ chainDer: splitDerCertificates(forged.chainDer), keyDer: forged.keyDer }), /does not chain.*not a CA/);
});

t.test('a CA certificate is not accepted as our leaf', async (t) => {
  const caLeaf = pki.leaf(intermediate, { dns: [DNS_ID], ca: true });
  t.equal(await reason({ chainDer: splitDerCertificates(caLeaf.chainDer), keyDer: caLeaf.keyDer }),
    'leaf is a CA certificate, not an end-entity certificate');
});

t.test('wrong id', async (t) => {
  t.equal(await reason({ serverId: 'db.default.serviceaccount.identity.linkerd.cluster.local' }),
    `leaf does not name db.default.serviceaccount.identity.linkerd.cluster.local; it names ${DNS_ID}, second.example, ${SPIFFE_ID}`);
  t.match(await reason({ serverId: 'spiffe://cluster.local/ns/default/sa/db' }), /^leaf does not name spiffe:\/\/cluster.local\/ns\/default\/sa\/db; it names /);
  t.match(await reason({ serverId: `${DNS_ID}.` }), /does not name/, 'exact equality: no trailing-dot folding');
  t.match(await reason({ serverId: 'spiffe://' + DNS_ID }), /does not name/, 'a DNS SAN does not satisfy a URI id');
});

t.test('expired and not yet valid', async (t) => {
  const expired = pki.leaf(intermediate, { dns: [DNS_ID], notBeforeSec: -7200, notAfterSec: -3600 });
  t.match(await reason({ chainDer: splitDerCertificates(expired.chainDer), keyDer: expired.keyDer }), /^certificate expired at \d{4}-\d\d-\d\dT/);
  t.match(await reason({ nowMs: Date.now() + 2 * 86400_000 }), /^certificate expired at /, 'judged at nowMs');
  const future = pki.leaf(intermediate, { dns: [DNS_ID], notBeforeSec: 3600, notAfterSec: 7200 });
  t.match(await reason({ chainDer: splitDerCertificates(future.chainDer), keyDer: future.keyDer }), /^certificate is not valid before /);
});

t.test('key mismatch and bad keys', async (t) => {
  const other = pki.leaf(intermediate, { dns: [DNS_ID] });
  t.equal(await reason({ keyDer: other.keyDer }), 'private key does not match the certificate');
  t.equal(await reason({ keyDer: Buffer.alloc(0) }), 'private key is empty');
  t.match(await reason({ keyDer: Buffer.from('junk') }), /^private key is not an unencrypted PKCS#8 key/);
});

t.test('unparseable input', async (t) => {
  t.equal(await reason({ chainDer: [] }), 'certificate chain is empty');
  t.match(await reason({ chainDer: [Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])] }), /^certificate could not be parsed/);
  t.match(await reason({ trustAnchorsPem: 'nothing here' }), /^trust anchors could not be parsed/);
});

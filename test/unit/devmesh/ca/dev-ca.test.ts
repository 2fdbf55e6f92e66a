// The dev CA's certificates verify with node:crypto, openssl and the proxy's own verifier, and name what they should.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCsr } from '../../../../src/devmesh/ca/csr.js';
import { DevCa, ISSUER_NAME } from '../../../../src/devmesh/ca/dev-ca.js';
import { generateTrustAnchor } from '../../../../src/devmesh/ca/trust-anchor.js';
import { buildCsr } from '../../../../src/identity/identity-init.js';
import { verifyCredentials } from '../../../../src/identity/verify-credentials.js';
import { derToPem } from '../../../../src/identity/x509.js';

const DST = 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local';
const VM = 'spiffe://root.linkerd.cluster.local/external-workload';
const POD = 'legacy-app.mixed-env.serviceaccount.identity.linkerd.cluster.local';

const now = Date.now();
const { anchor } = await generateTrustAnchor(now);
const ca = await DevCa.create(anchor, now);
const root = new X509Certificate(anchor.certDer);
const issuer = new X509Certificate(ca.issuerDer);

const work = mkdtempSync(path.join(tmpdir(), 'l5dts-devca-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** `openssl verify` of a leaf through the issuer to the anchor; throws with its output on failure. */
function opensslVerify(leafDer: Buffer, purpose: string): string {
  const files = { ca: path.join(work, 'ca.pem'), int: path.join(work, 'int.pem'), leaf: path.join(work, 'leaf.pem') };
  writeFileSync(files.ca, anchor.certPem);
  writeFileSync(files.int, derToPem(ca.issuerDer));
  writeFileSync(files.leaf, derToPem(leafDer));
  return execFileSync('openssl', ['verify', '-x509_strict', '-purpose', purpose, '-CAfile', files.ca, '-untrusted', files.int, files.leaf], { encoding: 'utf8' });
}

t.test('the generated trust anchor is a self-signed P-256 CA; the issuer is a CA under it', async (t) => {
  t.ok(root.ca, 'anchor is a CA');
  t.ok(root.verify(root.publicKey), 'anchor is self-signed');
  t.equal(root.subject, 'CN=root.linkerd.cluster.local');
  t.equal(root.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  t.ok(issuer.ca, 'issuer is a CA');
  t.equal(issuer.subject, `CN=${ISSUER_NAME}`);
  t.ok(issuer.checkIssued(root) && issuer.verify(root.publicKey), 'issuer signed by the anchor');
  t.ok(Date.parse(issuer.validTo) <= Date.parse(root.validTo), 'issuer does not outlive the anchor');
});

t.test('a control-plane server certificate: DNS SAN, chains to the anchor, accepted by the proxy verifier', async (t) => {
  const cert = await ca.serverCertificate(DST, now);
  const leaf = new X509Certificate(cert.chainDer[0]!);
  t.equal(leaf.subjectAltName, `DNS:${DST}`);
  t.notOk(leaf.ca);
  t.ok(leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey));
  t.match(opensslVerify(cert.chainDer[0]!, 'sslserver'), /OK/);
  t.match(opensslVerify(cert.chainDer[0]!, 'sslclient'), /OK/);
  const result = await verifyCredentials({ chainDer: cert.chainDer, keyDer: cert.keyDer, serverId: DST, trustAnchorsPem: ca.trustAnchorPem, nowMs: now });
  t.same(result.ok ? 'ok' : result.reason, 'ok');
  t.ok(Math.abs(cert.notAfterMs - (now + 24 * 3600_000)) < 2000, '24h');
});

t.test('an X.509-SVID carries exactly the SPIFFE id as URI SAN and passes the proxy verifier', async (t) => {
  const svid = await ca.svid(VM, now);
  const leaf = new X509Certificate(svid.chainDer[0]!);
  t.equal(leaf.subjectAltName, `URI:${VM}`);
  t.match(opensslVerify(svid.chainDer[0]!, 'sslclient'), /OK/);
  const result = await verifyCredentials({ chainDer: svid.chainDer, keyDer: svid.keyDer, serverId: VM, trustAnchorsPem: ca.trustAnchorPem, nowMs: now });
  t.same(result.ok ? 'ok' : result.reason, 'ok');
  t.ok(Math.abs(svid.notAfterMs - (now + 3600_000)) < 2000, '1h');
  const wrong = await verifyCredentials({ chainDer: svid.chainDer, keyDer: svid.keyDer, serverId: 'spiffe://root.linkerd.cluster.local/other', trustAnchorsPem: ca.trustAnchorPem, nowMs: now });
  t.notOk(wrong.ok, 'names nothing else');
});

t.test('Certify signs the CSR key for the identity; the proxy accepts it with its own key', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const csr = await buildCsr(POD, privateKey, publicKey);
  const info = await parseCsr(csr);
  const signed = await ca.certify(info.publicKeySpki, POD, now);
  const leaf = new X509Certificate(signed.leafDer);
  t.equal(leaf.subjectAltName, `DNS:${POD}`);
  t.equal(leaf.subject, `CN=${POD}`);
  t.same(signed.intermediatesDer, [ca.issuerDer]);
  const result = await verifyCredentials({
    chainDer: [signed.leafDer, ...signed.intermediatesDer],
    keyDer: privateKey.export({ type: 'pkcs8', format: 'der' }),
    serverId: POD,
    trustAnchorsPem: ca.trustAnchorPem,
    nowMs: now,
  });
  t.same(result.ok ? 'ok' : result.reason, 'ok');
  t.equal(signed.notAfterMs, Date.parse(leaf.validTo));
});

t.test('leaves never outlive the issuer', async (t) => {
  const short = await generateTrustAnchor(now);
  const shortCa = await DevCa.create({ ...short.anchor, notAfterMs: now + 60_000 }, now);
  const cert = await shortCa.serverCertificate(DST, now);
  t.ok(cert.notAfterMs <= now + 60_000);
});

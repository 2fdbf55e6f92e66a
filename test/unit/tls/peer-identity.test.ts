// SAN identities read from certificate DER, and identity matching.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { certificateHasIdentity, firstSanIdentity, parseIdentity, sanIdentities } from '../../../src/tls/peer-identity.js';
import { TestPki } from '../../support/pki.js';
import { certWithSans } from './helpers/san-cert.js';

t.test('identities come from the DER in certificate order, DNS and URI alike', async (t) => {
  const der = certWithSans(['URI:spiffe://td.example/ns/ns1/sa/web', 'DNS:web.ns1.serviceaccount.identity.linkerd.cluster.local']);
  t.same(sanIdentities(der), ['spiffe://td.example/ns/ns1/sa/web', 'web.ns1.serviceaccount.identity.linkerd.cluster.local']);
  t.equal(firstSanIdentity(der), 'spiffe://td.example/ns/ns1/sa/web', 'first SAN is a URI');
  const dnsFirst = certWithSans(['DNS:web.ns1.serviceaccount.identity.linkerd.cluster.local', 'URI:spiffe://td.example/ns/ns1/sa/web']);
  t.equal(firstSanIdentity(dnsFirst), 'web.ns1.serviceaccount.identity.linkerd.cluster.local', 'first SAN is a DNS name');
});

t.test('non-identity SANs are skipped: email, IP, RID, otherName, wildcard, trailing dot, unparsable URI', async (t) => {
  const der = certWithSans(['email:ops@example.com', 'IP:10.1.2.3', 'RID:1.2.3.4', 'otherName:1.2.3.4;UTF8:hello',
    'DNS:*.wild.example.com', 'DNS:dotted.example.com.', 'URI:not a uri', 'DNS:Mixed.Case.Example', 'URI:spiffe://td/ns/a,b/sa/c']);
  t.same(sanIdentities(der), ['mixed.case.example', 'spiffe://td/ns/a,b/sa/c']);
  t.equal(firstSanIdentity(der), 'mixed.case.example');
  t.match(new X509Certificate(der).subjectAltName ?? '', /URI:"spiffe:\/\/td\/ns\/a\\u002cb\/sa\/c"/,
    'node\'s subjectAltName string escapes the comma; the DER reading does not need to');
});

t.test('a URI SAN containing a comma is one identity, not two', async (t) => {
  const der = certWithSans(['URI:spiffe://td/ns/x, DNS:evil.example', 'DNS:real.example']);
  t.same(sanIdentities(der), ['spiffe://td/ns/x,%20DNS:evil.example', 'real.example']);
  t.notOk(certificateHasIdentity(der, 'evil.example'));
});

t.test('certificates without SANs, and bytes that are not a certificate', async (t) => {
  t.same(sanIdentities(certWithSans([])), []);
  t.equal(firstSanIdentity(certWithSans([])), undefined);
  const der = certWithSans(['DNS:a.example']);
  for (let cut = 0; cut < der.length; cut += 7) t.same(sanIdentities(der.subarray(0, cut)), [], `truncated at ${cut}`);
  t.same(sanIdentities(Buffer.from('not a certificate')), []);
  t.same(sanIdentities(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])), []);
  t.same(sanIdentities(Buffer.from([0x30, 0x80, 0x00, 0x00])), [], 'indefinite length is not DER');
});

t.test('TestPki leaves: chain-issued certificates read the same as node sees them', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const ca = pki.root();
  const leaf = pki.leaf(ca, { dns: ['a.example', 'b.example'], uris: ['spiffe://td/ns/x/sa/y'] });
  t.same(sanIdentities(leaf.certDer), ['a.example', 'b.example', 'spiffe://td/ns/x/sa/y']);
  t.equal(new X509Certificate(leaf.certDer).subjectAltName, 'DNS:a.example, DNS:b.example, URI:spiffe://td/ns/x/sa/y');
});

t.test('identity matching for the expected server id (exact, after normalisation)', async (t) => {
  const der = certWithSans(['DNS:srv.ns1.serviceaccount.identity.linkerd.cluster.local', 'URI:spiffe://Root.Example/ns/ns1/sa/srv']);
  t.ok(certificateHasIdentity(der, 'srv.ns1.serviceaccount.identity.linkerd.cluster.local'));
  t.ok(certificateHasIdentity(der, 'SRV.ns1.serviceaccount.identity.linkerd.cluster.local'), 'DNS names compare case-insensitively');
  t.ok(certificateHasIdentity(der, 'spiffe://Root.Example/ns/ns1/sa/srv'));
  t.notOk(certificateHasIdentity(der, 'spiffe://root.example/ns/ns1/sa/srv'), 'a spiffe trust domain is an opaque host: case matters');
  t.notOk(certificateHasIdentity(der, 'ns1.serviceaccount.identity.linkerd.cluster.local'), 'no suffix matching');
  t.notOk(certificateHasIdentity(der, 'srv.ns1.serviceaccount.identity.linkerd.cluster.local.'), 'a trailing dot is no identity');
  t.notOk(certificateHasIdentity(der, ''));
});

t.test('parseIdentity normalises DNS ids and URIs and rejects the rest', async (t) => {
  t.equal(parseIdentity('Web.Example'), 'web.example');
  t.equal(parseIdentity('SPIFFE://td/ns/a'), 'spiffe://td/ns/a');
  t.equal(parseIdentity('spiffe://td'), 'spiffe://td');
  t.equal(parseIdentity('web.example.'), undefined);
  t.equal(parseIdentity('not an id'), undefined);
  t.equal(parseIdentity(''), undefined);
});

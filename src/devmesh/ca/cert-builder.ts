// Builds and signs X.509 v3 certificates with pkijs: CA certificates and mesh leaves with DNS/URI SANs.
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { cryptoEngine } from '../../identity/crypto-engine.js';
import type { SigningKey } from './keys.js';

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

const GN_DNS = 2;
const GN_URI = 6;

// KeyUsage bits, first octet: digitalSignature is the top bit, keyCertSign and cRLSign bits 5 and 6.
const KU_DIGITAL_SIGNATURE = 0x80;
const KU_CA = 0x04 | 0x02;

export interface CertificateSpec {
  /** One attribute each: a single-valued RDN per name part. */
  readonly subject: { readonly cn?: string; readonly o?: string };
  readonly publicKeySpki: Uint8Array;
  readonly dns?: readonly string[];
  readonly uris?: readonly string[];
  /** Present for a CA certificate. */
  readonly ca?: { readonly pathLen?: number };
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/** Who signs: the key, and the issuer's certificate (absent for a self-signed root). */
export interface Signer {
  readonly key: SigningKey;
  readonly cert?: pkijs.Certificate;
}

/** One SET per attribute (the usual shape), not a single multi-valued RDN as pkijs would build. */
function encodeName(subject: CertificateSpec['subject']): pkijs.RelativeDistinguishedNames {
  const parts: [string, string | undefined][] = [[OID.organization, subject.o], [OID.commonName, subject.cn]];
  const sets = parts
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([type, value]) => new asn1js.Set({ value: [new pkijs.AttributeTypeAndValue({ type, value: new asn1js.Utf8String({ value }) }).toSchema()] }));
  return pkijs.RelativeDistinguishedNames.fromBER(new asn1js.Sequence({ value: sets }).toBER(false));
}

function keyIdentifier(spki: pkijs.PublicKeyInfo): ArrayBuffer {
  const digest = createHash('sha1').update(spki.subjectPublicKey.valueBlock.valueHexView).digest();
  return new Uint8Array(digest).buffer;
}

function serialNumber(): asn1js.Integer {
  const bytes = randomBytes(16);
  // Positive, and no leading zero octet for DER to strip.
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return new asn1js.Integer({ valueHex: new Uint8Array(bytes).buffer });
}

function ext(extnID: string, critical: boolean, value: asn1js.BaseBlock | { toSchema(): asn1js.BaseBlock }): pkijs.Extension {
  const block = 'toSchema' in value ? value.toSchema() : value;
  return new pkijs.Extension({ extnID, critical, extnValue: block.toBER(false) });
}

function keyUsage(bits: number): asn1js.BitString {
  // DER: trailing zero bits are dropped and counted as unused.
  let unused = 0;
  while (unused < 7 && (bits & (1 << unused)) === 0) unused++;
  return new asn1js.BitString({ valueHex: new Uint8Array([bits]).buffer, unusedBits: unused });
}

/** Issues a certificate for `spec`, signed by `signer` (ECDSA with the signer's curve digest); returns DER. */
export async function issueCertificate(spec: CertificateSpec, signer: Signer): Promise<Buffer> {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = serialNumber();
  cert.subject = encodeName(spec.subject);
  cert.issuer = signer.cert ? signer.cert.subject : cert.subject;
  cert.notBefore.value = new Date(Math.floor(spec.notBeforeMs / 1000) * 1000);
  cert.notAfter.value = new Date(Math.floor(spec.notAfterMs / 1000) * 1000);
  cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(spec.publicKeySpki);

  const issuerSpki = signer.cert ? signer.cert.subjectPublicKeyInfo : pkijs.PublicKeyInfo.fromBER(signer.key.publicSpki);
  const extensions: pkijs.Extension[] = [
    ext(OID.basicConstraints, true, new pkijs.BasicConstraints(spec.ca
      ? { cA: true, ...(spec.ca.pathLen === undefined ? {} : { pathLenConstraint: spec.ca.pathLen }) }
      : {})),
    ext(OID.keyUsage, true, keyUsage(spec.ca ? KU_CA : KU_DIGITAL_SIGNATURE)),
    ext(OID.subjectKeyId, false, new asn1js.OctetString({ valueHex: keyIdentifier(cert.subjectPublicKeyInfo) })),
    ext(OID.authorityKeyId, false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: keyIdentifier(issuerSpki) }) })),
  ];
  if (!spec.ca) extensions.push(ext(OID.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: [OID.serverAuth, OID.clientAuth] })));
  const names = [
    ...(spec.uris ?? []).map((value) => new pkijs.GeneralName({ type: GN_URI, value })),
    ...(spec.dns ?? []).map((value) => new pkijs.GeneralName({ type: GN_DNS, value })),
  ];
  if (names.length > 0) {
    // RFC 5280: with an empty subject the SAN extension must be critical.
    const emptySubject = spec.subject.cn === undefined && spec.subject.o === undefined;
    extensions.push(ext(OID.subjectAltName, emptySubject, new pkijs.GeneralNames({ names })));
  }
  cert.extensions = extensions;

  await cert.sign(signer.key.webKey, signer.key.hash, cryptoEngine());
  return Buffer.from(cert.toSchema(true).toBER(false));
}

/** Parses DER into the pkijs form a Signer needs. */
export function parsedCertificate(der: Uint8Array): pkijs.Certificate {
  return pkijs.Certificate.fromBER(der);
}

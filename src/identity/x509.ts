// X.509 plumbing for identity: splitting DER chains, PEM conversion, SANs and validity of a certificate.
import { X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { ProxyError, messageOf } from '../core/errors.js';

/** A subject alternative name we care about: identities are DNS names or URIs (spiffe://…). */
export interface SubjectAltName {
  readonly kind: 'dns' | 'uri';
  readonly value: string;
}

export interface CertificateInfo {
  readonly der: Buffer;
  /** DNS and URI SANs in the order the certificate lists them. */
  readonly sans: readonly SubjectAltName[];
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** The parsed form, for chain validation. */
  readonly cert: pkijs.Certificate;
}

const SAN_OID = '2.5.29.17';
const GN_DNS = 2;
const GN_URI = 6;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

function invalid(message: string, cause?: unknown): ProxyError {
  return new ProxyError(message, 'invalid_certificate', 'internal', cause === undefined ? undefined : { cause });
}

/**
 * Splits back-to-back DER certificates (the SPIFFE `x509_svid` form) into one buffer per
 * certificate, leaf first. Anything that is not a run of complete DER SEQUENCEs is an error.
 */
export function splitDerCertificates(concatenated: Uint8Array): Buffer[] {
  const all = Buffer.from(concatenated.buffer, concatenated.byteOffset, concatenated.byteLength);
  if (all.length === 0) throw invalid('certificate chain is empty');
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < all.length) {
    // asn1js copies its input, so hand it an exact-offset view rather than the whole buffer.
    const rest = all.subarray(pos);
    const parsed = asn1js.fromBER(rest);
    if (parsed.offset === -1 || parsed.offset === 0 || !(parsed.result instanceof asn1js.Sequence)) {
      const why = parsed.result.error || 'not a DER SEQUENCE';
      throw invalid(`certificate ${out.length + 1} in the chain is not valid DER (at byte ${pos}: ${why})`);
    }
    out.push(rest.subarray(0, parsed.offset));
    pos += parsed.offset;
  }
  return out;
}

/** PEM armour for DER bytes (64-column base64). */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every PEM block with the given label (all labels when omitted), decoded, in order. */
export function pemToDers(pem: string, label: string | undefined = 'CERTIFICATE'): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pem.matchAll(PEM_BLOCK)) {
    if (label !== undefined && m[1] !== label) continue;
    out.push(Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64'));
  }
  return out;
}

/** The single PEM block's DER; an error when there is not exactly one. */
export function pemToDer(pem: string, label = 'CERTIFICATE'): Buffer {
  const all = pemToDers(pem, label);
  if (all.length !== 1 || all[0] === undefined) throw invalid(`expected one ${label} PEM block, found ${all.length}`);
  return all[0];
}

/** Parses one DER certificate; throws a ProxyError('invalid_certificate') naming what is wrong. */
export function parseCertificate(der: Uint8Array): CertificateInfo {
  const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  let cert: pkijs.Certificate;
  try {
    cert = pkijs.Certificate.fromBER(bytes);
  } catch (err) {
    throw invalid(`not an X.509 certificate: ${messageOf(err)}`, err);
  }
  return {
    der: bytes,
    sans: sansOf(cert),
    notBeforeMs: cert.notBefore.value.getTime(),
    notAfterMs: cert.notAfter.value.getTime(),
    cert,
  };
}

function sansOf(cert: pkijs.Certificate): SubjectAltName[] {
  const ext = cert.extensions?.find((e) => e.extnID === SAN_OID);
  if (!ext) return [];
  const parsed: unknown = ext.parsedValue;
  const names = parsed instanceof pkijs.GeneralNames
    ? parsed.names
    : pkijs.GeneralNames.fromBER(ext.extnValue.valueBlock.valueHexView).names;
  const out: SubjectAltName[] = [];
  for (const n of names) {
    if (typeof n.value !== 'string') continue;
    if (n.type === GN_DNS) out.push({ kind: 'dns', value: n.value });
    else if (n.type === GN_URI) out.push({ kind: 'uri', value: n.value });
  }
  return out;
}

/** DNS and URI SANs of a DER certificate, in order. */
export function subjectAltNames(der: Uint8Array): SubjectAltName[] {
  return [...parseCertificate(der).sans];
}

/**
 * Whether `id` is among the SANs: a spiffe:// (or any URI) id must be a URI SAN, a DNS-like id a
 * DNS SAN; both compared exactly.
 */
export function namesIdentity(sans: readonly SubjectAltName[], id: string): boolean {
  const kind: SubjectAltName['kind'] = id.includes('://') ? 'uri' : 'dns';
  return sans.some((s) => s.kind === kind && s.value === id);
}

/** Human form of a SAN list for log lines and errors. */
export function describeSans(sans: readonly SubjectAltName[]): string {
  if (sans.length === 0) return 'no DNS or URI names';
  return sans.map((s) => s.value).join(', ');
}

/** The DER of each certificate in a PEM bundle, parsed; errors name the offending block. */
export function parseCertificatesPem(pem: string): CertificateInfo[] {
  const ders = pemToDers(pem);
  if (ders.length === 0) throw invalid('no CERTIFICATE blocks found');
  return ders.map((der, i) => {
    try {
      return parseCertificate(der);
    } catch (err) {
      throw invalid(`certificate ${i + 1} of the bundle: ${messageOf(err)}`, err);
    }
  });
}

/** The leaf's SubjectPublicKeyInfo as DER (node's view, so it compares with a KeyObject export). */
export function spkiDer(certDer: Uint8Array): Buffer {
  return new X509Certificate(certDer).publicKey.export({ type: 'spki', format: 'der' });
}

export { toCredentials, verifyCredentials } from './verify-credentials.js';
export type { VerifiedCertificate, VerifyInput, VerifyResult } from './verify-credentials.js';

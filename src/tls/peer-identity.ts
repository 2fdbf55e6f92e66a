// Identities named by an X.509 leaf: its DNS and URI SANs, read from the DER and normalised as the proxy compares them (pure).
import { isValidDnsName } from './dns-name.js';

const TAG_SEQUENCE = 0x30;
const TAG_OID = 0x06;
const TAG_BOOLEAN = 0x01;
const TAG_OCTET_STRING = 0x04;
const TAG_EXTENSIONS = 0xa3; // [3] EXPLICIT in TBSCertificate
const TAG_SAN_DNS = 0x82; // GeneralName dNSName [2] IMPLICIT IA5String
const TAG_SAN_URI = 0x86; // GeneralName uniformResourceIdentifier [6] IMPLICIT IA5String
const OID_SUBJECT_ALT_NAME = [0x55, 0x1d, 0x11]; // 2.5.29.17

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/**
 * The normalised form of an identity string, or undefined if it is none: a DNS name
 * (lower-cased, no trailing dot) else an absolute URI (WHATWG-serialised, e.g. spiffe://…).
 * Both sides of every identity comparison go through this, as the Rust proxy parses both.
 */
export function parseIdentity(id: string): string | undefined {
  return dnsIdentity(id) ?? uriIdentity(id);
}

function dnsIdentity(name: string): string | undefined {
  // A trailing dot makes a valid DNS name but not an identity (spec §6.2).
  if (!isValidDnsName(name) || name.endsWith('.')) return undefined;
  return name.toLowerCase();
}

function uriIdentity(uri: string): string | undefined {
  try {
    return new URL(uri).href;
  } catch {
    return undefined;
  }
}

/**
 * The identities in the certificate's subjectAltName, in certificate order: DNS SANs that
 * parse as identities and URI SANs that parse as URIs; other SAN kinds and unparseable
 * entries are skipped. Empty for a certificate without SANs or DER it cannot read.
 */
export function sanIdentities(der: Uint8Array): string[] {
  const out: string[] = [];
  const names = subjectAltNames(der);
  if (names === undefined) return out;
  for (let p = names.start; p < names.end; ) {
    const name = readTlv(der, p, names.end);
    if (name === undefined) break;
    p = name.end;
    if (name.tag !== TAG_SAN_DNS && name.tag !== TAG_SAN_URI) continue;
    const text = Buffer.from(der.buffer, der.byteOffset + name.start, name.end - name.start).toString('latin1');
    const id = name.tag === TAG_SAN_DNS ? dnsIdentity(text) : uriIdentity(text);
    if (id !== undefined) out.push(id);
  }
  return out;
}

/** The client identity of an inbound mTLS connection: the first SAN that parses as an identity. */
export function firstSanIdentity(der: Uint8Array): string | undefined {
  return sanIdentities(der)[0];
}

/** True when `expected` parses as an identity that is among the leaf's SAN identities. */
export function certificateHasIdentity(der: Uint8Array, expected: string): boolean {
  const want = parseIdentity(expected);
  return want !== undefined && sanIdentities(der).includes(want);
}

/** The GeneralNames SEQUENCE of the subjectAltName extension, if any. */
function subjectAltNames(der: Uint8Array): Tlv | undefined {
  const cert = readTlv(der, 0, der.length);
  if (cert?.tag !== TAG_SEQUENCE) return undefined;
  const tbs = readTlv(der, cert.start, cert.end);
  if (tbs?.tag !== TAG_SEQUENCE) return undefined;
  let extensions: Tlv | undefined;
  for (let p = tbs.start; p < tbs.end; ) {
    const field = readTlv(der, p, tbs.end);
    if (field === undefined) return undefined;
    p = field.end;
    if (field.tag === TAG_EXTENSIONS) {
      extensions = readTlv(der, field.start, field.end);
      break;
    }
  }
  if (extensions?.tag !== TAG_SEQUENCE) return undefined;
  for (let p = extensions.start; p < extensions.end; ) {
    const ext = readTlv(der, p, extensions.end);
    if (ext?.tag !== TAG_SEQUENCE) return undefined;
    p = ext.end;
    const oid = readTlv(der, ext.start, ext.end);
    if (oid?.tag !== TAG_OID || !bytesEqual(der, oid, OID_SUBJECT_ALT_NAME)) continue;
    let value = readTlv(der, oid.end, ext.end);
    if (value?.tag === TAG_BOOLEAN) value = readTlv(der, value.end, ext.end);
    if (value?.tag !== TAG_OCTET_STRING) return undefined;
    const names = readTlv(der, value.start, value.end);
    return names?.tag === TAG_SEQUENCE ? names : undefined;
  }
  return undefined;
}

/** One DER TLV at `p` whose content ends within `limit`; undefined when it does not fit. */
function readTlv(b: Uint8Array, p: number, limit: number): Tlv | undefined {
  if (p + 2 > limit) return undefined;
  const tag = b[p] ?? 0;
  if ((tag & 0x1f) === 0x1f) return undefined; // multi-byte tags never occur on this path
  let length = b[p + 1] ?? 0;
  let q = p + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || q + count > limit) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (b[q + i] ?? 0);
    q += count;
  }
  if (q + length > limit) return undefined;
  return { tag, start: q, end: q + length };
}

function bytesEqual(b: Uint8Array, tlv: Tlv, want: readonly number[]): boolean {
  if (tlv.end - tlv.start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (b[tlv.start + i] !== want[i]) return false;
  return true;
}

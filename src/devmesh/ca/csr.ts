// Reads a proxy's PKCS#10 request (DER) and applies the Linkerd identity service's rules to it.
import * as pkijs from 'pkijs';
import { messageOf } from '../../core/errors.js';
import { cryptoEngine } from '../../identity/crypto-engine.js';

const OID_COMMON_NAME = '2.5.4.3';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const GN_EMAIL = 1;
const GN_DNS = 2;
const GN_URI = 6;
const GN_IP = 7;

export interface CsrInfo {
  readonly commonName: string | undefined;
  readonly dnsNames: readonly string[];
  readonly emails: readonly string[];
  readonly uris: readonly string[];
  readonly ipCount: number;
  /** SubjectPublicKeyInfo DER of the requested key. */
  readonly publicKeySpki: Buffer;
}

/** Why a CSR cannot be used; `kind` picks the gRPC status, as the Linkerd identity service does. */
export class CsrProblem extends Error {
  constructor(readonly kind: 'malformed' | 'mismatch', message: string) {
    super(message);
    this.name = 'CsrProblem';
  }
}

function subjectCommonName(csr: pkijs.CertificationRequest): string | undefined {
  const tv = csr.subject.typesAndValues.find((t) => t.type === OID_COMMON_NAME);
  const v: unknown = tv?.value.valueBlock.value;
  return typeof v === 'string' ? v : undefined;
}

function requestedNames(csr: pkijs.CertificationRequest): pkijs.GeneralName[] {
  const out: pkijs.GeneralName[] = [];
  for (const attr of csr.attributes ?? []) {
    if (attr.type !== OID_EXTENSION_REQUEST) continue;
    for (const value of attr.values) {
      const exts = new pkijs.Extensions({ schema: value });
      for (const ext of exts.extensions) {
        if (ext.extnID !== OID_SUBJECT_ALT_NAME) continue;
        out.push(...pkijs.GeneralNames.fromBER(ext.extnValue.valueBlock.valueHexView).names);
      }
    }
  }
  return out;
}

/**
 * Parses a DER CSR and checks its self-signature (proof that the caller holds the key). Throws
 * CsrProblem('malformed') for anything that is not a well-formed, correctly signed request.
 */
export async function parseCsr(der: Uint8Array): Promise<CsrInfo> {
  let csr: pkijs.CertificationRequest;
  let names: pkijs.GeneralName[];
  try {
    csr = pkijs.CertificationRequest.fromBER(der);
    names = requestedNames(csr);
  } catch (err) {
    throw new CsrProblem('malformed', `certificate signing request is not valid DER: ${messageOf(err)}`);
  }
  let signed: boolean;
  try {
    signed = await csr.verify(cryptoEngine());
  } catch (err) {
    throw new CsrProblem('malformed', `certificate signing request signature cannot be checked: ${messageOf(err)}`);
  }
  if (!signed) throw new CsrProblem('malformed', 'certificate signing request signature is not valid');
  const strings = (type: number): string[] => names.filter((n) => n.type === type && typeof n.value === 'string').map((n) => n.value as string);
  return {
    commonName: subjectCommonName(csr),
    dnsNames: strings(GN_DNS),
    emails: strings(GN_EMAIL),
    uris: strings(GN_URI),
    ipCount: names.filter((n) => n.type === GN_IP).length,
    publicKeySpki: Buffer.from(csr.subjectPublicKeyInfo.toSchema().toBER(false)),
  };
}

/** The identity service's CSR rules: exactly one DNS SAN equal to `identity`, CN empty or equal, nothing else. */
export function checkCsrNames(csr: CsrInfo, identity: string): void {
  if (csr.dnsNames.length !== 1) throw new CsrProblem('mismatch', 'CSR must have exactly one DNSName');
  if (csr.dnsNames[0] !== identity) {
    throw new CsrProblem('mismatch', `CSR name does not match requested identity: csr=${csr.dnsNames[0]}; req=${identity}`);
  }
  if (csr.commonName !== undefined && csr.commonName !== '' && csr.commonName !== identity) {
    throw new CsrProblem('mismatch', `invalid CommonName: ${csr.commonName}`);
  }
  if (csr.emails.length > 0) throw new CsrProblem('mismatch', 'cannot validate email addresses');
  if (csr.ipCount > 0) throw new CsrProblem('mismatch', 'cannot validate IP addresses');
  if (csr.uris.length > 0) throw new CsrProblem('mismatch', 'cannot validate URIs');
}

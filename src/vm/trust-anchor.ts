// Checks the mesh's trust anchor before it goes into the env file: parseable PEM, CA certificates, in date.
import { X509Certificate } from 'node:crypto';
import { parseTrustAnchors } from '../config/trust-anchors.js';

/** A certificate this close to expiry still passes, with a warning. */
export const EXPIRY_WARNING_MS = 30 * 86_400_000;

export interface AnchorSummary {
  readonly subject: string;
  readonly notAfter: Date;
  readonly fingerprint256: string;
}

export type TrustAnchorCheck =
  | {
      readonly ok: true;
      readonly anchors: readonly AnchorSummary[];
      /** Just the certificates, as PEM: whatever else the file held (a key, say) is left out. */
      readonly pem: string;
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

function oneLine(dn: string): string {
  return dn.split('\n').filter((p) => p !== '').join(', ');
}

/**
 * Every certificate of the bundle must be a CA (basicConstraints CA:TRUE) and valid at `nowMs`;
 * problems name the certificate by subject. Non-certificate blocks are ignored, as the proxy does.
 */
export function checkTrustAnchor(pem: string, nowMs: number): TrustAnchorCheck {
  const parsed = parseTrustAnchors(pem);
  if (!parsed.ok) return { ok: false, problems: [`not a PEM certificate bundle: ${parsed.detail}`] };
  const problems: string[] = [];
  const warnings: string[] = [];
  const anchors: AnchorSummary[] = [];
  if (parsed.skipped > 0) problems.push(`${parsed.skipped} certificate(s) in the bundle could not be parsed`);
  const others = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]).filter((b) => b !== 'CERTIFICATE');
  if (others.length > 0) warnings.push(`left out of the env file: ${others.join(', ')} (only certificates are trust anchors)`);
  for (const certPem of parsed.certs) {
    const cert = new X509Certificate(certPem);
    const subject = oneLine(cert.subject) || '(empty subject)';
    const notBefore = new Date(cert.validFrom);
    const notAfter = new Date(cert.validTo);
    if (!cert.ca) problems.push(`${subject} is not a CA certificate (a trust anchor must be the mesh's root or an issuing CA, not a leaf)`);
    if (nowMs > notAfter.getTime()) problems.push(`${subject} expired on ${notAfter.toISOString()}`);
    else if (nowMs < notBefore.getTime()) problems.push(`${subject} is not valid until ${notBefore.toISOString()}`);
    else if (notAfter.getTime() - nowMs < EXPIRY_WARNING_MS) warnings.push(`${subject} expires soon, on ${notAfter.toISOString()}`);
    anchors.push({ subject, notAfter, fingerprint256: cert.fingerprint256 });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, anchors, pem: parsed.certs.join(''), warnings };
}

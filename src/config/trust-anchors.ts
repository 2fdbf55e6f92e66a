// Validates an inline PEM trust-anchor bundle the way the Rust proxy loads it (bad PEM fatal, bad certs skipped).
import { X509Certificate } from 'node:crypto';

export type TrustAnchorsResult =
  | { readonly ok: true; readonly certs: readonly string[]; readonly skipped: number }
  | { readonly ok: false; readonly detail: string };

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/**
 * Returns each parseable CERTIFICATE block re-encoded as PEM. Malformed PEM framing or base64,
 * or no parseable certificate at all, is an error; unparseable certificates are skipped (and
 * counted) as rustls' `add_parsable_certificates` does. Other block types are ignored.
 */
export function parseTrustAnchors(pem: string): TrustAnchorsResult {
  const certs: string[] = [];
  let skipped = 0;
  let blocks = 0;
  for (const m of pem.matchAll(BLOCK)) {
    blocks++;
    const [, begin, body = '', end] = m;
    if (begin !== end) return { ok: false, detail: `PEM block BEGIN ${begin} ends with END ${end}` };
    if (begin !== 'CERTIFICATE') continue;
    const b64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      return { ok: false, detail: 'a CERTIFICATE block is not valid base64' };
    }
    try {
      certs.push(new X509Certificate(Buffer.from(b64, 'base64')).toString());
    } catch {
      skipped++;
    }
  }
  const unmatched = pem.replace(BLOCK, '');
  if (/-----(BEGIN|END) /.test(unmatched)) return { ok: false, detail: 'unterminated PEM block' };
  if (blocks === 0) return { ok: false, detail: 'no PEM certificate found' };
  if (certs.length === 0) {
    return { ok: false, detail: skipped > 0 ? 'no parseable certificate in the bundle' : 'no CERTIFICATE block found' };
  }
  return { ok: true, certs, skipped };
}

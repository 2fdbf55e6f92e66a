// The mesh's TLS 1.3 parameters (spec §6.1) and the SecureContexts built from our credentials, one per installed certificate.
import tls from 'node:tls';
import type { Credentials } from '../identity/types.js';

export const MESH_TLS_VERSION = 'TLSv1.3';

/** TLS 1.3 suites in the Rust proxy's (non-FIPS) preference order. */
export const MESH_CIPHER_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;

/** Key-exchange groups in preference order; the hybrid post-quantum group needs OpenSSL ≥ 3.5. */
const WANTED_GROUPS = ['X25519MLKEM768', 'X25519', 'P-256', 'P-384'] as const;

/**
 * Signature schemes we accept from peers (and offer to sign with): ECDSA P-256/P-384/P-521,
 * Ed25519, and RSA (PSS for TLS 1.3 handshakes; PKCS#1 only appears in certificate chains).
 */
export const MESH_SIGNATURE_ALGORITHMS = [
  'ecdsa_secp256r1_sha256', 'ecdsa_secp384r1_sha384', 'ecdsa_secp521r1_sha512', 'ed25519',
  'rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384', 'rsa_pss_rsae_sha512',
  'rsa_pkcs1_sha256', 'rsa_pkcs1_sha384', 'rsa_pkcs1_sha512',
] as const;

let groupsSupported: string | undefined;

/** The wanted groups this Node's OpenSSL knows, probed once ('X25519:P-256:P-384' on OpenSSL 3.0). */
export function meshKeyExchangeGroups(): string {
  if (groupsSupported !== undefined) return groupsSupported;
  const usable = WANTED_GROUPS.filter((group) => {
    try {
      tls.createSecureContext({ ecdhCurve: group });
      return true;
    } catch {
      return false;
    }
  });
  groupsSupported = usable.join(':');
  return groupsSupported;
}

/** A context usable for both roles: our chain and key, peers verified against the trust anchors. */
export function createMeshSecureContext(creds: Credentials): tls.SecureContext {
  return tls.createSecureContext({
    cert: creds.certChainPem,
    key: creds.keyPem,
    ca: creds.trustAnchorsPem,
    minVersion: MESH_TLS_VERSION,
    maxVersion: MESH_TLS_VERSION,
    ciphers: MESH_CIPHER_SUITES.join(':'),
    ecdhCurve: meshKeyExchangeGroups(),
    sigalgs: MESH_SIGNATURE_ALGORITHMS.join(':'),
    // OpenSSL refuses to resume a client-authenticated session without one; set it so a
    // resuming peer gets a full handshake instead of a failure.
    sessionIdContext: 'linkerd2-proxy-ts',
  });
}

/**
 * SecureContexts per installed certificate. One OpenSSL context serves both the server
 * (inbound termination) and the client (outbound origination) role, so one cache does too.
 * Keyed by the Credentials object (each rotation installs a new one), with a fallback on
 * generation + PEM equality so a source that copies its object doesn't rebuild per call.
 * Building is synchronous (key parsing); call `get` when a rotation lands to keep that off
 * the first connection.
 */
export class MeshTlsContexts {
  private readonly byCreds = new WeakMap<Credentials, tls.SecureContext>();
  private latest: { readonly creds: Credentials; readonly context: tls.SecureContext } | undefined;

  constructor(private readonly build: (creds: Credentials) => tls.SecureContext = createMeshSecureContext) {}

  get(creds: Credentials): tls.SecureContext {
    const cached = this.byCreds.get(creds);
    if (cached !== undefined) return cached;
    const latest = this.latest;
    const context = latest !== undefined && sameCertificate(latest.creds, creds) ? latest.context : this.build(creds);
    this.byCreds.set(creds, context);
    this.latest = { creds, context };
    return context;
  }
}

function sameCertificate(a: Credentials, b: Credentials): boolean {
  return a.generation === b.generation && a.certChainPem === b.certChainPem && a.keyPem === b.keyPem
    && a.trustAnchorsPem === b.trustAnchorsPem;
}

/** The process-wide cache used when a caller passes none; safe to share (keyed by credentials). */
export const defaultMeshTlsContexts = new MeshTlsContexts();

// Test identities: a fixed IdentitySource and Credentials built straight from a TestPki leaf.
import type { Credentials, IdentitySource } from '../../src/identity/types.js';
import { staticIdentity as staticSource } from '../../src/identity/static-identity.js';
import { parseCertificate } from '../../src/identity/x509.js';
import type { Issuer, Leaf } from './pki.js';

/** A source that is ready immediately with `creds` and never changes. */
export function staticIdentity(creds: Credentials): IdentitySource {
  return staticSource(creds);
}

export interface LeafCredentialsOptions {
  /** Defaults to the leaf's first SAN. */
  readonly serverId?: string;
  /** Defaults to serverId. */
  readonly serverName?: string;
  /** PEM bundle, or the root Issuer whose certificate is the anchor. */
  readonly trustAnchors: string | Issuer;
  readonly generation?: number;
}

/** Credentials for a TestPki leaf, without the store's checks (tests choose what they build). */
export function credentialsFromLeaf(leaf: Leaf, opts: LeafCredentialsOptions): Credentials {
  const info = parseCertificate(leaf.certDer);
  const serverId = opts.serverId ?? info.sans[0]?.value;
  if (serverId === undefined) throw new Error('leaf has no SAN; pass serverId');
  return {
    serverId,
    serverName: opts.serverName ?? serverId,
    certChainPem: leaf.chainPem,
    keyPem: leaf.keyPem,
    trustAnchorsPem: typeof opts.trustAnchors === 'string' ? opts.trustAnchors : opts.trustAnchors.certPem,
    notBeforeMs: info.notBeforeMs,
    notAfterMs: info.notAfterMs,
    generation: opts.generation ?? 1,
  };
}

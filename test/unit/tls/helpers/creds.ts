// Builds Credentials (what the identity layer hands the TLS layer) from TestPki certificates.
import { X509Certificate } from 'node:crypto';
import type { Credentials } from '../../../../src/identity/types.js';
import type { Issuer, Leaf } from '../../../support/pki.js';

let generation = 0;

export function credentialsFor(leaf: Leaf, trust: Issuer | string, serverId: string, serverName = serverId): Credentials {
  const cert = new X509Certificate(leaf.certPem);
  return {
    serverId,
    serverName,
    certChainPem: leaf.chainPem,
    keyPem: leaf.keyPem,
    trustAnchorsPem: typeof trust === 'string' ? trust : trust.certPem,
    notBeforeMs: Date.parse(cert.validFrom),
    notAfterMs: Date.parse(cert.validTo),
    generation: ++generation,
  };
}

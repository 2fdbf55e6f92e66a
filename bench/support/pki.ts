// The bench's certificates: one P-256 CA, a server leaf (inbound side) and a client leaf (outbound side), as files every proxy can read.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestPki, type Issuer, type Leaf } from '../../test/support/pki.js';

export const SERVER_NAME = 'bench-server.bench.serviceaccount.identity.linkerd.cluster.local';
export const CLIENT_NAME = 'bench-client.bench.serviceaccount.identity.linkerd.cluster.local';

/** Each leaf also carries a SPIFFE URI (what a SPIRE-mode proxy, ours included, takes as its id). */
export const spiffeIdOf = (name: string): string => `spiffe://cluster.local/ns/bench/sa/${name.split('.')[0]!}`;

export interface BenchLeaf {
  /** DNS SAN: what HAProxy/NGINX/Node verify, and the SNI. */
  readonly name: string;
  /** URI SAN. */
  readonly spiffeId: string;
  readonly leaf: Leaf;
  /** Certificate chain then key, in one file (HAProxy's `crt`). */
  readonly combinedPath: string;
}

export interface BenchPki {
  readonly dir: string;
  readonly ca: Issuer;
  readonly server: BenchLeaf;
  readonly client: BenchLeaf;
  cleanup(): void;
}

/** Makes the CA and both leaves with openssl (ECDSA P-256, serverAuth+clientAuth, DNS SAN = the identity). */
export function makeBenchPki(): BenchPki {
  const pki = new TestPki();
  const ca = pki.root('identity.linkerd.cluster.local');
  const mk = (name: string, file: string): BenchLeaf => {
    const spiffeId = spiffeIdOf(name);
    const leaf = pki.leaf(ca, { dns: [name], uris: [spiffeId], cn: name, keyType: 'ec-p256' });
    const combinedPath = path.join(pki.dir, `${file}.pem`);
    writeFileSync(combinedPath, leaf.chainPem + leaf.keyPem);
    return { name, spiffeId, leaf, combinedPath };
  };
  return { dir: pki.dir, ca, server: mk(SERVER_NAME, 'server'), client: mk(CLIENT_NAME, 'client'), cleanup: () => pki.cleanup() };
}

// Builds the LINKERD2_PROXY_* environment and static credentials a test proxy runs with.
import type { Credentials } from '../../src/identity/types.js';
import { TestPki, type Issuer } from './pki.js';

export const TEST_SERVER_NAME = 'proxy.test.cluster.local';
export const TEST_SPIFFE_ID = 'spiffe://root.linkerd.cluster.local/test-proxy';

/** A minimal valid SPIRE-mode environment with every listener on 127.0.0.1:0. */
export function testProxyEnv(trustAnchorsPem: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '127.0.0.1:0',
    LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:0',
    LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '127.0.0.1:0',
    LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: trustAnchorsPem,
    LINKERD2_PROXY_IDENTITY_SERVER_ID: TEST_SPIFFE_ID,
    LINKERD2_PROXY_IDENTITY_SERVER_NAME: TEST_SERVER_NAME,
    LINKERD2_PROXY_IDENTITY_SPIRE_WORKLOAD_API_ADDRESS: 'unix:///nonexistent/spire.sock',
    LINKERD2_PROXY_DESTINATION_SVC_ADDR: 'localhost:8086',
    LINKERD2_PROXY_POLICY_SVC_ADDR: 'localhost:8090',
    LINKERD2_PROXY_POLICY_WORKLOAD: '{"ns":"test","pod":"test"}',
    LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'all-unauthenticated',
    ...extra,
  };
}

/** A root CA and our leaf (SPIFFE id + DNS server name), as installed Credentials. */
export function testCredentials(pki: TestPki, ca: Issuer = pki.root()): { ca: Issuer; creds: Credentials } {
  const leaf = pki.leaf(ca, { uris: [TEST_SPIFFE_ID], dns: [TEST_SERVER_NAME] });
  const now = Date.now();
  return {
    ca,
    creds: {
      serverId: TEST_SPIFFE_ID,
      serverName: TEST_SERVER_NAME,
      certChainPem: leaf.chainPem,
      keyPem: leaf.keyPem,
      trustAnchorsPem: ca.certPem,
      notBeforeMs: now - 60_000,
      notAfterMs: now + 86_400_000,
      generation: 1,
    },
  };
}

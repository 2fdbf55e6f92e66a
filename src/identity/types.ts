// The proxy's own TLS credentials as every part of the proxy sees them, and the source that provides them.

/** One installed certificate: already verified against the trust anchors and our server id. */
export interface Credentials {
  /** Our TLS identity: a DNS-like name or a spiffe:// URI; present among the leaf's SANs. */
  readonly serverId: string;
  /** The SNI we terminate. */
  readonly serverName: string;
  /** PEM of the leaf followed by any intermediates. */
  readonly certChainPem: string;
  /** PEM (PKCS#8) of the private key matching the leaf. */
  readonly keyPem: string;
  /** PEM bundle of the trust anchors peers must chain to. */
  readonly trustAnchorsPem: string;
  /** Leaf validity, ms since the epoch. */
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** Increases with every installed certificate; part of every pool key. */
  readonly generation: number;
}

/**
 * Where credentials come from (SPIRE Workload API, Linkerd identity, or a static test identity).
 * `current()` is synchronous and cheap; listeners stay closed until `ready()` resolves.
 */
export interface IdentitySource {
  current(): Credentials | undefined;
  /** Resolves with the first installed credentials. */
  ready(): Promise<Credentials>;
  /** Called after each installation (rotation); returns an unsubscribe function. */
  onUpdate(listener: (creds: Credentials) => void): () => void;
  /** Stops background work (streams, timers). Idempotent. */
  close(): void;
}

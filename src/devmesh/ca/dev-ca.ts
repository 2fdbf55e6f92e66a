// The dev control plane's CA: an issuer under the trust anchor that signs server certificates, CSRs and SVIDs.
import type * as pkijs from 'pkijs';
import { derToPem } from '../../identity/x509.js';
import { issueCertificate, parsedCertificate } from './cert-builder.js';
import { generateSigningKey, privateKeyDer, privateKeyPem } from './keys.js';
import type { SigningKey } from './keys.js';
import type { TrustAnchor } from './trust-anchor.js';

/** Linkerd's default issuance lifetime for proxy certificates. */
export const CERTIFY_LIFETIME_MS = 24 * 3_600_000;
/** SPIRE's default X.509-SVID lifetime. */
export const SVID_LIFETIME_MS = 3_600_000;
export const SERVER_CERT_LIFETIME_MS = 24 * 3_600_000;
/** The issuer only lives as long as the process, so a year (at most the anchor's life) is plenty. */
const ISSUER_LIFETIME_MS = 365 * 86_400_000;
/** Backdating, for clocks a little behind ours (Linkerd and SPIRE use 10s). */
const CLOCK_SKEW_MS = 10_000;
export const ISSUER_NAME = 'identity.linkerd.cluster.local';

/** A certificate whose key we generated (server certificates, SVIDs). */
export interface KeyedCertificate {
  /** Leaf first, then the issuer; each DER. */
  readonly chainDer: readonly Buffer[];
  readonly certChainPem: string;
  readonly keyDer: Buffer;
  readonly keyPem: string;
  readonly notAfterMs: number;
}

/** A certificate for a key somebody else holds (Certify). */
export interface SignedCertificate {
  readonly leafDer: Buffer;
  /** DER, the leaf's issuer up to but excluding the trust anchor. */
  readonly intermediatesDer: readonly Buffer[];
  readonly notAfterMs: number;
}

export class DevCa {
  private constructor(
    readonly anchor: TrustAnchor,
    private readonly issuerKey: SigningKey,
    private readonly issuerCert: pkijs.Certificate,
    readonly issuerDer: Buffer,
  ) {}

  /** Mints the issuer (like Linkerd's identity.linkerd.cluster.local intermediate) under `anchor`. */
  static async create(anchor: TrustAnchor, nowMs: number): Promise<DevCa> {
    const key = await generateSigningKey();
    const der = await issueCertificate(
      {
        subject: { cn: ISSUER_NAME },
        publicKeySpki: key.publicSpki,
        ca: { pathLen: 0 },
        notBeforeMs: nowMs - CLOCK_SKEW_MS,
        notAfterMs: Math.min(anchor.notAfterMs, nowMs + ISSUER_LIFETIME_MS),
      },
      { key: anchor.key, cert: anchor.cert },
    );
    return new DevCa(anchor, key, parsedCertificate(der), der);
  }

  get trustAnchorPem(): string {
    return this.anchor.certPem;
  }

  get issuerNotAfterMs(): number {
    return this.issuerCert.notAfter.value.getTime();
  }

  /** A new key and a leaf for it naming `names` (DNS-like names, or spiffe:// URIs). */
  async keyedLeaf(names: { dns?: readonly string[]; uris?: readonly string[]; cn?: string; o?: string }, lifetimeMs: number, nowMs: number): Promise<KeyedCertificate> {
    const key = await generateSigningKey();
    const leafDer = await this.sign(key.publicSpki, names, lifetimeMs, nowMs);
    const chainDer = [leafDer, this.issuerDer];
    return {
      chainDer,
      certChainPem: chainDer.map((d) => derToPem(d)).join(''),
      keyDer: privateKeyDer(key.privateKey),
      keyPem: privateKeyPem(key.privateKey),
      notAfterMs: parsedCertificate(leafDer).notAfter.value.getTime(),
    };
  }

  /** A server certificate for a control-plane component (e.g. linkerd-destination.linkerd.serviceaccount…). */
  serverCertificate(dnsName: string, nowMs: number, lifetimeMs = SERVER_CERT_LIFETIME_MS): Promise<KeyedCertificate> {
    return this.keyedLeaf({ dns: [dnsName], cn: dnsName }, lifetimeMs, nowMs);
  }

  /** An X.509-SVID: the SPIFFE id as the only (URI) SAN. */
  svid(spiffeId: string, nowMs: number, lifetimeMs = SVID_LIFETIME_MS): Promise<KeyedCertificate> {
    return this.keyedLeaf({ uris: [spiffeId], o: 'SPIRE' }, lifetimeMs, nowMs);
  }

  /** Certify: a leaf for the CSR's (already checked) key, naming `identity` as CN and DNS SAN. */
  async certify(publicKeySpki: Uint8Array, identity: string, nowMs: number, lifetimeMs = CERTIFY_LIFETIME_MS): Promise<SignedCertificate> {
    const leafDer = await this.sign(publicKeySpki, { dns: [identity], cn: identity }, lifetimeMs, nowMs);
    return { leafDer, intermediatesDer: [this.issuerDer], notAfterMs: parsedCertificate(leafDer).notAfter.value.getTime() };
  }

  private sign(publicKeySpki: Uint8Array, names: { dns?: readonly string[]; uris?: readonly string[]; cn?: string; o?: string }, lifetimeMs: number, nowMs: number): Promise<Buffer> {
    return issueCertificate(
      {
        subject: { ...(names.cn === undefined ? {} : { cn: names.cn }), ...(names.o === undefined ? {} : { o: names.o }) },
        publicKeySpki,
        ...(names.dns ? { dns: names.dns } : {}),
        ...(names.uris ? { uris: names.uris } : {}),
        notBeforeMs: nowMs - CLOCK_SKEW_MS,
        // A leaf never outlives its issuer.
        notAfterMs: Math.min(this.issuerNotAfterMs, nowMs + lifetimeMs),
      },
      { key: this.issuerKey, cert: this.issuerCert },
    );
  }
}

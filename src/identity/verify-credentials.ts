// Checks a candidate certificate before the proxy installs it: chain, validity, identity and key.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { messageOf } from '../core/errors.js';
import type { Credentials } from './types.js';
import { cryptoEngine } from './crypto-engine.js';
import {
  derToPem, describeSans, namesIdentity, parseCertificate, parseCertificatesPem, spkiDer,
} from './x509.js';
import type { CertificateInfo, SubjectAltName } from './x509.js';

export interface VerifyInput {
  /** Leaf first, then intermediates (not the trust anchor), each DER. */
  readonly chainDer: readonly Uint8Array[];
  /** PKCS#8 DER of the private key. */
  readonly keyDer: Uint8Array;
  readonly serverId: string;
  readonly trustAnchorsPem: string;
  readonly nowMs: number;
}

/** A certificate that passed every check, ready to become `Credentials`. */
export interface VerifiedCertificate {
  readonly certChainPem: string;
  readonly keyPem: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly sans: readonly SubjectAltName[];
}

export type VerifyResult =
  | { readonly ok: true; readonly verified: VerifiedCertificate }
  | { readonly ok: false; readonly reason: string };

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}

/**
 * Verifies, in order: that every certificate and the key parse, that the leaf is valid at `nowMs`,
 * that it names `serverId`, that the key is the leaf's, and that the chain reaches a trust anchor.
 * Never throws; the failure reason is meant for a log line.
 */
export async function verifyCredentials(input: VerifyInput): Promise<VerifyResult> {
  const [leafDer, ...intermediateDers] = input.chainDer;
  if (leafDer === undefined || leafDer.length === 0) return fail('certificate chain is empty');
  if (input.keyDer.length === 0) return fail('private key is empty');

  let chain: CertificateInfo[];
  try {
    chain = [leafDer, ...intermediateDers].map((der) => parseCertificate(der));
  } catch (err) {
    return fail(`certificate could not be parsed: ${messageOf(err)}`);
  }
  const leaf = chain[0] as CertificateInfo;

  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(input.keyDer), format: 'der', type: 'pkcs8' });
  } catch (err) {
    return fail(`private key is not an unencrypted PKCS#8 key: ${messageOf(err)}`);
  }

  if (input.nowMs < leaf.notBeforeMs) {
    return fail(`certificate is not valid before ${new Date(leaf.notBeforeMs).toISOString()}`);
  }
  if (input.nowMs > leaf.notAfterMs) {
    return fail(`certificate expired at ${new Date(leaf.notAfterMs).toISOString()}`);
  }

  if (!namesIdentity(leaf.sans, input.serverId)) {
    return fail(`leaf does not name ${input.serverId}; it names ${describeSans(leaf.sans)}`);
  }

  if (isCa(leaf)) return fail('leaf is a CA certificate, not an end-entity certificate');

  const keySpki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!keySpki.equals(spkiDer(leaf.der))) return fail('private key does not match the certificate');

  const chained = await chainsToAnchors(chain, input.trustAnchorsPem, input.nowMs);
  if (chained !== undefined) return fail(chained);

  return {
    ok: true,
    verified: {
      certChainPem: chain.map((c) => derToPem(c.der)).join(''),
      keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
      notBeforeMs: leaf.notBeforeMs,
      notAfterMs: leaf.notAfterMs,
      sans: leaf.sans,
    },
  };
}

const BASIC_CONSTRAINTS_OID = '2.5.29.19';

function isCa(c: CertificateInfo): boolean {
  const ext = c.cert.extensions?.find((e) => e.extnID === BASIC_CONSTRAINTS_OID);
  const parsed: unknown = ext?.parsedValue;
  return parsed instanceof pkijs.BasicConstraints && parsed.cA;
}

/** Undefined when the chain validates; otherwise why not. */
async function chainsToAnchors(chain: readonly CertificateInfo[], anchorsPem: string, nowMs: number): Promise<string | undefined> {
  let anchors: CertificateInfo[];
  try {
    anchors = parseCertificatesPem(anchorsPem);
  } catch (err) {
    return `trust anchors could not be parsed: ${messageOf(err)}`;
  }
  // pkijs takes the last entry of `certs` as the end entity, so the leaf goes last.
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: anchors.map((a) => a.cert),
    certs: [...chain.slice(1), ...chain.slice(0, 1)].map((c) => c.cert),
    checkDate: new Date(nowMs),
  });
  try {
    const result = await engine.verify({}, cryptoEngine());
    if (result.result) return undefined;
    return `certificate does not chain to the trust anchors (${result.resultMessage || 'no path'})`;
  } catch (err) {
    return `certificate does not chain to the trust anchors (${messageOf(err)})`;
  }
}

/** Context the verifier doesn't know: names, anchors and the generation the store assigns. */
export interface CredentialsContext {
  readonly serverId: string;
  readonly serverName: string;
  readonly trustAnchorsPem: string;
  readonly generation: number;
}

export function toCredentials(v: VerifiedCertificate, ctx: CredentialsContext): Credentials {
  return {
    serverId: ctx.serverId,
    serverName: ctx.serverName,
    certChainPem: v.certChainPem,
    keyPem: v.keyPem,
    trustAnchorsPem: ctx.trustAnchorsPem,
    notBeforeMs: v.notBeforeMs,
    notAfterMs: v.notAfterMs,
    generation: ctx.generation,
  };
}

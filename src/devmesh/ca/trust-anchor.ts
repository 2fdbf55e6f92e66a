// The mesh's trust anchor: read from PEM (like the walkthrough's ca.crt/ca.key) or generated once into the state dir.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as pkijs from 'pkijs';
import { ProxyError, errnoOf, messageOf } from '../../core/errors.js';
import { derToPem, parseCertificate, pemToDers } from '../../identity/x509.js';
import type { CertificateInfo } from '../../identity/x509.js';
import { issueCertificate, parsedCertificate } from './cert-builder.js';
import { generateSigningKey, parsePrivateKeyPem, privateKeyPem, signingKeyFrom } from './keys.js';
import type { SigningKey } from './keys.js';

export const TRUST_ANCHOR_CERT_FILE = 'ca.crt';
export const TRUST_ANCHOR_KEY_FILE = 'ca.key';
/** The walkthrough's root name. */
export const DEFAULT_ANCHOR_NAME = 'root.linkerd.cluster.local';
const GENERATED_LIFETIME_MS = 10 * 365 * 86_400_000;

export interface TrustAnchor {
  readonly certPem: string;
  readonly certDer: Buffer;
  readonly cert: pkijs.Certificate;
  readonly key: SigningKey;
  readonly notAfterMs: number;
}

export interface TrustAnchorSource {
  readonly certPem: string;
  readonly keyPem: string;
}

function anchorError(message: string, cause?: unknown): ProxyError {
  return new ProxyError(message, 'devmesh_trust_anchor', 'internal', cause === undefined ? undefined : { cause });
}

const BASIC_CONSTRAINTS_OID = '2.5.29.19';

function isCa(info: CertificateInfo): boolean {
  const ext = info.cert.extensions?.find((e) => e.extnID === BASIC_CONSTRAINTS_OID);
  const parsed = ext?.parsedValue as { cA?: boolean } | undefined;
  return parsed?.cA === true;
}

/** Checks a PEM certificate and key pair: one CA certificate, valid now, and the key is its key. */
export async function trustAnchorFromPem(source: TrustAnchorSource, nowMs: number): Promise<TrustAnchor> {
  const ders = pemToDers(source.certPem);
  if (ders.length !== 1 || ders[0] === undefined) throw anchorError(`the trust anchor PEM must hold exactly one certificate (found ${ders.length})`);
  let info: CertificateInfo;
  try {
    info = parseCertificate(ders[0]);
  } catch (err) {
    throw anchorError(`the trust anchor certificate does not parse: ${messageOf(err)}`, err);
  }
  if (!isCa(info)) throw anchorError('the trust anchor certificate is not a CA (basicConstraints CA:TRUE is missing)');
  if (nowMs > info.notAfterMs) throw anchorError(`the trust anchor expired at ${new Date(info.notAfterMs).toISOString()}`);
  if (nowMs < info.notBeforeMs) throw anchorError(`the trust anchor is not valid before ${new Date(info.notBeforeMs).toISOString()}`);
  const key = await signingKeyFrom(parsePrivateKeyPem(source.keyPem, 'the trust anchor key'));
  const certSpki = Buffer.from(info.cert.subjectPublicKeyInfo.toSchema().toBER(false));
  if (!certSpki.equals(key.publicSpki)) throw anchorError('the trust anchor key does not belong to the trust anchor certificate');
  return { certPem: derToPem(info.der), certDer: info.der, cert: info.cert, key, notAfterMs: info.notAfterMs };
}

/** A new self-signed ECDSA P-256 root, valid ten years (what `step certificate create --profile root-ca` makes). */
export async function generateTrustAnchor(nowMs: number): Promise<{ anchor: TrustAnchor; keyPem: string }> {
  const key = await generateSigningKey();
  const der = await issueCertificate(
    { subject: { cn: DEFAULT_ANCHOR_NAME }, publicKeySpki: key.publicSpki, ca: { pathLen: 1 }, notBeforeMs: nowMs - 60_000, notAfterMs: nowMs + GENERATED_LIFETIME_MS },
    { key },
  );
  const cert = parsedCertificate(der);
  return {
    anchor: { certPem: derToPem(der), certDer: der, cert, key, notAfterMs: cert.notAfter.value.getTime() },
    keyPem: privateKeyPem(key.privateKey),
  };
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw anchorError(`cannot read ${file}: ${messageOf(err)}`, err);
  }
}

/** Reads a certificate and key file pair. */
export async function trustAnchorFromFiles(certFile: string, keyFile: string, nowMs: number): Promise<TrustAnchor> {
  const certPem = await readIfPresent(certFile);
  if (certPem === undefined) throw anchorError(`trust anchor certificate ${certFile} does not exist`);
  const keyPem = await readIfPresent(keyFile);
  if (keyPem === undefined) throw anchorError(`trust anchor key ${keyFile} does not exist`);
  return trustAnchorFromPem({ certPem, keyPem }, nowMs);
}

/**
 * The state dir's ca.crt/ca.key, created on first use, so that proxies keep trusting the control
 * plane across restarts. `created` says whether this call generated them.
 */
export async function loadOrCreateTrustAnchor(stateDir: string, nowMs: number): Promise<{ anchor: TrustAnchor; created: boolean }> {
  const certFile = path.join(stateDir, TRUST_ANCHOR_CERT_FILE);
  const keyFile = path.join(stateDir, TRUST_ANCHOR_KEY_FILE);
  const [certPem, keyPem] = [await readIfPresent(certFile), await readIfPresent(keyFile)];
  if (certPem !== undefined && keyPem !== undefined) return { anchor: await trustAnchorFromPem({ certPem, keyPem }, nowMs), created: false };
  if (certPem !== undefined || keyPem !== undefined) {
    throw anchorError(`${stateDir} holds only one of ${TRUST_ANCHOR_CERT_FILE} and ${TRUST_ANCHOR_KEY_FILE}; remove it or restore the other`);
  }
  const { anchor, keyPem: newKeyPem } = await generateTrustAnchor(nowMs);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFile(keyFile, newKeyPem, { mode: 0o600, flag: 'wx' });
  await chmod(keyFile, 0o600);
  await writeFile(certFile, anchor.certPem, { mode: 0o644, flag: 'wx' });
  return { anchor, created: true };
}

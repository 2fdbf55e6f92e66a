// Signing keys of the dev CA: fresh ECDSA P-256 keys, keys read from PEM, and their WebCrypto handles for pkijs.
import { createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCb, webcrypto } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { ProxyError, messageOf } from '../../core/errors.js';

const generateKeyPair = promisify(generateKeyPairCb);

type WebCryptoKey = Awaited<ReturnType<typeof webcrypto.subtle.importKey>>;

/** A private key ready to sign certificates with pkijs. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  /** SubjectPublicKeyInfo DER of the matching public key. */
  readonly publicSpki: Buffer;
  readonly webKey: WebCryptoKey;
  /** The digest that goes with the curve (P-256 → SHA-256, P-384 → SHA-384). */
  readonly hash: 'SHA-256' | 'SHA-384';
}

const CURVES: Readonly<Record<string, { webName: 'P-256' | 'P-384'; hash: SigningKey['hash'] }>> = {
  prime256v1: { webName: 'P-256', hash: 'SHA-256' },
  secp384r1: { webName: 'P-384', hash: 'SHA-384' },
};

function keyError(message: string, cause?: unknown): ProxyError {
  return new ProxyError(message, 'devmesh_ca_key', 'internal', cause === undefined ? undefined : { cause });
}

/** Wraps an ECDSA private key (P-256 or P-384) for signing. */
export async function signingKeyFrom(privateKey: KeyObject): Promise<SigningKey> {
  if (privateKey.asymmetricKeyType !== 'ec') {
    throw keyError(`the CA key is ${privateKey.asymmetricKeyType ?? 'not an asymmetric key'}; an ECDSA P-256 (or P-384) key is needed`);
  }
  const curveName = privateKey.asymmetricKeyDetails?.namedCurve ?? '';
  const curve = CURVES[curveName];
  if (curve === undefined) throw keyError(`the CA key uses curve ${curveName || 'unknown'}; P-256 or P-384 is needed`);
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const webKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: curve.webName }, false, ['sign']);
  const publicSpki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { privateKey, publicSpki, webKey, hash: curve.hash };
}

/** A new ECDSA P-256 key: the only kind the proxy presents as its own certificate. */
export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('ec', { namedCurve: 'prime256v1' });
  return signingKeyFrom(privateKey);
}

/** Reads a PEM private key (PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`, unencrypted). */
export function parsePrivateKeyPem(pem: string, what: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw keyError(`${what} is not an unencrypted PEM private key: ${messageOf(err)}`, err);
  }
}

/** PKCS#8 PEM of a key, as written to key files. */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** PKCS#8 DER of a key, as the Workload API sends it. */
export function privateKeyDer(key: KeyObject): Buffer {
  return key.export({ type: 'pkcs8', format: 'der' });
}

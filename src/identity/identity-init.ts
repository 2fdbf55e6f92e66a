// `identity init`: makes the ECDSA P-256 key (key.p8) and the DER CSR (csr.der) Linkerd mode sends.
import { generateKeyPair as generateKeyPairCb, webcrypto } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { ProxyError } from '../core/errors.js';
import { cryptoEngine } from './crypto-engine.js';
import { CSR_FILE, KEY_FILE } from './linkerd-identity.js';

const generateKeyPair = promisify(generateKeyPairCb);

const OID_COMMON_NAME = '2.5.4.3';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const GENERAL_NAME_DNS = 2;

export interface IdentityInitOptions {
  /** The local identity, e.g. web.default.serviceaccount.identity.linkerd.cluster.local */
  readonly name: string;
  readonly dir: string;
  /** Replace key.p8/csr.der if they exist. */
  readonly force?: boolean;
}

export interface IdentityInitResult {
  readonly keyPath: string;
  readonly csrPath: string;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Writes a fresh key (PKCS#8 DER, mode 0600) and a CSR for `name` into `dir`. */
export async function identityInit(opts: IdentityInitOptions): Promise<IdentityInitResult> {
  if (opts.name.length === 0) throw new ProxyError('identity name must not be empty', 'identity_init');
  const keyPath = path.join(opts.dir, KEY_FILE);
  const csrPath = path.join(opts.dir, CSR_FILE);
  if (!opts.force) {
    for (const p of [keyPath, csrPath]) {
      if (await exists(p)) throw new ProxyError(`${p} already exists; refusing to overwrite it (use --force)`, 'identity_init');
    }
  }
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });

  const { privateKey, publicKey } = await generateKeyPair('ec', { namedCurve: 'prime256v1' });
  const keyDer = privateKey.export({ type: 'pkcs8', format: 'der' });
  const csrDer = await buildCsr(opts.name, privateKey, publicKey);

  const flag = opts.force ? 'w' : 'wx';
  await writeFile(keyPath, keyDer, { mode: 0o600, flag });
  // An overwritten file keeps its old mode, so set it explicitly.
  await chmod(keyPath, 0o600);
  await writeFile(csrPath, csrDer, { mode: 0o644, flag });
  return { keyPath, csrPath };
}

/** A PKCS#10 request, DER: CN = name and exactly one DNS SAN = name, signed ECDSA-SHA256. */
export async function buildCsr(name: string, privateKey: KeyObject, publicKey: KeyObject): Promise<Buffer> {
  const engine = cryptoEngine();
  const csr = new pkijs.CertificationRequest();
  csr.version = 0;
  csr.subject.typesAndValues.push(new pkijs.AttributeTypeAndValue({
    type: OID_COMMON_NAME,
    value: new asn1js.Utf8String({ value: name }),
  }));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  csr.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(spki);

  const sans = new pkijs.GeneralNames({ names: [new pkijs.GeneralName({ type: GENERAL_NAME_DNS, value: name })] });
  const extensions = new pkijs.Extensions({
    extensions: [new pkijs.Extension({
      extnID: OID_SUBJECT_ALT_NAME,
      critical: false,
      extnValue: sans.toSchema().toBER(false),
    })],
  });
  csr.attributes = [new pkijs.Attribute({ type: OID_EXTENSION_REQUEST, values: [extensions.toSchema()] })];

  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    privateKey.export({ type: 'pkcs8', format: 'der' }),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  await csr.sign(signingKey, 'SHA-256', engine);
  return Buffer.from(csr.toSchema().toBER(false));
}

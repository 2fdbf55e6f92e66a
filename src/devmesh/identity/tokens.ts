// Per-ServiceAccount tokens the dev control plane issues (files under the state dir) and checks in Certify.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ProxyError, errnoOf } from '../../core/errors.js';
import type { MeshSettings } from '../model/types.js';

/** Kubernetes object names: DNS-1123 labels for namespaces, subdomains (dots allowed) for service accounts. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** `<sa>.<ns>.serviceaccount.identity.<cp-ns>.<trust-domain>`, the identity a token proves. */
export function serviceAccountIdentity(ns: string, sa: string, settings: Pick<MeshSettings, 'controlPlaneNamespace' | 'identityTrustDomain'>): string {
  return `${sa}.${ns}.serviceaccount.identity.${settings.controlPlaneNamespace}.${settings.identityTrustDomain}`;
}

function checkNames(ns: string, sa: string): void {
  if (!NAMESPACE.test(ns)) throw new ProxyError(`'${ns}' is not a valid namespace name`, 'devmesh_token');
  if (!SUBDOMAIN.test(sa) || sa.includes('..')) throw new ProxyError(`'${sa}' is not a valid service account name`, 'devmesh_token');
}

/**
 * Tokens live in `<dir>/<namespace>/<serviceaccount>`, one random secret each, created on first
 * use and kept across restarts. They play the part of Kubernetes' projected service-account
 * tokens: whoever can read the file can be certified as that ServiceAccount.
 */
export class TokenStore {
  constructor(readonly dir: string, private readonly settings: () => Pick<MeshSettings, 'controlPlaneNamespace' | 'identityTrustDomain'>) {}

  /** The token file of `ns/sa`, created with a fresh token (mode 0600) if it does not exist. */
  ensure(ns: string, sa: string): string {
    checkNames(ns, sa);
    const file = path.join(this.dir, ns, sa);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    return file;
  }

  /** The token of `ns/sa` (creating it if needed). */
  read(ns: string, sa: string): string {
    return readFileSync(this.ensure(ns, sa), 'utf8').trim();
  }

  /** The identity whose token this is, or undefined when it is nobody's. Files are re-read each time. */
  async identityOf(token: Uint8Array): Promise<string | undefined> {
    const presented = Buffer.from(Buffer.from(token).toString('utf8').trim());
    if (presented.length === 0) return undefined;
    let namespaces: string[];
    try {
      namespaces = await readdir(this.dir);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw err;
    }
    let found: string | undefined;
    for (const ns of namespaces) {
      let accounts: string[];
      try {
        accounts = await readdir(path.join(this.dir, ns));
      } catch {
        continue;
      }
      for (const sa of accounts) {
        let stored: Buffer;
        try {
          stored = Buffer.from((await readFile(path.join(this.dir, ns, sa), 'utf8')).trim());
        } catch {
          continue;
        }
        // Compare every file, in constant time per comparison, so timing says nothing about which matched.
        if (stored.length === presented.length && timingSafeEqual(stored, presented) && found === undefined) {
          found = serviceAccountIdentity(ns, sa, this.settings());
        }
      }
    }
    return found;
  }
}

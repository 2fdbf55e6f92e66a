// The key and CSR a pod's proxy sends to Certify, made once per pod under the state dir (the injector's init step).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CSR_FILE, KEY_FILE } from '../../identity/linkerd-identity.js';
import { identityInit } from '../../identity/identity-init.js';
import { parseCsr } from '../ca/csr.js';

async function currentName(dir: string): Promise<string | undefined> {
  try {
    const key = await stat(path.join(dir, KEY_FILE));
    if (key.size === 0) return undefined;
    const csr = await parseCsr(await readFile(path.join(dir, CSR_FILE)));
    return csr.dnsNames.length === 1 ? csr.dnsNames[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Makes `dir/key.p8` and `dir/csr.der` for `name` unless they are already there for that name; true if it wrote them. */
export async function ensureIdentityDocs(dir: string, name: string): Promise<boolean> {
  if ((await currentName(dir)) === name) return false;
  await identityInit({ name, dir, force: true });
  return true;
}

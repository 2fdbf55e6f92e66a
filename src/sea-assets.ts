// Files embedded in the single-file binary (node:sea assets): schemas, build facts, the koffi addon.
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import type * as Sea from 'node:sea';

let seaModule: typeof Sea | null | undefined;

function sea(): typeof Sea | null {
  if (seaModule === undefined) {
    try {
      const mod = createRequire(import.meta.url)('node:sea') as typeof Sea;
      seaModule = mod.isSea() ? mod : null;
    } catch {
      // Node before 20.12 has no node:sea, and so cannot be running as a single executable.
      seaModule = null;
    }
  }
  return seaModule;
}

/** True when running as the single-file binary built by scripts/build-binary.mjs. */
export function isSingleExecutable(): boolean {
  return sea() !== null;
}

/** The bytes of an embedded asset, or undefined (not a single executable, or no such asset). */
export function embeddedBytes(key: string): Buffer | undefined {
  const s = sea();
  if (s === null) return undefined;
  try {
    return Buffer.from(s.getAsset(key));
  } catch {
    return undefined;
  }
}

/** An embedded asset as UTF-8 text, or undefined. */
export function embeddedText(key: string): string | undefined {
  return embeddedBytes(key)?.toString('utf8');
}

/** Only we may have written it: our own, not a symlink, and writable by nobody else. */
function ownedPrivately(p: string, uid: number, kind: 'dir' | 'file'): boolean {
  const st = lstatSync(p);
  const rightKind = kind === 'dir' ? st.isDirectory() : st.isFile();
  return rightKind && st.uid === uid && (st.mode & 0o022) === 0;
}

/**
 * Directories a native addon may be unpacked to, most preferred first: systemd's
 * CacheDirectory= for the unit (only if it already exists), the user's cache, then a per-uid
 * folder in the temp dir.
 */
function cacheDirs(uid: number): { dir: string; create: boolean }[] {
  return [
    { dir: '/var/cache/linkerd2-proxy-ts', create: false },
    { dir: path.join(homedir(), '.cache', 'linkerd2-proxy-ts'), create: true },
    { dir: path.join(tmpdir(), `linkerd2-proxy-ts-${uid}`), create: true },
  ];
}

function unpack(dir: string, create: boolean, uid: number, name: string, bytes: Buffer, digest: string): string {
  if (create) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (st.isDirectory() && st.uid === uid && (st.mode & 0o022) !== 0) chmodSync(dir, 0o700);
  }
  if (!ownedPrivately(dir, uid, 'dir')) throw new Error(`${dir} is not a private directory of uid ${uid}`);
  const file = path.join(dir, `${name}-${digest.slice(0, 16)}.node`);
  try {
    if (ownedPrivately(file, uid, 'file') && createHash('sha256').update(readFileSync(file)).digest('hex') === digest) return file;
  } catch {
    // not unpacked yet
  }
  // Write-then-rename, so a concurrent start never loads a half-written library.
  const partial = `${file}.${process.pid}.partial`;
  rmSync(partial, { force: true });
  try {
    writeFileSync(partial, bytes, { mode: 0o500 });
    renameSync(partial, file);
  } finally {
    rmSync(partial, { force: true });
  }
  return file;
}

/**
 * Loads a native addon embedded as asset `key` (a .node file): unpacked once to a private cache
 * folder under a name keyed by its content hash, then dlopen'ed. Undefined when not running as
 * a single executable or the asset is absent; throws if no folder could hold and load it.
 */
export function loadEmbeddedAddon(key: string): unknown {
  const bytes = embeddedBytes(key);
  if (bytes === undefined) return undefined;
  const digest = createHash('sha256').update(bytes).digest('hex');
  const uid = process.getuid?.() ?? 0;
  const name = path.basename(key, '.node');
  const failures: string[] = [];
  for (const { dir, create } of cacheDirs(uid)) {
    try {
      const file = unpack(dir, create, uid, name, bytes, digest);
      const mod = { exports: {} as unknown };
      process.dlopen(mod, file);
      return mod.exports;
    } catch (err) {
      failures.push(`${dir}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`cannot unpack the embedded ${key} (${failures.join('; ')})`);
}

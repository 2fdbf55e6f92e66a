// The proxy's version and build facts, reported by --version and proxy_build_info.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

function findPackageVersion(): string {
  // Works from src/ (ts) and dist/src/ (compiled): walk up to the package.json that names us.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'linkerd2-proxy-ts' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here; keep walking up
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

export const VERSION = findPackageVersion();

export interface BuildFacts {
  readonly version: string;
  readonly gitSha: string;
  readonly profile: string;
  readonly vendor: string;
  readonly date: string;
}

export const BUILD_INFO: BuildFacts = Object.freeze({
  version: VERSION,
  gitSha: '',
  profile: 'release',
  vendor: 'linkerd2-proxy-ts',
  date: '',
});

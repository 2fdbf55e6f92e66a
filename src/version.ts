// The proxy's version and build facts, reported by --version and proxy_build_info.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { embeddedText } from './sea-assets.js';

export interface BuildFacts {
  readonly version: string;
  readonly gitSha: string;
  readonly profile: string;
  readonly vendor: string;
  readonly date: string;
}

/** The fields of build-info.json, written by scripts/build-info.mjs at build time. */
type BuildInfoFile = Partial<Record<keyof BuildFacts, unknown>>;

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Works from src/ (ts) and dist/src/ (compiled): walk up to the package.json that names us. */
function findPackage(here: string): { root: string; version: string } | undefined {
  let dir = here;
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'linkerd2-proxy-ts' && typeof pkg.version === 'string') return { root: dir, version: pkg.version };
    } catch {
      // not here; keep walking up
    }
    dir = path.dirname(dir);
  }
  return undefined;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * HEAD's commit of the checkout at `root`, read from .git itself (no subprocess, and no
 * "dubious ownership" refusal when another uid runs the proxy from the checkout); `git rev-parse`
 * only for layouts this doesn't know (e.g. reftable). '' when `root` is not a checkout.
 */
export function checkoutCommit(root: string): string {
  const dotGit = path.join(root, '.git');
  if (!existsSync(dotGit)) return '';
  try {
    let gitDir = dotGit;
    if (statSync(dotGit).isFile()) {
      // A worktree or submodule: `.git` is a file pointing at the real git dir.
      const pointer = /^gitdir:\s*(.+)$/m.exec(readText(dotGit) ?? '')?.[1];
      if (pointer !== undefined) gitDir = path.resolve(root, pointer.trim());
    }
    const head = readText(path.join(gitDir, 'HEAD')) ?? '';
    if (SHA.test(head)) return head;
    const ref = /^ref:\s*(\S+)$/.exec(head)?.[1];
    if (ref !== undefined) {
      const common = readText(path.join(gitDir, 'commondir'));
      const commonDir = common === undefined ? gitDir : path.resolve(gitDir, common);
      for (const dir of [gitDir, commonDir]) {
        const loose = readText(path.join(dir, ref));
        if (loose !== undefined && SHA.test(loose)) return loose;
      }
      for (const line of (readText(path.join(commonDir, 'packed-refs')) ?? '').split('\n')) {
        const [sha, name] = line.split(' ');
        if (name === ref && sha !== undefined && SHA.test(sha)) return sha;
      }
    }
  } catch {
    // fall through to git itself
  }
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim();
    return SHA.test(out) ? out : '';
  } catch {
    return '';
  }
}

function parseBuildInfo(text: string | undefined): BuildInfoFile | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Where the facts come from, first found wins: the single-file binary's embedded build-info.json;
 * a git checkout's HEAD (so a dev build never reports a stale commit); build-info.json next to
 * the compiled module (container images, which carry no .git); else just package.json's version.
 */
function resolveBuildFacts(): BuildFacts {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const embedded = parseBuildInfo(embeddedText('build-info.json'));
  const pkg = embedded === undefined ? findPackage(here) : undefined;
  const fromCheckout = pkg === undefined ? '' : checkoutCommit(pkg.root);
  const file = embedded ?? (fromCheckout === '' ? parseBuildInfo(readText(path.join(here, 'build-info.json'))) : undefined);
  return {
    version: str(file?.version) ?? pkg?.version ?? '0.0.0',
    gitSha: fromCheckout || (str(file?.gitSha) ?? ''),
    profile: str(file?.profile) ?? 'release',
    vendor: str(file?.vendor) ?? 'linkerd2-proxy-ts',
    date: str(file?.date) ?? '',
  };
}

export const BUILD_INFO: BuildFacts = Object.freeze(resolveBuildFacts());

export const VERSION = BUILD_INFO.version;

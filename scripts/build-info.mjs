#!/usr/bin/env node
// Build facts (version, commit, date) as build-info.json, read by src/version.ts at run time.
//
//   node scripts/build-info.mjs [--out FILE]     default: dist/src/build-info.json
//
// The commit is GIT_SHA from the environment when set (a container build has no .git; pass
// `--build-arg GIT_SHA=$(git rev-parse HEAD)`), else `git rev-parse HEAD`, else empty. The date
// is SOURCE_DATE_EPOCH (seconds) when set, for reproducible builds, else now.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root (this script's parent folder). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * @typedef {{ version: string, gitSha: string, profile: string, vendor: string, date: string }} BuildInfo
 */

/**
 * @param {string} file
 * @returns {unknown}
 */
export function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** @param {string} root */
function gitSha(root) {
  const fromEnv = (process.env.GIT_SHA ?? '').trim();
  if (fromEnv !== '') {
    if (!SHA.test(fromEnv)) throw new Error(`GIT_SHA must be a full commit id, got ${JSON.stringify(fromEnv)}`);
    return fromEnv;
  }
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return SHA.test(out) ? out : '';
  } catch {
    return '';
  }
}

function buildDate() {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString();
  return new Date().toISOString();
}

/**
 * The facts for the tree at `root`.
 * @param {string} [root]
 * @returns {BuildInfo}
 */
export function buildInfo(root = ROOT) {
  const pkg = readJson(path.join(root, 'package.json'));
  const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  if (typeof version !== 'string') throw new Error(`${root}/package.json has no version`);
  return { version, gitSha: gitSha(root), profile: 'release', vendor: 'linkerd2-proxy-ts', date: buildDate() };
}

/**
 * Writes build-info.json to `out`.
 * @param {string} out
 * @param {string} [root]
 * @returns {BuildInfo}
 */
export function writeBuildInfo(out, root = ROOT) {
  const info = buildInfo(root);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

const invoked = process.argv[1];
if (invoked !== undefined && import.meta.url === pathToFileURL(path.resolve(invoked)).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  const outArg = at >= 0 ? args[at + 1] : undefined;
  const out = path.resolve(outArg ?? path.join(ROOT, 'dist/src/build-info.json'));
  const info = writeBuildInfo(out);
  process.stdout.write(`wrote ${path.relative(process.cwd(), out)}: ${info.version} ${info.gitSha || '(no commit)'}\n`);
}

// --version and proxy_build_info carry the commit: from .git in a checkout, from build-info.json when built.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMetrics } from '../../src/metrics/registry.js';
import { BUILD_INFO, VERSION, checkoutCommit } from '../../src/version.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: cwd, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  }).trim();
}

let head = '';
try {
  head = git(ROOT, 'rev-parse', 'HEAD');
} catch {
  // not a checkout (e.g. an unpacked tarball): the checkout tests skip
}
const skip = head === '' ? 'not running from a git checkout' : false;

t.test('--version of the compiled CLI prints the checkout commit', { skip }, async (t) => {
  const out = execFileSync(process.execPath, [MAIN, '--version'], { encoding: 'utf8' });
  t.equal(out, `linkerd2-proxy-ts ${VERSION} (${head})\n`);
});

t.test('BUILD_INFO and proxy_build_info carry version and commit', { skip }, async (t) => {
  t.match(BUILD_INFO, { version: VERSION, gitSha: head, vendor: 'linkerd2-proxy-ts' });
  const text = await createMetrics({ buildInfo: BUILD_INFO, processMetrics: false }).render();
  t.match(text, new RegExp(`^proxy_build_info\\{date="[^"]*",git_sha="${head}",profile="release",vendor="linkerd2-proxy-ts",version="${VERSION.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
});

t.test('checkoutCommit reads HEAD however git stores it', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-git-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const repo = path.join(dir, 'repo');
  t.equal(checkoutCommit(dir), '', 'no .git: no commit');
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  t.equal(checkoutCommit(repo), '', 'no commit yet');
  writeFileSync(path.join(repo, 'f'), '1');
  git(repo, 'add', 'f');
  git(repo, 'commit', '-q', '-m', 'one');
  const first = git(repo, 'rev-parse', 'HEAD');
  t.equal(checkoutCommit(repo), first, 'a loose branch ref');
  git(repo, 'pack-refs', '--all');
  t.equal(checkoutCommit(repo), first, 'a packed ref');
  writeFileSync(path.join(repo, 'f'), '2');
  git(repo, 'commit', '-q', '-am', 'two');
  const second = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'checkout', '-q', '--detach', first);
  t.equal(checkoutCommit(repo), first, 'a detached HEAD');
  git(repo, 'worktree', 'add', '-q', path.join(dir, 'wt'), 'main');
  t.equal(checkoutCommit(path.join(dir, 'wt')), second, 'a worktree (.git is a file)');
});

t.test('scripts/build-info.mjs: GIT_SHA wins, is checked, SOURCE_DATE_EPOCH sets the date', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-build-info-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'build-info.json');
  const sha = 'a'.repeat(40);
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-info.mjs'), '--out', out], { env: { ...process.env, GIT_SHA: sha, SOURCE_DATE_EPOCH: '1700000000' }, stdio: 'ignore' });
  t.same(JSON.parse(readFileSync(out, 'utf8')), { version: VERSION, gitSha: sha, profile: 'release', vendor: 'linkerd2-proxy-ts', date: '2023-11-14T22:13:20.000Z' });
  t.throws(() => execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-info.mjs'), '--out', out], { env: { ...process.env, GIT_SHA: 'main' }, stdio: 'pipe' }), /GIT_SHA must be a full commit id/);
});

#!/usr/bin/env node
// `npm run build:binary`: the proxy and every subcommand as one self-contained executable, a Node
// single executable application (SEA) at dist/bin/linkerd2-proxy-ts.
//
//   1. bundle src/main.ts and its dependencies into one CommonJS file (esbuild-wasm: no native
//      download at install time);
//   2. a SEA blob of that bundle plus assets: our .proto schemas, build-info.json and koffi's
//      prebuilt addon for this platform (src/sea-assets.ts reads them back);
//   3. a copy of this node binary (symbols stripped when `strip` exists) with the blob
//      injected by postject.
//
// The result runs on machines of the same OS/CPU/libc as the build machine, without Node or
// node_modules. Options: --out FILE (default dist/bin/linkerd2-proxy-ts), --no-strip, and
// --keep-work (leave the bundle and blob in .sea-build/ beside FILE).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import * as esbuild from 'esbuild-wasm';
import { ROOT, readJson, writeBuildInfo } from './build-info.mjs';

/** The fuse string Node looks for to know a blob was injected (fixed by Node's SEA support). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const require = createRequire(import.meta.url);

/** @param {string} what @param {() => unknown} step */
async function timed(what, step) {
  const started = Date.now();
  await step();
  process.stdout.write(`  ${what} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
}

/**
 * Runs a tool quietly (postject's ELF library is chatty), showing its output only if it fails.
 * @param {string} cmd @param {string[]} args
 */
function run(cmd, args) {
  try {
    execFileSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const e = /** @type {{ stdout?: string, stderr?: string, message: string }} */ (err);
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** @param {string} cmd */
function hasCommand(cmd) {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The koffi.node that koffi itself picks for this node (platform, CPU and libc). */
function koffiAddon() {
  require('koffi');
  const loaded = Object.keys(require.cache).find((f) => f.endsWith(`${path.sep}koffi.node`));
  if (loaded === undefined) throw new Error('koffi loaded no koffi.node addon');
  return loaded;
}

/**
 * The package folder and license text of every node_modules package in the bundle.
 * @param {string[]} inputs
 */
function thirdPartyNotices(inputs) {
  /** @type {Map<string, string>} */
  const dirs = new Map();
  for (const input of inputs) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m?.[1] !== undefined) dirs.set(m[1], m[1]);
  }
  const sections = [];
  for (const dir of [...dirs.keys()].sort()) {
    const abs = path.join(ROOT, dir);
    const pkg = readJson(path.join(abs, 'package.json'));
    const field = (/** @type {string} */ k) =>
      typeof pkg === 'object' && pkg !== null && k in pkg ? String(/** @type {Record<string, unknown>} */ (pkg)[k]) : '?';
    const licenseFile = readdirSync(abs).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = licenseFile === undefined ? '(no license file in the package)' : readFileSync(path.join(abs, licenseFile), 'utf8').trim();
    sections.push(`${field('name')}@${field('version')} (${field('license')})\n\n${text}\n`);
  }
  return sections;
}

/** Node.js itself (the executable is a copy of it): its LICENSE where the installation has one. */
function nodeNotice() {
  const prefix = path.dirname(path.dirname(process.execPath));
  const candidates = [path.join(prefix, 'share/doc/nodejs/LICENSE'), path.join(prefix, 'share/doc/node/LICENSE'), path.join(prefix, 'LICENSE')];
  const found = candidates.find((f) => existsSync(f));
  const text = found === undefined ? 'See the LICENSE file of the Node.js release.' : readFileSync(found, 'utf8').trim();
  return `Node.js ${process.version} (MIT and bundled licenses)\n\n${text}\n`;
}

async function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  const outArg = at >= 0 ? args[at + 1] : undefined;
  const out = path.resolve(outArg ?? path.join(ROOT, 'dist/bin/linkerd2-proxy-ts'));
  const strip = !args.includes('--no-strip') && hasCommand('strip');
  const work = path.join(path.dirname(out), '.sea-build');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const started = Date.now();
  process.stdout.write(`building ${path.relative(process.cwd(), out)} with node ${process.version}\n`);

  const bundle = path.join(work, 'main.cjs');
  /** @type {string[]} */
  let inputs = [];
  await timed('bundled src/main.ts (esbuild-wasm)', async () => {
    const result = await esbuild.build({
      entryPoints: [path.join(ROOT, 'src/main.ts')],
      absWorkingDir: ROOT,
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: `node${process.versions.node}`,
      // Our ESM reads import.meta.url; in the bundle each module sees the executable's own path.
      define: { 'import.meta.url': '__seaImportMetaUrl' },
      // A SEA's main script has no ESM loader: every import() (of builtins like node:sea) becomes require().
      supported: { 'dynamic-import': false },
      banner: { js: 'var __seaImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
      legalComments: 'eof',
      metafile: true,
      logLevel: 'warning',
    });
    inputs = Object.keys(result.metafile.inputs);
  });

  const info = writeBuildInfo(path.join(work, 'build-info.json'));
  const koffi = koffiAddon();
  /** @type {Record<string, string>} */
  const assets = { 'build-info.json': path.join(work, 'build-info.json'), 'koffi.node': koffi };
  const protoDir = path.join(ROOT, 'src/proto');
  for (const f of readdirSync(protoDir).filter((n) => n.endsWith('.proto'))) assets[`proto/${f}`] = path.join(protoDir, f);
  const notices = path.join(path.dirname(out), `${path.basename(out)}.THIRD-PARTY-NOTICES.txt`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(notices, `Third-party software in ${path.basename(out)}:\n\n${[nodeNotice(), ...thirdPartyNotices([...inputs, path.relative(ROOT, koffi)])].join('\n---\n\n')}`);

  const blob = path.join(work, 'sea.blob');
  const seaConfig = path.join(work, 'sea-config.json');
  writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets }, null, 2));
  await timed(`SEA blob with ${Object.keys(assets).length} assets`, () => run(process.execPath, ['--experimental-sea-config', seaConfig]));

  const exe = path.join(work, 'node');
  await timed(strip ? 'copied node, symbols stripped' : 'copied node', () => {
    if (strip) run('strip', ['-o', exe, process.execPath]);
    else copyFileSync(process.execPath, exe);
    chmodSync(exe, 0o755);
  });
  if (!readFileSync(exe).includes(`${SEA_FUSE}:0`)) {
    throw new Error(`${process.execPath} has no single-executable fuse (an unofficial Node build?); build with an official Node 20.12+ binary`);
  }
  await timed('injected the blob (postject)', () =>
    run(process.execPath, [require.resolve('postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]),
  );
  rmSync(out, { force: true });
  copyFileSync(exe, out);
  chmodSync(out, 0o755);
  if (!args.includes('--keep-work')) rmSync(work, { recursive: true, force: true });
  const mb = (statSync(out).size / 1024 / 1024).toFixed(1);
  process.stdout.write(`built ${path.relative(process.cwd(), out)}: ${info.version} ${info.gitSha || '(no commit)'}, ${mb} MiB, ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
}

main().catch((/** @type {unknown} */ err) => {
  process.stderr.write(`build-binary: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

// The Dockerfile without a Docker engine: linted, then its stages replayed in temp dirs from the
// .dockerignore'd context, and the runtime stage's result inspected and run.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerIgnore, parseAssignments, parseCopy, parseDockerfile, substitute, type Stage } from './binary-dockerfile-model.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dockerfile = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const ignore = new DockerIgnore(readFileSync(path.join(ROOT, '.dockerignore'), 'utf8'));
const runtime = dockerfile.stages[dockerfile.stages.length - 1];
const PORTS = ['4143', '4140', '4191', '4190'];
// npm ci of every dev dependency dominates: ~30 s on a quiet 2-core machine, minutes under load.
t.setTimeout(720_000);

function args(stage: Stage | undefined, keyword: string): string[] {
  return (stage?.instructions ?? []).filter((i) => i.keyword === keyword).map((i) => i.args);
}

t.test('lint: stages, base image, user, entrypoint, ports, npm usage', async (t) => {
  t.ok(dockerfile.stages.length >= 2, 'multi-stage');
  const names = new Set<string>();
  for (const s of dockerfile.stages) {
    t.match(s.image, /^node:20(\.\d+){0,2}-bookworm-slim(@sha256:[0-9a-f]{64})?$/, `FROM ${s.image}: Node 20 on Debian bookworm slim`);
    if (s.name !== undefined) names.add(s.name);
  }
  const user = args(runtime, 'USER').at(-1) ?? '';
  t.match(user, /^[1-9]\d*(:\d+)?$/, `USER ${user}: a numeric non-root uid (Kubernetes runAsNonRoot can check it)`);
  t.match(user, /^2102(:|$)/, 'the Rust proxy image uid, exempted by the capture rules');
  const entrypoint: unknown = JSON.parse(args(runtime, 'ENTRYPOINT').at(-1) ?? 'null');
  t.ok(Array.isArray(entrypoint), 'ENTRYPOINT in exec form (signals reach the proxy, no shell in between)');
  t.equal((entrypoint as string[])[0], 'linkerd2-proxy-ts');
  const exposed = args(runtime, 'EXPOSE').flatMap((a) => a.split(/\s+/)).map((p) => p.replace(/\/tcp$/, ''));
  for (const p of PORTS) t.ok(exposed.includes(p), `EXPOSE ${p}`);

  for (const s of dockerfile.stages) {
    for (const run of args(s, 'RUN')) {
      t.notMatch(run, /\bnpm\s+(install|i|add)\b/, `no npm install (only the lockfile's versions): ${run}`);
      t.notMatch(run, /(^|[\s=])\//, `RUN uses paths relative to WORKDIR, so it can be replayed here: ${run}`);
    }
  }
  const runtimeDepsFrom = [...args(runtime, 'COPY').map(parseCopy)].filter((c) => c.sources.some((s) => /node_modules\/?$/.test(s)));
  const omitDev = (s: Stage | undefined) => args(s, 'RUN').some((r) => /\bnpm ci\b[^&;]*--omit=dev/.test(r));
  t.ok(
    omitDev(runtime) || (runtimeDepsFrom.length > 0 && runtimeDepsFrom.every((c) => omitDev(dockerfile.stages.find((s) => s.name === c.flags.from)))),
    'the runtime node_modules come from `npm ci --omit=dev`',
  );
  for (const c of dockerfile.stages.flatMap((s) => args(s, 'COPY').map(parseCopy))) {
    if (c.flags.from !== undefined) {
      t.ok(names.has(c.flags.from), `COPY --from=${c.flags.from} names an earlier stage`);
      continue;
    }
    for (const src of c.sources) {
      t.ok(existsSync(path.join(ROOT, src)) && !ignore.ignores(src), `COPY ${src}: in the build context`);
    }
  }
});

t.test('lint: .dockerignore keeps the context to what the build needs', async (t) => {
  for (const p of ['node_modules/koffi/index.js', '.git/HEAD', 'dist/src/main.js', 'test/unit/version.test.ts', 'bench/x.ts', '.env']) {
    t.ok(ignore.ignores(p), `${p} stays out`);
  }
  for (const p of ['package.json', 'package-lock.json', 'tsconfig.build.json', 'src/main.ts', 'src/proto/net.proto', 'scripts/build-info.mjs']) {
    t.notOk(ignore.ignores(p), `${p} is sent`);
  }
});

/** Copies the repository into `dest` as `docker build` would send it. */
function copyContext(dest: string, rel = ''): void {
  for (const entry of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
    const r = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      if (ignore.ignores(r) && !ignore.mayReinclude(r)) continue;
      copyContext(dest, r);
    } else if (!ignore.ignores(r)) {
      mkdirSync(path.dirname(path.join(dest, r)), { recursive: true });
      cpSync(path.join(ROOT, r), path.join(dest, r), { preserveTimestamps: true });
    }
  }
}

interface Replayed {
  readonly root: string;
  workdir: string;
  readonly env: Record<string, string>;
  readonly args: Record<string, string>;
}

const inRoot = (s: Replayed, p: string) => path.join(s.root, path.posix.resolve(s.workdir, p));

/** PATH for a RUN: the stage's own entries that exist in its tree, then the host's tools. */
function runPath(s: Replayed): string {
  const own = (s.env.PATH ?? '').split(':').filter((d) => d.startsWith('/') && existsSync(path.join(s.root, d))).map((d) => path.join(s.root, d));
  return [...own, process.env.PATH ?? ''].join(':');
}

function replayStage(stage: Stage, context: string, done: Map<string, Replayed>, buildArgs: Record<string, string>, scratch: string): Replayed {
  const root = mkdtempSync(path.join(scratch, `${stage.name ?? 'stage'}-`));
  const s: Replayed = { root, workdir: '/', env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' }, args: {} };
  for (const ins of stage.instructions) {
    const vars = { ...s.args, ...s.env };
    switch (ins.keyword) {
      case 'WORKDIR':
        s.workdir = path.posix.resolve(s.workdir, substitute(ins.args, vars));
        mkdirSync(path.join(root, s.workdir), { recursive: true });
        break;
      case 'ARG':
        for (const [k, v] of parseAssignments(ins.args)) s.args[k] = buildArgs[k] ?? v ?? '';
        break;
      case 'ENV':
        for (const [k, v] of parseAssignments(ins.args)) s.env[k] = substitute(v ?? '', vars);
        break;
      case 'COPY': {
        const c = parseCopy(ins.args);
        const from = c.flags.from === undefined ? undefined : done.get(c.flags.from);
        if (c.flags.from !== undefined && from === undefined) throw new Error(`line ${ins.line}: no stage ${c.flags.from}`);
        const intoDir = c.dest.endsWith('/') || c.sources.length > 1;
        const dest = inRoot(s, c.dest);
        for (const src of c.sources) {
          const abs = from === undefined ? path.join(context, src) : path.join(from.root, path.posix.resolve('/', src));
          if (!existsSync(abs)) throw new Error(`line ${ins.line}: COPY source ${src} does not exist`);
          const target = statSync(abs).isDirectory() || !intoDir ? dest : path.join(dest, path.basename(src));
          mkdirSync(statSync(abs).isDirectory() ? target : path.dirname(target), { recursive: true });
          cpSync(abs, target, { recursive: true, verbatimSymlinks: true });
        }
        break;
      }
      case 'RUN':
        execFileSync('sh', ['-c', ins.args], {
          cwd: path.join(root, s.workdir),
          env: { ...process.env, ...s.args, ...s.env, PATH: runPath(s), npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 600_000,
        });
        break;
      case 'USER':
      case 'EXPOSE':
      case 'ENTRYPOINT':
      case 'CMD':
      case 'LABEL':
        break;
      default:
        throw new Error(`line ${ins.line}: the replay does not know ${ins.keyword}; teach it (this test) before using it`);
    }
  }
  return s;
}

/** Every package folder under node_modules, as lockfile keys (node_modules/a/node_modules/@s/b). */
function installedPackages(dir: string, prefix = 'node_modules'): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const names = name.startsWith('@') ? readdirSync(path.join(dir, name)).map((n) => `${name}/${n}`) : [name];
    for (const n of names) {
      out.push(`${prefix}/${n}`);
      out.push(...installedPackages(path.join(dir, n, 'node_modules'), `${prefix}/${n}/node_modules`));
    }
  }
  return out;
}

function headCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

const replaySkip = process.versions.node.split('.')[0] === '20' ? false : `the image is Node 20; this host runs Node ${process.version}`;
t.test('replay: the stages build, the runtime has no dev dependencies, the entrypoint runs', { timeout: 660_000, skip: replaySkip }, async (t) => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'l5dts-docker-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const context = path.join(scratch, 'context');
  copyContext(context);
  t.notOk(existsSync(path.join(context, 'node_modules')) || existsSync(path.join(context, '.git')), 'context without node_modules and .git');

  const sha = headCommit();
  const done = new Map<string, Replayed>();
  let last: Replayed | undefined;
  const started = Date.now();
  for (const stage of dockerfile.stages) {
    const at = Date.now();
    last = replayStage(stage, context, done, { GIT_SHA: sha }, scratch);
    if (stage.name !== undefined) done.set(stage.name, last);
    t.comment(`stage ${stage.name ?? '?'} replayed in ${((Date.now() - at) / 1000).toFixed(1)}s`);
  }
  t.comment(`replayed ${dockerfile.stages.length} stages in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  if (last === undefined) throw new Error('no stages');
  const image = last;

  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const installed = installedPackages(path.join(image.root, image.workdir, 'node_modules'));
  t.ok(installed.includes('node_modules/koffi') && installed.includes('node_modules/@grpc/grpc-js'), 'production dependencies installed');
  t.same(installed.filter((p) => lock.packages[p]?.dev === true), [], 'no dev-only package in the runtime node_modules');
  for (const tool of ['typescript', 'tap', 'eslint', 'esbuild-wasm', 'postject']) t.notOk(installed.includes(`node_modules/${tool}`), `${tool} left out`);

  const entry = (JSON.parse(args(runtime, 'ENTRYPOINT').at(-1) ?? '[]') as string[])[0] ?? '';
  const found = (image.env.PATH ?? '').split(':').map((d) => path.join(image.root, d, entry)).find((p) => existsSync(p));
  t.ok(found, `${entry} is on the image's PATH`);
  if (found === undefined) throw new Error(`${entry} not found`);
  t.ok((statSync(found).mode & 0o111) !== 0 && lstatSync(found).isSymbolicLink(), 'an executable link to the compiled CLI');

  // Run it the way the image does: as uid 2102, which must be able to read everything.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) for (let d = image.root; d !== scratch; d = path.dirname(d)) chmodSync(d, 0o755);
  chmodSync(scratch, 0o755);
  // `env -u`: tap's spawn hook adds NODE_OPTIONS, whose reporting uid 2102 may not write.
  const child = spawn('env', ['-u', 'NODE_OPTIONS', found, '--version'], {
    env: { PATH: process.env.PATH ?? '', HOME: '/', NODE_ENV: image.env.NODE_ENV ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asRoot ? { uid: 2102, gid: 2102 } : {}),
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  t.equal(code, 0, `--version exits 0 ${asRoot ? 'as uid 2102' : ''}`);
  t.equal(out, `linkerd2-proxy-ts ${version}${sha === '' ? '' : ` (${sha})`}\n`, 'version and the GIT_SHA build argument');
});

// `npm run build:binary`'s single-file executable, copied alone into an empty folder: the CLI's
// subcommands and a short proxy run (SPIRE identity, admin endpoints, koffi, SIGTERM).
import t, { type Test } from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runIptablesCli } from '../../src/iptables/cli.js';
import { FakeWorkloadApi } from '../support/fake-workload-api.js';
import { eventually } from '../support/netns.js';
import { freePort } from '../support/openssl.js';
import { TestPki } from '../support/pki.js';
import { TEST_SERVER_NAME, TEST_SPIFFE_ID, testProxyEnv } from '../support/proxy-env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
// Building takes ~12 s on a quiet 2-core machine (esbuild-wasm, postject's wasm), minutes under load.
t.setTimeout(600_000);

function headCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

const scratch = mkdtempSync(path.join(tmpdir(), 'l5dts-binary-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
const machine = path.join(scratch, 'machine');
const home = path.join(scratch, 'home');
mkdirSync(machine);
mkdirSync(home);
const BIN = path.join(machine, 'linkerd2-proxy-ts');

interface Run {
  code: Promise<number | null>;
  output: () => string;
  stdout: () => string;
  kill: (sig?: NodeJS.Signals) => void;
}

/**
 * Runs the copied binary as on a bare machine: in the empty folder, a minimal environment, and
 * (`env -u`) without the NODE_OPTIONS tap's spawn hook would add.
 */
function bin(t: Test, args: string[], env: Record<string, string> = {}): Run {
  const child = spawn('env', ['-u', 'NODE_OPTIONS', BIN, ...args], {
    cwd: machine,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { code, output: () => out, stdout: () => stdout, kill: (sig = 'SIGTERM') => child.kill(sig) };
}

t.before(() => {
  const started = Date.now();
  const built = path.join(scratch, 'build', 'linkerd2-proxy-ts');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-binary.mjs'), '--out', built], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 540_000,
  });
  t.comment(`built the binary in ${((Date.now() - started) / 1000).toFixed(1)}s (${(statSync(built).size / 2 ** 20).toFixed(0)} MiB)`);
  copyFileSync(built, BIN);
});

t.test('one file: no node_modules, sources or schemas beside it', async (t) => {
  t.same(readdirSync(machine), ['linkerd2-proxy-ts']);
  t.ok((statSync(BIN).mode & 0o111) !== 0, 'executable');
});

t.test('--version prints the version and the commit it was built from', async (t) => {
  const run = bin(t, ['--version']);
  t.equal(await run.code, 0);
  const sha = headCommit();
  t.equal(run.output(), `linkerd2-proxy-ts ${VERSION}${sha === '' ? '' : ` (${sha})`}\n`);
});

t.test('help lists the subcommands', async (t) => {
  const run = bin(t, ['help']);
  t.equal(await run.code, 0);
  for (const c of ['iptables', 'identity init', 'vm init', 'version']) t.match(run.output(), c);
  const unknown = bin(t, ['frobnicate']);
  t.equal(await unknown.code, 64, 'unknown command: exit 64');
});

t.test('every subcommand --help answers from the binary as from the compiled tree', async (t) => {
  const usage = bin(t, ['help']);
  await usage.code;
  const commands = [...usage.stdout().matchAll(/^ {2}([a-z][a-z-]*)\s/gm)].map((m) => m[1] ?? '').filter((c) => c !== 'version' && c !== 'help');
  t.ok(commands.length >= 4, `found ${commands.join(', ')}`);
  for (const c of commands) {
    const run = bin(t, [c, '--help']);
    const code = await run.code;
    // dist/src/main.js is built by `npm test`'s pretest; the bundled code must behave the same.
    const source = spawnSync(process.execPath, [path.join(ROOT, 'dist/src/main.js'), c, '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    t.equal(code, source.status, `${c} --help: exit ${String(source.status)}, as from source`);
    t.equal(run.output(), source.stdout + source.stderr, `${c} --help: the same text`);
    t.match(run.output(), /usage: linkerd2-proxy-ts /);
  }
});

t.test('iptables print: the walkthrough rules, as the source tree prints them', async (t) => {
  const run = bin(t, ['iptables', 'print', '--proxy-uid', '2102']);
  t.equal(await run.code, 0);
  let expected = '';
  t.equal(await runIptablesCli(['print', '--proxy-uid', '2102'], { stdout: (s) => (expected += s), stderr: () => {} }), 0);
  t.equal(run.stdout(), expected);
  t.match(run.stdout(), /-A PROXY_INIT_REDIRECT -p tcp -j REDIRECT --to-port 4143\n/);
  t.match(run.stdout(), /-A PROXY_INIT_OUTPUT -m owner --uid-owner 2102 -j RETURN\n/);
  t.match(run.stdout(), /-A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-port 4140\n/);
});

t.test('identity init and vm init write their files', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const ca = pki.root();
  const id = bin(t, ['identity', 'init', '--name', 'web.default.serviceaccount.identity.linkerd.cluster.local', '--dir', path.join(scratch, 'identity')]);
  t.equal(await id.code, 0, id.output());
  t.ok(existsSync(path.join(scratch, 'identity', 'csr.der')) && existsSync(path.join(scratch, 'identity', 'key.p8')), 'key and CSR');
  const envFile = path.join(scratch, 'etc', 'env');
  const vm = bin(t, ['vm', 'init', '--trust-anchor', ca.certPath, '--name', 'external-workload', '--namespace', 'mixed-env', '--out', envFile]);
  t.equal(await vm.code, 0, vm.output());
  t.match(readFileSync(envFile, 'utf8'), /^LINKERD2_PROXY_POLICY_WORKLOAD='\{"ns":"mixed-env","external_workload":"external-workload"\}'$/m);
});

t.test('runs the proxy: ready with its SVID, metrics with the build, koffi loaded, SIGTERM exits 0', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const ca = pki.root();
  const leaf = pki.leaf(ca, { uris: [TEST_SPIFFE_ID], dns: [TEST_SERVER_NAME] });
  const spire = await FakeWorkloadApi.start({ initial: { svids: [{ spiffeId: TEST_SPIFFE_ID, x509Svid: leaf.chainDer, x509SvidKey: leaf.keyDer }] } });
  t.teardown(() => spire.close());
  const [admin, outbound] = [await freePort(), await freePort()];
  const run = bin(
    t,
    [],
    testProxyEnv(ca.certPem, {
      LINKERD2_PROXY_ADMIN_LISTEN_ADDR: `127.0.0.1:${admin}`,
      LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: `127.0.0.1:${outbound}`,
      LINKERD2_PROXY_IDENTITY_SPIRE_WORKLOAD_API_ADDRESS: `unix://${spire.socketPath}`,
    }),
  );
  const get = async (p: string) => {
    try {
      const res = await fetch(`http://127.0.0.1:${admin}${p}`);
      return { status: res.status, body: await res.text() };
    } catch {
      return { status: 0, body: '' };
    }
  };
  const ready = await eventually(async () => (await get('/ready')).status === 200, 45_000);
  t.ok(ready, 'GET /ready is 200 once SPIRE handed out the SVID');
  if (!ready) t.comment(run.output());
  const metrics = await get('/metrics');
  t.equal(metrics.status, 200);
  const sha = headCommit();
  t.match(metrics.body, new RegExp(`^proxy_build_info\\{[^}]*git_sha="${sha}"[^}]*version="${VERSION.replace(/\./g, '\\.')}"\\} 1$`, 'm'), 'proxy_build_info carries version and commit');
  t.match(metrics.body, /^control_identity_cert_expiration_timestamp_seconds \d+/m, 'identity metrics');

  // Not redirected by iptables, so the kernel has no original destination: the embedded koffi
  // addon must be loaded to even ask (ENOENT), rather than failing to load.
  const socket = net.connect(outbound, '127.0.0.1');
  socket.on('error', () => {});
  t.teardown(() => socket.destroy());
  t.ok(await eventually(async () => run.output().includes('Server failed to accept connection'), 10_000), 'the outbound listener refused the connection');
  t.match(run.output(), /ENOENT/, 'SO_ORIGINAL_DST was asked through koffi');
  t.notMatch(run.output(), /native socket options are unavailable/);
  const cache = path.join(home, '.cache', 'linkerd2-proxy-ts');
  t.match(readdirSync(cache), [/^koffi-[0-9a-f]{16}\.node$/], 'addon unpacked to the private cache, named by its hash');
  t.equal(statSync(cache).mode & 0o777, 0o700, 'cache folder private');

  run.kill('SIGTERM');
  t.equal(await run.code, 0, 'SIGTERM: drained and exited 0');
});

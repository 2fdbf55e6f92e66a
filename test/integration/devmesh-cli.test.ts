// `linkerd2-proxy-ts dev-control-plane` as a user runs it (dist/src/main.js): flags, printed environments that the
// proxy's own config and SPIRE client accept, and a clean exit on SIGTERM.
import t from 'tap';
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { loadConfig } from '../../src/config/index.js';
import { startSpireIdentity } from '../../src/identity/spire-client.js';
import { silentLogger } from '../../src/log/logger.js';
import { EXAMPLES, until } from './devmesh-helpers.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/src/main.js');
const FILES = ['00-namespace.yaml', '10-legacy-app.yaml', '20-external-workload.yaml', '30-client.yaml'].map((f) => path.join(EXAMPLES, f));

interface Run {
  stdout: string;
  stderr: string;
  readonly code: Promise<number | null>;
  kill(sig: NodeJS.Signals): void;
}

function run(t: Test, args: string[]): Run {
  const child = spawn(process.execPath, [MAIN, 'dev-control-plane', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Run = {
    stdout: '',
    stderr: '',
    code: new Promise((resolve) => child.once('exit', (c) => resolve(c))),
    kill: (sig) => child.kill(sig),
  };
  child.stdout.on('data', (c: Buffer) => (r.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (r.stderr += c.toString()));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return r;
}

/** The `export K='v'` lines of one printed block, as the environment a shell would get from sourcing them. */
function sourced(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^export ([A-Z0-9_]+)='((?:[^']|'\\'')*)'$/gms)) env[m[1]!] = m[2]!.replace(/'\\''/g, "'");
  return env;
}

t.test('bad flags exit 64 with a message saying what is wrong', async (t) => {
  // The parser's cases are unit-tested (cli-args.test.ts); here, that the binary exits as it should.
  const cases: [string[], RegExp][] = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['-f', FILES[0]!, '--listen-destination', 'nowhere'], /--listen-destination 'nowhere' is not host:port/],
    [['-f', '/nonexistent/manifests'], /\/nonexistent\/manifests does not exist/],
  ];
  const runs = cases.map(([args]) => run(t, args));
  const help = run(t, ['--help']);
  for (const [i, [args, message]] of cases.entries()) {
    t.equal(await runs[i]!.code, 64, args.join(' '));
    t.match(runs[i]!.stderr, message);
  }
  t.equal(await help.code, 0);
  t.match(help.stdout, /usage: linkerd2-proxy-ts dev-control-plane -f/);
});

t.test('serves, prints each proxy\'s environment, and stops cleanly on SIGTERM', async (t) => {
  const state = mkdtempSync(path.join(tmpdir(), 'l5dts-devmesh-cli-'));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  const socket = path.join(state, 'spire.sock');
  const listen = ['destination', 'policy', 'identity'].flatMap((s) => [`--listen-${s}`, '127.0.0.1:0']);
  const args = [...FILES.flatMap((f) => ['-f', f]), ...listen, '--state-dir', state, '--workload-api', `${socket}=mixed-env/external-workload`];
  const r = run(t, args);
  await until(() => r.stderr.includes('dev control plane serving'), 'the serving line', 15_000);
  t.match(r.stderr, /destination 127\.0\.0\.1:\d+ \(plaintext\)/);

  const blocks = r.stdout.split(/^# /m).filter((b) => b.length > 0);
  t.match(blocks.map((b) => b.split('\n')[0]), [/^Pod mixed-env\/legacy-app-[a-z0-9]+-[a-z0-9]+: Linkerd identity/, /^ExternalWorkload mixed-env\/external-workload: SPIRE identity/, /^Pod mixed-env\/client: Linkerd identity/]);
  const vmBlock = blocks.find((b) => b.startsWith('ExternalWorkload')) ?? '';
  const vmEnv = sourced(vmBlock);
  t.equal(vmEnv.LINKERD2_PROXY_POLICY_WORKLOAD, '{"ns":"mixed-env","external_workload":"external-workload"}');
  t.equal(vmEnv.LINKERD2_PROXY_IDENTITY_SPIRE_WORKLOAD_API_ADDRESS, `unix://${socket}`);
  t.match(vmEnv.LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS, /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);

  // The printed environment is a valid proxy configuration, and its SPIRE socket hands out the VM's SVID.
  const { config } = loadConfig({ ...vmEnv, LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '127.0.0.1:0', LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:0', LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '127.0.0.1:0' });
  const mode = config.identity.mode;
  if (mode.kind !== 'spire') throw new Error('expected SPIRE mode');
  const identity = startSpireIdentity({ socketPath: mode.workloadApiAddress, serverId: config.identity.serverId.value, serverName: config.identity.serverName, trustAnchorsPem: config.identity.trustAnchorsPem, logger: silentLogger, registry: new Registry() });
  t.teardown(() => identity.close());
  t.equal((await identity.ready()).serverId, 'spiffe://root.linkerd.cluster.local/external-workload');
  identity.close();

  r.kill('SIGTERM');
  t.equal(await r.code, 0, 'exit 0 after SIGTERM');
  t.match(r.stderr, /received SIGTERM, stopping/);
});

t.test('--print-env prints just that workload (a Deployment name finds its pod); an unknown one exits 64', async (t) => {
  const state = mkdtempSync(path.join(tmpdir(), 'l5dts-devmesh-cli-'));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  const listen = ['destination', 'policy', 'identity'].flatMap((s) => [`--listen-${s}`, '127.0.0.1:0']);
  const base = [...FILES.flatMap((f) => ['-f', f]), ...listen, '--state-dir', state];
  const one = run(t, [...base, '--print-env', 'mixed-env/legacy-app']);
  const missing = run(t, [...base.map((a) => (a === state ? `${state}/other` : a)), '--print-env', 'mixed-env/nope']);
  await until(() => one.stderr.includes('dev control plane serving'), 'the serving line', 15_000);
  t.equal(one.stdout.match(/^# /gm)?.length, 1);
  t.match(one.stdout, /^# Pod mixed-env\/legacy-app-/);
  t.equal(sourced(one.stdout).LINKERD2_PROXY_IDENTITY_TOKEN_FILE, path.join(state, 'tokens', 'mixed-env', 'default'));
  one.kill('SIGINT');
  t.equal(await one.code, 0);

  t.equal(await missing.code, 64);
  t.match(missing.stderr, /no Pod or ExternalWorkload mixed-env\/nope/);
});

// The real CLI (dist/src/main.js, built by `npm test`'s pretest) as an operator runs it.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestPki } from '../support/pki.js';
import { FakeWorkloadApi } from '../support/fake-workload-api.js';
import { FakeIdentity } from '../support/fake-identity.js';
import { freePort } from '../support/openssl.js';
import { eventually } from '../support/netns.js';
import { VERSION } from '../../src/version.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/src/main.js');

interface Run {
  code: Promise<number | null>;
  output: () => string;
  kill: (sig?: NodeJS.Signals) => void;
}

function cli(t: Test, args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { code, output: () => out, kill: (sig = 'SIGTERM') => child.kill(sig) };
}

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const ca = pki.root();

async function get(port: number, p: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${p}`, init);
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

async function listenEnv(): Promise<{ env: Record<string, string>; admin: number }> {
  const [admin, inbound, outbound] = [await freePort(), await freePort(), await freePort()];
  return {
    admin,
    env: {
      LINKERD2_PROXY_ADMIN_LISTEN_ADDR: `127.0.0.1:${admin}`,
      LINKERD2_PROXY_INBOUND_LISTEN_ADDR: `127.0.0.1:${inbound}`,
      LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: `127.0.0.1:${outbound}`,
      LINKERD2_PROXY_DESTINATION_SVC_ADDR: 'localhost:8086',
      LINKERD2_PROXY_POLICY_SVC_ADDR: 'localhost:8090',
      LINKERD2_PROXY_POLICY_WORKLOAD: '{"ns":"default","pod":"web"}',
      LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: ca.certPem,
      LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'all-unauthenticated',
    },
  };
}

t.test('--version prints the package version (and the commit, checked in binary-version.test.ts)', async (t) => {
  const run = cli(t, ['--version'], {});
  t.equal(await run.code, 0);
  t.match(run.output(), new RegExp(`^linkerd2-proxy-ts ${VERSION.replace(/\./g, '\\.')}( \\([0-9a-f]{40}\\))?\n$`));
});

t.test('no configuration: exit 64, saying what is needed', async (t) => {
  const run = cli(t, [], {});
  t.equal(await run.code, 64);
  t.match(run.output(), /LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS/);
  t.match(run.output(), /LINKERD2_PROXY_DESTINATION_SVC_ADDR/);
});

t.test('every bad variable is named at once, with the expected form; exit 64', async (t) => {
  const { env } = await listenEnv();
  const run = cli(t, [], { ...env, LINKERD2_PROXY_INBOUND_CONNECT_TIMEOUT: '5', LINKERD2_PROXY_SHUTDOWN_ENDPOINT_ENABLED: 'yes', LINKERD2_PROXY_INBOUND_PORTS: '80-70' });
  t.equal(await run.code, 64);
  const out = run.output();
  t.match(out, /LINKERD2_PROXY_INBOUND_CONNECT_TIMEOUT="5" is not valid/);
  t.match(out, /LINKERD2_PROXY_SHUTDOWN_ENDPOINT_ENABLED="yes"/);
  t.match(out, /LINKERD2_PROXY_INBOUND_PORTS="80-70"/);
  t.match(out, /LINKERD2_PROXY_IDENTITY_SERVER_ID|LINKERD2_PROXY_IDENTITY_LOCAL_NAME/, 'missing identity named too');
});

t.test('SPIRE mode: ready once the SVID arrives; POST /shutdown exits 0', async (t) => {
  const id = 'spiffe://root.linkerd.cluster.local/external-workload';
  const leaf = pki.leaf(ca, { uris: [id] });
  const spire = await FakeWorkloadApi.start({ initial: { svids: [{ spiffeId: id, x509Svid: leaf.chainDer, x509SvidKey: leaf.keyDer }] } });
  t.teardown(() => spire.close());
  const { env, admin } = await listenEnv();
  const run = cli(t, [], {
    ...env,
    LINKERD2_PROXY_IDENTITY_SERVER_ID: id,
    LINKERD2_PROXY_IDENTITY_SERVER_NAME: 'external-workload.cluster.local',
    LINKERD2_PROXY_IDENTITY_SPIRE_WORKLOAD_API_ADDRESS: `unix://${spire.socketPath}`,
    LINKERD2_PROXY_SHUTDOWN_ENDPOINT_ENABLED: 'true',
  });
  const ready = await eventually(async () => (await get(admin, '/ready')).status === 200, 60_000); // generous: CI runs heavy tests alongside
  t.ok(ready, 'ready');
  if (!ready) t.comment(run.output());
  t.equal(spire.calls[0]?.metadata.get('workload.spiffe.io')[0], 'true', 'the security header was sent');
  const metrics = await get(admin, '/metrics');
  t.match(metrics.body, /^control_identity_cert_expiration_timestamp_seconds \d+/m, 'certificate expiry exported');
  t.same(await get(admin, '/shutdown', { method: 'POST' }), { status: 200, body: 'shutdown\n' });
  t.equal(await run.code, 0, 'exited 0 after draining');
});

t.test('Linkerd identity mode: identity init, then Certify with the CSR and token', async (t) => {
  const name = 'web.default.serviceaccount.identity.linkerd.cluster.local';
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-id-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const init = cli(t, ['identity', 'init', '--name', name, '--dir', dir], {});
  t.equal(await init.code, 0, `identity init ${init.output()}`);
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, 'service-account-token');
  const issuer = pki.intermediate(ca);
  const identity = await FakeIdentity.start({ pki, issuer, expectedToken: 'service-account-token', lifetimeSec: 3600 });
  t.teardown(() => identity.close());
  const { env, admin } = await listenEnv();
  const run = cli(t, [], {
    ...env,
    LINKERD2_PROXY_IDENTITY_LOCAL_NAME: name,
    LINKERD2_PROXY_IDENTITY_DIR: dir,
    LINKERD2_PROXY_IDENTITY_TOKEN_FILE: tokenFile,
    LINKERD2_PROXY_IDENTITY_SVC_ADDR: `127.0.0.1:${identity.port}`,
  });
  const ready = await eventually(async () => (await get(admin, '/ready')).status === 200, 60_000); // generous: CI runs heavy tests alongside
  t.ok(ready, 'ready');
  if (!ready) t.comment(run.output());
  t.equal(identity.requests[0]?.identity, name, 'Certify asked for our name');
  t.equal(identity.requests[0]?.token.toString(), 'service-account-token', 'with the token file contents');
  run.kill('SIGTERM');
  t.equal(await run.code, 0, 'SIGTERM exits 0');
});

t.test('Linkerd identity mode without key and CSR: exit 1 with the reason', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-id-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'token'), 'x');
  const { env } = await listenEnv();
  const run = cli(t, [], {
    ...env,
    LINKERD2_PROXY_IDENTITY_LOCAL_NAME: 'web.default.serviceaccount.identity.linkerd.cluster.local',
    LINKERD2_PROXY_IDENTITY_DIR: dir,
    LINKERD2_PROXY_IDENTITY_TOKEN_FILE: path.join(dir, 'token'),
    LINKERD2_PROXY_IDENTITY_SVC_ADDR: '127.0.0.1:1',
  });
  t.equal(await run.code, 1);
  t.match(run.output(), /key\.p8/, 'names the missing file');
});

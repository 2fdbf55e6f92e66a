// Linkerd mode against a fake identity service: request fields, responses, renewal timing, TLS.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { identityInit } from '../../../src/identity/identity-init.js';
import { refreshDelay, startLinkerdIdentity } from '../../../src/identity/linkerd-identity.js';
import type { IdentityServiceTls } from '../../../src/identity/linkerd-identity.js';
import { isLoopbackHost } from '../../../src/identity/identity-channel.js';
import { parseCertificatesPem } from '../../../src/identity/x509.js';
import { FakeIdentity } from '../../support/fake-identity.js';
import { TestPki } from '../../support/pki.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { ManualClock } from './helpers/manual-clock.js';

const NAME = 'web.default.serviceaccount.identity.linkerd.cluster.local';
const SVC = 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local';
const MIN = 10_000;
const MAX = 24 * 3600_000;

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const root = pki.root('identity-root');
const issuer = pki.intermediate(root, 'identity.linkerd.cluster.local');

// One key/CSR for the whole file: identity init is the slow part and the service doesn't care.
const docsDir = mkdtempSync(path.join(tmpdir(), 'l5dts-ident-docs-'));
t.teardown(() => rmSync(docsDir, { recursive: true, force: true }));
await identityInit({ name: NAME, dir: docsDir });

interface SetupOptions {
  lifetimeSec?: number;
  expectedToken?: string;
  token?: string;
  tls?: { serverCertNames: string[] };
  svcTls?: IdentityServiceTls;
  plaintextOnLoopback?: boolean;
  minRefreshMs?: number;
  maxRefreshMs?: number;
  dir?: string;
}

async function setup(t: { teardown(fn: () => unknown): void }, o: SetupOptions = {}) {
  const work = mkdtempSync(path.join(tmpdir(), 'l5dts-ident-'));
  const tokenFile = path.join(work, 'token');
  writeFileSync(tokenFile, o.token ?? 'token-1');
  const serverLeaf = o.tls ? pki.leaf(root, { dns: o.tls.serverCertNames }) : undefined;
  const fake = await FakeIdentity.start({
    pki,
    issuer,
    ...(o.expectedToken === undefined ? {} : { expectedToken: o.expectedToken }),
    ...(o.lifetimeSec === undefined ? {} : { lifetimeSec: o.lifetimeSec }),
    ...(serverLeaf ? { tls: { certChainPem: serverLeaf.chainPem, keyPem: serverLeaf.keyPem } } : {}),
  });
  const clock = new ManualClock();
  const logger = new CaptureLogger();
  const registry = new Registry();
  const source = startLinkerdIdentity({
    svcAddr: { host: fake.host, port: fake.port },
    svcTls: o.svcTls ?? { kind: 'none' },
    dir: o.dir ?? docsDir,
    tokenFile,
    serverId: NAME,
    serverName: NAME,
    trustAnchorsPem: root.certPem,
    minRefreshMs: o.minRefreshMs ?? MIN,
    maxRefreshMs: o.maxRefreshMs ?? MAX,
    logger,
    registry,
    clock,
    ...(o.plaintextOnLoopback === undefined ? {} : { plaintextOnLoopback: o.plaintextOnLoopback }),
  });
  t.teardown(async () => {
    source.close();
    await fake.close();
    rmSync(work, { recursive: true, force: true });
  });
  return { fake, clock, logger, registry, source, tokenFile };
}

t.test('refreshDelay: 70% of what remains, clamped; min when nothing is left', async (t) => {
  t.equal(refreshDelay(100_000, 0, 10, 1_000_000), 70_000);
  t.equal(refreshDelay(5_000, 0, 10_000, 1_000_000), 10_000, 'clamped up to min');
  t.equal(refreshDelay(10_000_000, 0, 10, 60_000), 60_000, 'clamped down to max');
  t.equal(refreshDelay(undefined, 0, 10_000, 60_000), 10_000, 'no certificate yet');
  t.equal(refreshDelay(5, 10, 10_000, 60_000), 10_000, 'already expired');
});

t.test('isLoopbackHost', async (t) => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', 'localhost', 'localhost.', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(h), h);
  for (const h of ['10.0.0.1', 'linkerd-identity-headless.linkerd.svc.cluster.local.', '::2', '128.0.0.1']) t.notOk(isLoopbackHost(h), h);
});

t.test('Certify request carries identity, token and CSR; DER response is installed', async (t) => {
  const { fake, clock, source, tokenFile } = await setup(t);
  const creds = await source.ready();
  const req = fake.requests[0];
  t.equal(req?.identity, NAME);
  t.equal(req?.token.toString(), 'token-1');
  t.ok(req?.csr.equals(readFileSync(path.join(docsDir, 'csr.der'))), 'csr.der bytes as they are on disk');
  t.equal(creds.serverId, NAME);
  const chain = parseCertificatesPem(creds.certChainPem);
  t.equal(chain.length, 2, 'leaf and intermediate');
  t.same(chain[0]?.sans, [{ kind: 'dns', value: NAME }]);

  // The token file is re-read for every call (projected tokens rotate).
  writeFileSync(tokenFile, 'token-2');
  await clock.waitForSleeps(1);
  clock.advance(clock.requested[0]!);
  await fake.waitForCalls(2);
  t.equal(fake.requests[1]?.token.toString(), 'token-2');
  await new Promise<void>((resolve) => { const off = source.onUpdate(() => { off(); resolve(); }); });
  t.equal(source.current()?.generation, 2, 'renewed certificate installed');
});

t.test('renewal at 70% of the lifetime', async (t) => {
  const { clock, source } = await setup(t, { lifetimeSec: 100 });
  const creds = await source.ready();
  await clock.waitForSleeps(1);
  const delay = clock.requested[0]!;
  const expected = 0.7 * (creds.notAfterMs - clock.now());
  t.ok(Math.abs(delay - expected) < 1, `slept ${delay}ms, expected ${expected}ms`);
  // The manual clock started a little before openssl stamped the certificate (whole seconds).
  t.ok(delay > 68_000 && delay < 71_000, 'about 70s of a 100s certificate');
});

t.test('renewal clamped to min and max', async (t) => {
  const short = await setup(t, { lifetimeSec: 5, minRefreshMs: 10_000 });
  await short.source.ready();
  await short.clock.waitForSleeps(1);
  t.equal(short.clock.requested[0], 10_000, 'short-lived certificate: min refresh');

  const long = await setup(t, { lifetimeSec: 86400, maxRefreshMs: 60_000 });
  await long.source.ready();
  await long.clock.waitForSleeps(1);
  t.equal(long.clock.requested[0], 60_000, 'long-lived certificate: max refresh');
});

t.test('failure after a good certificate: 70% of what remains of it', async (t) => {
  const { fake, clock, logger, source } = await setup(t, { lifetimeSec: 100 });
  const creds = await source.ready();
  await clock.waitForSleeps(1);
  fake.failNext(grpc.status.UNAVAILABLE, 'cert issuer not ready yet');
  clock.advance(clock.requested[0]!);
  await clock.waitForSleeps(2);
  const line = logger.find('Failed to obtain identity')[0];
  t.match(String(line?.fields.error), 'UNAVAILABLE: cert issuer not ready yet');
  const expected = 0.7 * (creds.notAfterMs - clock.now());
  t.ok(Math.abs(clock.requested[1]! - expected) < 1, `slept ${clock.requested[1]}ms, expected ${expected}ms`);
  t.equal(source.current(), creds, 'the good certificate is still served');
});

t.test('valid_until in the past or missing: error, retry after min refresh', async (t) => {
  const { fake, clock, logger, registry, source } = await setup(t);
  fake.validUntil = new Date(clock.now() - 1000);
  await clock.waitForSleeps(1);
  t.match(String(logger.find('Failed to obtain identity')[0]?.fields.error), 'certificate already expired');
  t.equal(clock.requested[0], MIN);
  t.equal(source.current(), undefined);

  fake.validUntil = null;
  clock.advance(MIN);
  await clock.waitForSleeps(2);
  t.match(String(logger.find('Failed to obtain identity')[1]?.fields.error), 'missing expiration');
  t.equal(clock.requested[1], MIN);

  fake.validUntil = undefined;
  clock.advance(MIN);
  await source.ready();
  t.equal(fake.calls, 3);
  t.match(await registry.metrics(), /control_identity_cert_refreshes_total\{result="error"\} 2/);
});

t.test('a rejected token is an error that is retried', async (t) => {
  const { fake, clock, logger, source, tokenFile } = await setup(t, { expectedToken: 'good', token: 'bad' });
  await clock.waitForSleeps(1);
  t.match(String(logger.find('Failed to obtain identity')[0]?.fields.error), 'FAILED_PRECONDITION: token not authenticated');
  writeFileSync(tokenFile, 'good');
  clock.advance(clock.requested[0]!);
  await source.ready();
  t.equal(fake.calls, 2);
});

t.test('TLS to the identity service, verifying its identity', async (t) => {
  const { source } = await setup(t, {
    tls: { serverCertNames: [SVC] },
    svcTls: { kind: 'mtls', serverName: SVC, serverId: SVC },
    plaintextOnLoopback: false,
  });
  const creds = await source.ready();
  t.equal(creds.serverId, NAME);
});

t.test('TLS: a service certificate naming someone else fails with a clear reason', async (t) => {
  const { clock, fake, logger, source } = await setup(t, {
    tls: { serverCertNames: ['linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local'] },
    svcTls: { kind: 'mtls', serverName: SVC, serverId: SVC },
    plaintextOnLoopback: false,
  });
  await clock.waitForSleeps(1);
  const error = String(logger.find('Failed to obtain identity')[0]?.fields.error);
  t.match(error, `identity service certificate does not name ${SVC}; it names linkerd-destination.`);
  t.equal(fake.calls, 0, 'no request reached the service');
  t.equal(source.current(), undefined);
});

t.test('TLS: a service certificate from another CA is refused', async (t) => {
  const other = pki.root('other-root');
  const leaf = pki.leaf(other, { dns: [SVC] });
  const fake = await FakeIdentity.start({ pki, issuer, tls: { certChainPem: leaf.chainPem, keyPem: leaf.keyPem } });
  t.teardown(() => fake.close());
  const work = mkdtempSync(path.join(tmpdir(), 'l5dts-ident-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  writeFileSync(path.join(work, 'token'), 't');
  const clock = new ManualClock();
  const logger = new CaptureLogger();
  const source = startLinkerdIdentity({
    svcAddr: { host: fake.host, port: fake.port }, svcTls: { kind: 'mtls', serverName: SVC, serverId: SVC },
    dir: docsDir, tokenFile: path.join(work, 'token'), serverId: NAME, serverName: NAME, trustAnchorsPem: root.certPem,
    minRefreshMs: MIN, maxRefreshMs: MAX, logger, registry: new Registry(), clock, plaintextOnLoopback: false,
  });
  t.teardown(() => source.close());
  await clock.waitForSleeps(1);
  t.match(String(logger.find('Failed to obtain identity')[0]?.fields.error), /UNAVAILABLE: .*(certificate|verify)/i);
  t.equal(fake.calls, 0);
});

t.test('loopback address: plaintext even when TLS is configured', async (t) => {
  const { fake, source } = await setup(t, { svcTls: { kind: 'mtls', serverName: SVC, serverId: SVC } });
  await source.ready();
  t.equal(fake.calls, 1);
});

t.test('identity metrics after an install', async (t) => {
  const { clock, registry, source } = await setup(t);
  const creds = await source.ready();
  const metrics = await registry.getMetricsAsJSON();
  const value = (name: string, labels: Record<string, string> = {}) =>
    metrics.find((m) => m.name === name)?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  t.equal(value('control_identity_cert_expiration_timestamp_seconds'), creds.notAfterMs / 1000);
  t.equal(value('control_identity_cert_refresh_timestamp_seconds'), clock.now() / 1000);
  t.equal(value('control_identity_cert_refreshes_total', { result: 'ok' }), 1);
  t.equal(value('control_identity_cert_refreshes_total', { result: 'error' }), 0);
});

t.test('startup needs a non-empty key, CSR and token', async (t) => {
  const emptyDir = mkdtempSync(path.join(tmpdir(), 'l5dts-ident-empty-'));
  t.teardown(() => rmSync(emptyDir, { recursive: true, force: true }));
  const missing = await setup(t, { dir: emptyDir });
  await t.rejects(missing.source.ready(), { code: 'identity_fatal', message: /key\.p8/ });
  t.equal(missing.fake.calls, 0);

  const noToken = await setup(t, { token: '' });
  await t.rejects(noToken.source.ready(), { code: 'identity_fatal', message: /token file .* is empty/ });
  t.equal(noToken.fake.calls, 0);
});

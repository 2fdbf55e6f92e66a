// SPIRE mode against a fake Workload API: header, SVID selection, rotation, reconnects, refusals.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { startSpireIdentity, spireTarget } from '../../../src/identity/spire-client.js';
import type { IdentitySource } from '../../../src/identity/types.js';
import { FakeWorkloadApi } from '../../support/fake-workload-api.js';
import type { FakeSvid } from '../../support/fake-workload-api.js';
import { TestPki } from '../../support/pki.js';
import type { Issuer } from '../../support/pki.js';
import { CaptureLogger } from './helpers/capture-logger.js';

const ID = 'spiffe://example.org/ns/default/sa/web';
const OTHER_ID = 'spiffe://example.org/ns/default/sa/db';
const NAME = 'web.default.svc.cluster.local';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const root = pki.root('spire-root');
const intermediate = pki.intermediate(root, 'spire-intermediate');

function svid(issuer: Issuer, id: string, sanId = id): FakeSvid {
  const leaf = pki.leaf(issuer, { uris: [sanId] });
  return { spiffeId: id, x509Svid: leaf.chainDer, x509SvidKey: leaf.keyDer, bundle: Buffer.from(root.certPem) };
}

async function setup(t: { teardown(fn: () => unknown): void }, opts: { initial?: FakeSvid[]; requireHeader?: boolean } = {}) {
  const api = await FakeWorkloadApi.start({
    ...(opts.initial ? { initial: { svids: opts.initial } } : {}),
    ...(opts.requireHeader === undefined ? {} : { requireHeader: opts.requireHeader }),
  });
  const logger = new CaptureLogger();
  const registry = new Registry();
  const source = startSpireIdentity({
    socketPath: `unix://${api.socketPath}`,
    serverId: ID,
    serverName: NAME,
    trustAnchorsPem: root.certPem,
    backoff: { minMs: 10, maxMs: 50, jitter: 0 },
    logger,
    registry,
  });
  t.teardown(async () => {
    source.close();
    await api.close();
  });
  return { api, logger, registry, source };
}

async function waitForGeneration(source: IdentitySource, generation: number): Promise<void> {
  if ((source.current()?.generation ?? 0) >= generation) return;
  await new Promise<void>((resolve) => {
    const off = source.onUpdate((c) => {
      if (c.generation >= generation) {
        off();
        resolve();
      }
    });
  });
}

t.test('socket address forms', async (t) => {
  t.equal(spireTarget('unix:///run/spire/agent.sock'), 'unix:///run/spire/agent.sock');
  t.equal(spireTarget('unix:/run/spire/agent.sock'), 'unix:///run/spire/agent.sock');
  t.equal(spireTarget('/run/spire/agent.sock'), 'unix:///run/spire/agent.sock');
});

t.test('sends the workload header and installs the SVID naming our id among several', async (t) => {
  const wanted = svid(intermediate, ID);
  const { api, source } = await setup(t, { initial: [svid(intermediate, OTHER_ID), wanted, svid(intermediate, 'spiffe://example.org/x')] });
  const creds = await source.ready();
  t.same(api.calls[0]?.metadata.get('workload.spiffe.io'), ['true'], 'header workload.spiffe.io: true');
  t.equal(creds.serverId, ID);
  t.equal(creds.serverName, NAME);
  t.equal(creds.generation, 1);
  t.match(creds.certChainPem, /^-----BEGIN CERTIFICATE-----[\s\S]+-----BEGIN CERTIFICATE-----/, 'leaf and intermediate as PEM');
  t.match(creds.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  const leafDer = Buffer.from(creds.certChainPem.split('-----END CERTIFICATE-----')[0]!.replace(/-----BEGIN CERTIFICATE-----|\s/g, ''), 'base64');
  t.ok(Buffer.from(wanted.x509Svid).subarray(0, leafDer.length).equals(leafDer), 'the matching SVID was chosen');
});

t.test('only a wrong SPIFFE id on offer: not ready, logged', async (t) => {
  const { api, logger, source } = await setup(t, { initial: [svid(intermediate, OTHER_ID)] });
  await api.waitForCalls(1);
  const line = await logger.waitFor('no matching SVID found');
  t.match(String(line.fields.offered), OTHER_ID);
  t.equal(source.current(), undefined);
  const raced = await Promise.race([source.ready().then(() => 'ready'), new Promise((r) => setTimeout(() => r('pending'), 100))]);
  t.equal(raced, 'pending');
});

t.test('unparseable SVIDs are skipped with an error, a good one still installs', async (t) => {
  const good = svid(intermediate, ID);
  const { logger, source } = await setup(t, {
    initial: [
      { spiffeId: ID, x509Svid: Buffer.from('not der'), x509SvidKey: good.x509SvidKey },
      { spiffeId: ID, x509Svid: good.x509Svid, x509SvidKey: Buffer.alloc(0) },
      { spiffeId: ID, x509Svid: Buffer.alloc(0), x509SvidKey: good.x509SvidKey },
      { spiffeId: 'web', x509Svid: good.x509Svid, x509SvidKey: good.x509SvidKey },
      good,
    ],
  });
  const creds = await source.ready();
  t.equal(creds.generation, 1);
  const skipped = logger.find('could not be parsed').map((l) => String(l.fields.error));
  t.equal(skipped.length, 4);
  t.match(skipped, [/not valid DER/, /no private key/, /no certificates/, /not a spiffe:\/\/ id/]);
});

t.test('rotation: each new message installs, generation bumps', async (t) => {
  const { api, source } = await setup(t, { initial: [svid(intermediate, ID)] });
  const first = await source.ready();
  const updates: number[] = [];
  source.onUpdate((c) => updates.push(c.generation));
  api.push({ svids: [svid(intermediate, ID)] });
  await waitForGeneration(source, 2);
  const second = source.current();
  t.equal(second?.generation, 2);
  t.not(second?.certChainPem, first.certChainPem, 'current() returns the new certificate');
  t.same(updates, [2]);
});

t.test('stream drop: reconnects, the old certificate is kept meanwhile', async (t) => {
  const { api, source } = await setup(t, { initial: [svid(intermediate, ID)] });
  const first = await source.ready();
  api.latest = undefined; // the reconnected stream gets nothing until we push
  api.drop();
  await api.waitForCalls(2);
  t.equal(source.current(), first, 'still serving the last good SVID');
  api.fail(grpc.status.UNAVAILABLE, 'agent restarting');
  await api.waitForCalls(3);
  t.equal(source.current(), first);
  api.push({ svids: [svid(intermediate, ID)] });
  await waitForGeneration(source, 2);
  t.equal(source.current()?.generation, 2);
});

t.test('InvalidArgument: no retry, ready() rejects', async (t) => {
  const { api, logger, source } = await setup(t, {});
  await api.waitForCalls(1);
  api.fail(grpc.status.INVALID_ARGUMENT, 'bad request');
  await t.rejects(source.ready(), { code: 'identity_fatal' });
  await new Promise((r) => setTimeout(r, 150));
  t.equal(api.calls.length, 1, 'no second call');
  t.equal(logger.find('not retrying').length, 1);
});

t.test('the fake agent, like the real one, answers InvalidArgument when the header is missing', async (t) => {
  // Confirms the fake enforces the header, so the header test above is meaningful.
  const api = await FakeWorkloadApi.start();
  t.teardown(() => api.close());
  const client = new grpc.Client(`unix://${api.socketPath}`, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const status = await new Promise<grpc.StatusObject>((resolve) => {
    const call = client.makeServerStreamRequest('/SpiffeWorkloadAPI/FetchX509SVID', () => Buffer.alloc(0), (b: Buffer) => b, {}, new grpc.Metadata());
    call.on('error', () => undefined);
    call.on('status', resolve);
  });
  t.equal(status.code, grpc.status.INVALID_ARGUMENT);
});

t.test('a certificate from another CA is refused and the previous one stays', async (t) => {
  const { api, logger, registry, source } = await setup(t, { initial: [svid(intermediate, ID)] });
  const first = await source.ready();
  const rogue = pki.root('rogue-root');
  api.push({ svids: [svid(rogue, ID)] });
  const line = await logger.waitFor('Rejected a new identity certificate');
  t.match(String(line.fields.reason), 'does not chain to the trust anchors');
  t.equal(source.current(), first);
  const text = await registry.metrics();
  t.match(text, /control_identity_cert_refreshes_total\{result="error"\} 1/);
  t.match(text, /control_identity_cert_refreshes_total\{result="ok"\} 1/);
});

t.test('an SVID whose certificate names another id is refused', async (t) => {
  const { logger, source } = await setup(t, { initial: [svid(intermediate, ID, OTHER_ID)] });
  const line = await logger.waitFor('Rejected a new identity certificate');
  t.match(String(line.fields.reason), `leaf does not name ${ID}; it names ${OTHER_ID}`);
  t.equal(source.current(), undefined);
});

t.test('agent not there yet: keeps retrying until it appears', async (t) => {
  const api = await FakeWorkloadApi.start({ initial: { svids: [svid(intermediate, ID)] } });
  const socketPath = api.socketPath;
  await api.close();
  const logger = new CaptureLogger();
  const source = startSpireIdentity({
    socketPath, serverId: ID, serverName: NAME, trustAnchorsPem: root.certPem,
    backoff: { minMs: 10, maxMs: 20, jitter: 0 }, logger, registry: new Registry(),
  });
  t.teardown(() => source.close());
  await logger.waitFor('stream failed; reconnecting');
  t.equal(source.current(), undefined);
});

t.test('close() before ready rejects ready() and stops the stream', async (t) => {
  const { api, source } = await setup(t, {});
  await api.waitForCalls(1);
  source.close();
  await t.rejects(source.ready(), { code: 'identity_closed' });
  await new Promise((r) => setTimeout(r, 100));
  t.equal(api.calls.length, 1);
});

// The Workload API socket: the header check, the EW's SVID (verifiable by the proxy), rotation, and identity changes.
import t from 'tap';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { DevCa } from '../../../../src/devmesh/ca/dev-ca.js';
import { generateTrustAnchor } from '../../../../src/devmesh/ca/trust-anchor.js';
import { SnapshotHolder } from '../../../../src/devmesh/snapshot/snapshot-holder.js';
import { SvidPool } from '../../../../src/devmesh/workload-api/svid-pool.js';
import { WorkloadApiServer, workloadHeaderProblem } from '../../../../src/devmesh/workload-api/workload-api-server.js';
import { parseSvid } from '../../../../src/identity/spire-client.js';
import { verifyCredentials } from '../../../../src/identity/verify-credentials.js';
import { silentLogger } from '../../../../src/log/logger.js';
import { ControlPlaneClient, StreamReader } from '../../../support/control-plane-codec.js';
import { ManualClock } from '../../identity/helpers/manual-clock.js';
import { EW, FakeLoader, fakeSnapshot } from '../helpers/fake-snapshot.js';

const header = (v?: string | string[]) => {
  const m = new grpc.Metadata();
  for (const x of v === undefined ? [] : Array.isArray(v) ? v : [v]) m.add('workload.spiffe.io', x);
  return m;
};

t.test('the header must be exactly one `workload.spiffe.io: true`', async (t) => {
  t.equal(workloadHeaderProblem(header('true')), undefined);
  t.equal(workloadHeaderProblem(header()), 'security header missing from request');
  t.ok(workloadHeaderProblem(header('True')));
  t.ok(workloadHeaderProblem(header(['true', 'true'])));
});

t.test('a socket serving one ExternalWorkload', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-wlapi-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock();
  const anchor = (await generateTrustAnchor(clock.now())).anchor;
  const ca = await DevCa.create(anchor, clock.now());
  const loader = new FakeLoader({ workloads: [EW] });
  const holder = new SnapshotHolder(loader.load, [], silentLogger);
  const svids = new SvidPool(ca, clock, silentLogger);
  const socketPath = path.join(dir, 'spire', 'api.sock');
  const api = await WorkloadApiServer.start({ socketPath, externalWorkload: 'mixed-env/external-workload', anchorDer: anchor.certDer, snapshots: holder, svids, logger: silentLogger });
  const client = new ControlPlaneClient('SpiffeWorkloadAPI', `unix://${socketPath}`);
  t.teardown(async () => {
    client.close();
    await api.close();
    svids.close();
  });

  const noHeader = new StreamReader(client.serverStream('FetchX509SVID', {}));
  t.same(await noHeader.ended(), { code: grpc.status.INVALID_ARGUMENT, details: 'security header missing from request' });

  const stream = new StreamReader(client.serverStream('FetchX509SVID', {}, header('true')));
  const first = (await stream.message(1)).svids as { spiffeId: string; x509Svid: Buffer; x509SvidKey: Buffer; bundle: Buffer }[];
  t.equal(first.length, 1);
  t.equal(first[0]?.spiffeId, EW.identity);
  t.same(first[0]?.bundle, anchor.certDer, 'bundle = the trust anchor');
  const parsed = parseSvid({ spiffeId: first[0]!.spiffeId, x509Svid: first[0]!.x509Svid, x509SvidKey: first[0]!.x509SvidKey });
  t.equal(parsed.chainDer.length, 2, 'leaf and issuer');
  const verified = await verifyCredentials({ ...parsed, serverId: EW.identity, trustAnchorsPem: anchor.certPem, nowMs: clock.now() });
  t.same(verified.ok ? 'ok' : verified.reason, 'ok');

  clock.advance(31 * 60_000);
  const second = (await stream.message(2)).svids as { x509Svid: Buffer }[];
  t.notSame(second[0]?.x509Svid, first[0]?.x509Svid, 're-sent with a new certificate halfway through the hour');

  const renamed = { ...EW, identity: 'spiffe://root.linkerd.cluster.local/renamed' };
  loader.tables = { workloads: [renamed] };
  holder.publish(fakeSnapshot(loader.tables));
  t.equal(((await stream.message(3)).svids as { spiffeId: string }[])[0]?.spiffeId, renamed.identity, 'identity change: new SVID');

  const bundles = new StreamReader(client.serverStream('FetchX509Bundles', {}, header('true')));
  t.same((await bundles.message(1)).bundles, { 'spiffe://root.linkerd.cluster.local': anchor.certDer });
  bundles.cancel();

  holder.publish(fakeSnapshot({ workloads: [] }));
  t.match(await stream.ended(), { code: grpc.status.PERMISSION_DENIED, details: /no identity issued/ });
  const later = new StreamReader(client.serverStream('FetchX509SVID', {}, header('true')));
  t.match(await later.ended(), { code: grpc.status.PERMISSION_DENIED });

  await api.close();
  t.notOk(existsSync(socketPath), 'the socket file is removed on close');
});

// Runs one dev-control-plane service on 127.0.0.1:0 (plaintext) for unit tests, with a client for it.
import * as grpc from '@grpc/grpc-js';
import { listenPlaintext } from '../../../../src/devmesh/grpc/listener.js';
import { OpenCalls } from '../../../../src/devmesh/grpc/open-calls.js';
import { SnapshotHolder } from '../../../../src/devmesh/snapshot/snapshot-holder.js';
import { silentLogger } from '../../../../src/log/logger.js';
import { ControlPlaneClient } from '../../../support/control-plane-codec.js';
import { FakeLoader, fakeSnapshot } from './fake-snapshot.js';
import type { FakeTables } from './fake-snapshot.js';

export interface Served {
  readonly loader: FakeLoader;
  readonly holder: SnapshotHolder;
  readonly calls: OpenCalls;
  client(service: string): ControlPlaneClient;
  /** Replaces the tables and publishes the new snapshot, as a manifest reload does. */
  change(tables: FakeTables): void;
  close(): Promise<void>;
}

export async function serve(
  tables: FakeTables,
  add: (server: grpc.Server, holder: SnapshotHolder, calls: OpenCalls) => void,
): Promise<Served> {
  const loader = new FakeLoader(tables);
  const holder = new SnapshotHolder(loader.load, [], silentLogger);
  const calls = new OpenCalls();
  const server = new grpc.Server();
  add(server, holder, calls);
  const listener = await listenPlaintext(server, { host: '127.0.0.1', port: 0 }, () => calls.endAll('test over'));
  const clients: ControlPlaneClient[] = [];
  return {
    loader,
    holder,
    calls,
    client: (service) => {
      const c = new ControlPlaneClient(service, `127.0.0.1:${listener.addr.port}`);
      clients.push(c);
      return c;
    },
    change: (next) => {
      loader.tables = next;
      holder.publish(fakeSnapshot(next));
    },
    close: async () => {
      await listener.close();
      for (const c of clients) c.close();
    },
  };
}

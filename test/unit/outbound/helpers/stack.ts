// The outbound opaque stack wired to fake control planes, behind a listener on 127.0.0.1 with a chosen orig dst.
import net from 'node:net';
import { once } from 'node:events';
import type { Test } from 'tap';
import type { Config } from '../../../../src/config/types.js';
import { controlPlaneClients, type ControlPlaneClients } from '../../../../src/discovery/clients.js';
import type { Credentials } from '../../../../src/identity/types.js';
import type { EndpointConnector } from '../../../../src/outbound/context.js';
import { createEndpointConnector } from '../../../../src/outbound/endpoint/connector.js';
import { serveOutboundOpaque } from '../../../../src/outbound/opaque/serve-opaque.js';
import { createOutboundTargets, type OutboundTargets } from '../../../../src/outbound/target/target-cache.js';
import type { SocketAddr } from '../../../../src/transport/addr.js';
import { FakeDestination } from '../../../support/fake-destination.js';
import { FakePolicy } from '../../../support/fake-policy.js';
import { staticIdentity } from '../../../support/static-identity.js';
import { testConfig, testRuntime, type TestRuntime } from './runtime.js';

export interface OpaqueStack {
  readonly dst: FakeDestination;
  readonly policy: FakePolicy;
  readonly clients: ControlPlaneClients;
  readonly config: Config;
  readonly rt: TestRuntime;
  readonly targets: OutboundTargets;
  readonly connector: EndpointConnector;
  /** The "outbound listener": every connection is served as opaque TCP to `origDst`. */
  readonly port: number;
  /** Resolves when every served connection has finished. */
  settled(): Promise<void>;
}

export interface StackOptions {
  readonly trustAnchorsPem: string;
  readonly creds: Credentials;
  readonly origDst: SocketAddr;
  readonly env?: Record<string, string>;
  readonly localIps?: readonly string[];
  readonly allowLoopback?: boolean;
}

export async function opaqueStack(t: Test, opts: StackOptions): Promise<OpaqueStack> {
  const dst = await FakeDestination.start();
  const policy = await FakePolicy.start();
  const config = testConfig(opts.trustAnchorsPem, {
    LINKERD2_PROXY_DESTINATION_SVC_ADDR: `127.0.0.1:${dst.port}`,
    LINKERD2_PROXY_POLICY_SVC_ADDR: `127.0.0.1:${policy.port}`,
    ...opts.env,
  });
  const clients = controlPlaneClients(config, staticIdentity(opts.creds));
  const rt = testRuntime({ config: config.outbound, creds: opts.creds, ...(opts.localIps !== undefined ? { localIps: opts.localIps } : {}) });
  const targets = createOutboundTargets({ rt, policyClient: clients.outboundPolicy, destinationClient: clients.destination });
  const connector = createEndpointConnector(rt, { allowLoopback: opts.allowLoopback ?? true });
  const serving = new Set<Promise<void>>();
  const accepted = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    accepted.add(socket);
    socket.on('close', () => accepted.delete(socket));
    const p = serveOutboundOpaque(socket, targets.get(opts.origDst), connector, rt);
    serving.add(p);
    void p.finally(() => serving.delete(p));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const s of accepted) s.destroy();
    for (const s of rt.tracked) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await Promise.all(serving);
    targets.close();
    clients.close();
    await dst.stop();
    await policy.stop();
  });
  return {
    dst,
    policy,
    clients,
    config,
    rt,
    targets,
    connector,
    port: (server.address() as net.AddressInfo).port,
    settled: async () => {
      await Promise.all(serving);
    },
  };
}

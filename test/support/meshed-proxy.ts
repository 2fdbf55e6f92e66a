// A real proxy (startProxy) wired to fake Destination and Policy servers on loopback, with original destinations chosen by the test.
import type { Test } from 'tap';
import { startProxy, type RunningProxy } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { Credentials } from '../../src/identity/types.js';
import { staticIdentity } from '../../src/identity/static-identity.js';
import type { Logger } from '../../src/log/logger.js';
import { fixedOrigDst, type SocketAddr } from '../../src/transport/index.js';
import { FakeDestination } from './fake-destination.js';
import { FakePolicy } from './fake-policy.js';
import { testProxyEnv } from './proxy-env.js';

export interface MeshedProxy {
  readonly proxy: RunningProxy;
  readonly dst: FakeDestination;
  readonly policy: FakePolicy;
  /** The outbound listener's port on 127.0.0.1. */
  readonly outboundPort: number;
  readonly inboundPort: number;
  readonly adminPort: number;
}

export interface MeshedProxyOptions {
  readonly trustAnchorsPem: string;
  readonly creds: Credentials;
  /** Original destination of outbound connections (read per connection). */
  readonly outbound: () => SocketAddr;
  /** Original destination of inbound connections; default: the same as outbound. */
  readonly inbound?: () => SocketAddr;
  readonly env?: Record<string, string>;
  readonly logger?: Logger;
  /** Reuse control planes (several proxies of one mesh). */
  readonly dst?: FakeDestination;
  readonly policy?: FakePolicy;
}

/**
 * Starts the fakes (unless given) and a proxy whose control-plane addresses point at them
 * (loopback, so plaintext gRPC). Outbound may dial loopback, since every endpoint lives on
 * 127.0.0.1 here. Everything is stopped at teardown.
 */
export async function meshedProxy(t: Test, opts: MeshedProxyOptions): Promise<MeshedProxy> {
  const dst = opts.dst ?? (await FakeDestination.start());
  const policy = opts.policy ?? (await FakePolicy.start());
  const { config } = loadConfig(
    testProxyEnv(opts.trustAnchorsPem, {
      LINKERD2_PROXY_DESTINATION_SVC_ADDR: dst.address,
      LINKERD2_PROXY_POLICY_SVC_ADDR: policy.address,
      // Clients' idle keep-alive connections would otherwise hold teardown for the default 2 minutes.
      LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: '300ms',
      ...opts.env,
    }),
  );
  const proxy = await startProxy(config, {
    identity: staticIdentity(opts.creds),
    origDst: { inbound: fixedOrigDst(opts.inbound ?? opts.outbound), outbound: fixedOrigDst(opts.outbound) },
    allowOutboundLoopback: true,
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
  });
  t.teardown(async () => {
    await proxy.shutdown();
    if (opts.dst === undefined) await dst.stop();
    if (opts.policy === undefined) await policy.stop();
  });
  await proxy.ready();
  return { proxy, dst, policy, outboundPort: proxy.outboundAddrs[0]!.port, inboundPort: proxy.inboundAddr.port, adminPort: proxy.adminAddr.port };
}

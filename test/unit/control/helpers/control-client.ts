// ControlPlaneClient configs pointing at a local fake, with or without mTLS.
import type { ControlPlaneClient, ControlPlaneTls, StreamLimits } from '../../../../src/config/types.js';

export const NO_LIMITS: StreamLimits = { initialTimeoutMs: undefined, idleTimeoutMs: undefined, lifetimeMs: undefined };

export const BACKOFF = { minMs: 100, maxMs: 1600, jitter: 0 };

export function controlClient(port: number, tls: ControlPlaneTls = { kind: 'none', reason: 'loopback' }, streamLimits = NO_LIMITS): ControlPlaneClient {
  return {
    addr: { host: '127.0.0.1', port, hostKind: 'ip' },
    tls,
    connect: {
      timeoutMs: 1000,
      backoff: BACKOFF,
      keepaliveMs: undefined,
      userTimeoutMs: undefined,
      http1Pool: { maxIdlePerEndpoint: 1, idleTimeoutMs: 1000 },
      http2: { initialStreamWindowSize: 65535, initialConnectionWindowSize: 1048576 },
    },
    queue: { capacity: 100, failfastTimeoutMs: 1000 },
    streamLimits,
  };
}

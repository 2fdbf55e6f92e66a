// Builds the proxy's three control-plane clients (destination, inbound policy, outbound policy) from the config.
import { portSetHas } from '../config/port-set.js';
import type { Config } from '../config/types.js';
import { systemClock, type Clock } from '../core/clock.js';
import { controlChannelFactory, type ControlChannelOptions } from '../control/channel.js';
import { ControlChannel } from '../control/control-channel.js';
import type { IdentitySource } from '../identity/types.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { DestinationClient } from './destination-client.js';
import { InboundPolicyClient } from './inbound-policy-client.js';
import { OutboundPolicyClient } from './outbound-policy-client.js';

export { DestinationClient } from './destination-client.js';
export { InboundPolicyClient, type InboundPolicyView } from './inbound-policy-client.js';
export { OutboundPolicyClient, type OutboundTarget } from './outbound-policy-client.js';

export interface ControlPlaneClients {
  readonly destination: DestinationClient;
  readonly inboundPolicy: InboundPolicyClient;
  readonly outboundPolicy: OutboundPolicyClient;
  /** Starts the permanent policy watches of the eager inbound ports (INBOUND_PORTS, admin…); returns how many. */
  watchEagerInboundPorts(): number;
  /** Closes every watch and channel. */
  close(): void;
}

export interface ControlPlaneClientsOptions extends ControlChannelOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Detect timeout of the inbound invalid policy (see `invalidPolicyTimeoutMs`); default 10s. */
  readonly inboundInvalidDetectTimeoutMs?: number;
}

/**
 * The destination and policy clients as the Rust proxy configures them: mTLS with our identity
 * (plaintext on loopback), the client's connect backoff and stream limits, one shared channel
 * per control-plane service, discovery idle timeouts, and INBOUND_PORTS watched eagerly, forever.
 */
export function controlPlaneClients(config: Config, identity: IdentitySource, opts: ControlPlaneClientsOptions = {}): ControlPlaneClients {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? silentLogger;
  const channelOpts: ControlChannelOptions = opts.plaintextOnLoopback === undefined ? {} : { plaintextOnLoopback: opts.plaintextOnLoopback };
  const cp = config.controlPlane;
  const dstChannel = new ControlChannel(controlChannelFactory(cp.destination, identity, channelOpts));
  const policyChannel = new ControlChannel(controlChannelFactory(cp.policy, identity, channelOpts));
  const destination = new DestinationClient({
    channel: dstChannel,
    contextToken: cp.destinationContext,
    backoff: cp.destination.connect.backoff,
    streamLimits: cp.destination.streamLimits,
    idleTimeoutMs: config.outbound.discoveryIdleTimeoutMs,
    clock,
    logger,
  });
  const eager = config.inbound.policy.eagerPorts;
  const inboundPolicy = new InboundPolicyClient({
    channel: policyChannel,
    workload: cp.policyWorkload,
    backoff: cp.policy.connect.backoff,
    streamLimits: cp.policy.streamLimits,
    idleTimeoutMs: config.inbound.policy.cacheMaxIdleAgeMs,
    retainPort: (port) => portSetHas(eager, port),
    ...(opts.inboundInvalidDetectTimeoutMs === undefined ? {} : { invalidDetectTimeoutMs: opts.inboundInvalidDetectTimeoutMs }),
    clock,
    logger,
  });
  const outboundPolicy = new OutboundPolicyClient({
    channel: policyChannel,
    workload: cp.policyWorkload,
    backoff: cp.policy.connect.backoff,
    streamLimits: cp.policy.streamLimits,
    idleTimeoutMs: config.outbound.discoveryIdleTimeoutMs,
    synthesize: { detectTimeoutMs: config.outbound.detectTimeoutMs, queue: config.outbound.tcpQueue },
    clock,
    logger,
  });
  return {
    destination,
    inboundPolicy,
    outboundPolicy,
    watchEagerInboundPorts: () => {
      let n = 0;
      for (const [low, high] of eager.ranges) {
        // Port 0 (an ephemeral admin listener in tests) has no policy to ask for.
        for (let port = Math.max(low, 1); port <= high; port++, n++) inboundPolicy.ensure(port);
      }
      return n;
    },
    close: () => {
      destination.close();
      inboundPolicy.close();
      outboundPolicy.close();
      dstChannel.close();
      policyChannel.close();
    },
  };
}

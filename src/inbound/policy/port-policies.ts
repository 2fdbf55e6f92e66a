// Per-port inbound server policies from the policy controller: defaults until it answers, eager ports watched from startup.
import type { InboundConfig } from '../../config/types.js';
import type { InboundPolicyClient } from '../../discovery/inbound-policy-client.js';
import type { Logger } from '../../log/logger.js';
import type { PortPolicies } from '../context.js';
import { defaultPortPolicies } from '../tcp-authz.js';
import { WatchedPortPolicy, type PortPolicyHandle } from './port-policy-handle.js';

export interface PortPoliciesOptions {
  readonly inbound: InboundConfig;
  /** The WatchPort client; without one every port has its default policy, forever. */
  readonly client?: InboundPolicyClient | undefined;
  readonly log: Logger;
}

/** PortPolicies whose handles can be held (see PortPolicyHandle for the holding contract). */
export interface WatchedPortPolicies extends PortPolicies {
  /**
   * The port's policy handle (one per port, shared). The first call for a port starts its watch;
   * every call while nothing holds the port restarts its idle countdown. Never blocks or throws.
   */
  get(port: number): PortPolicyHandle;
  /** Ports with a handle so far (eager ones included). */
  readonly size: number;
}

/**
 * Builds the store. Watches for `inbound.policy.eagerPorts` (INBOUND_PORTS, the admin port…)
 * start now and are held until `close()`, so they are never evicted whatever the client's retain
 * setting; other ports are watched from their first `get()`. `close()` releases every watch but
 * does not close the client (its owner does).
 */
export function createPortPolicies(opts: PortPoliciesOptions): WatchedPortPolicies {
  const defaults = defaultPortPolicies(opts.inbound);
  const log = opts.log.child('policy');
  const client = opts.client;
  const handles = new Map<number, WatchedPortPolicy>();
  let closed = false;

  const handleFor = (port: number): WatchedPortPolicy => {
    let h = handles.get(port);
    if (h === undefined) {
      // Port 0 and out-of-range values have nothing to ask the controller about.
      const watchable = !closed && Number.isInteger(port) && port >= 1 && port <= 65_535;
      h = new WatchedPortPolicy(port, defaults(port), watchable ? client : undefined, log);
      handles.set(port, h);
    }
    return h;
  };

  if (client !== undefined) {
    for (const [low, high] of opts.inbound.policy.eagerPorts.ranges) {
      // The hold is never released: eager watches live as long as the store.
      for (let port = Math.max(low, 1); port <= high; port++) handleFor(port).hold();
    }
  }

  return {
    get(port) {
      const h = handleFor(port);
      if (!closed) h.touch();
      return h;
    },
    get size() {
      return handles.size;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const h of handles.values()) h.close();
    },
  };
}

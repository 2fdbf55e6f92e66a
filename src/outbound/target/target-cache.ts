// The outbound targets by original destination: created on first use, shared, dropped when idle.
import { systemClock, type Clock } from '../../core/clock.js';
import { formatAddr, type SocketAddr } from '../../transport/addr.js';
import type { OutboundRuntime, OutboundTarget } from '../context.js';
import type { EndpointSource } from './dispatchers.js';
import { TargetEntry, type PolicySource, type ProfileLookups, type TargetDeps, type TargetName } from './outbound-target.js';

export interface OutboundTargetsOptions {
  readonly rt: OutboundRuntime;
  /** OutboundPolicies.Watch per target; without it every target forwards to its original destination. */
  readonly policyClient?: PolicySource | undefined;
  /** Destination.Get for balancer backends; without it balancers have no endpoints. */
  readonly destinationClient?: EndpointSource | undefined;
  /**
   * GetProfile by `ip:port` for the IPs `wanted` accepts (DESTINATION_PROFILE_NETWORKS), and by
   * `name:port` for the names `wantedName` accepts (named targets).
   */
  readonly profiles?: ProfileLookups | undefined;
  readonly clock?: Clock;
  /** P2C choices and backoff jitter (tests). */
  readonly random?: () => number;
}

export interface OutboundTargets {
  /** The shared target for `origDst`; call `hold()` on it synchronously to keep it alive. */
  get(origDst: SocketAddr): OutboundTarget;
  /**
   * The shared target discovered by `name:port` (ingress mode's l5d-dst-override), cached and
   * idle-evicted like address targets; its `origDst` is a placeholder (0.0.0.0:port).
   */
  getNamed(name: TargetName): OutboundTarget;
  /** Targets alive now. */
  readonly size: number;
  /** Closes every target (shutdown); later `get`s return closed targets. */
  close(): void;
}

/**
 * One OutboundTarget per original destination. A target that no connection holds for
 * OUTBOUND_DISCOVERY_IDLE_TIMEOUT is closed (its policy watch and balancers stop) and the next
 * connection to that address starts afresh; the discovery clients keep their own streams for
 * the same idle period, so a quick return reuses them.
 */
export function createOutboundTargets(opts: OutboundTargetsOptions): OutboundTargets {
  const { rt } = opts;
  const targets = new Map<string, TargetEntry>();
  let closed = false;
  const deps: TargetDeps = {
    clock: opts.clock ?? systemClock,
    random: opts.random,
    policies: opts.policyClient,
    profiles: opts.profiles,
    destinations: opts.destinationClient,
    synthesize: { detectTimeoutMs: rt.config.detectTimeoutMs, queue: rt.config.tcpQueue },
    idleTimeoutMs: rt.config.discoveryIdleTimeoutMs,
    log: rt.log,
    onIdle: (t) => {
      if (targets.get(t.id) === t) targets.delete(t.id);
      rt.log.debug('outbound target evicted', { target: t.id });
      t.close();
    },
  };
  return {
    get(origDst) {
      const id = formatAddr(origDst);
      const known = targets.get(id);
      if (known !== undefined) return known;
      if (closed) {
        const t = new TargetEntry(origDst, { ...deps, policies: undefined });
        t.close();
        return t;
      }
      const t = new TargetEntry(origDst, deps);
      targets.set(id, t);
      return t;
    },
    getNamed(name) {
      const id = `${name.name}:${name.port}`;
      const known = targets.get(id);
      if (known !== undefined) return known;
      const placeholder: SocketAddr = Object.freeze({ host: '0.0.0.0', port: name.port, family: 4 });
      if (closed) {
        const t = new TargetEntry(placeholder, { ...deps, policies: undefined }, name);
        t.close();
        return t;
      }
      const t = new TargetEntry(placeholder, deps, name);
      targets.set(id, t);
      return t;
    },
    get size() {
      return targets.size;
    },
    close() {
      closed = true;
      for (const t of targets.values()) t.close();
      targets.clear();
    },
  };
}

// Policies a named (ingress-mode) target is given when the policy controller has none but GetProfile answered.
import type { DestinationProfile } from '../../discovery/destination-types.js';
import { defaultPolicyMeta } from '../../discovery/meta-decode.js';
import { balancePolicy, forwardPolicy, ENDPOINT_META, type SynthesizeOptions } from '../../discovery/outbound-fallback.js';
import type { BalancerLoad, HttpProtocol, OutboundPolicy } from '../../discovery/outbound-policy-types.js';

export const PROFILE_META = defaultPolicyMeta('profile');
export const EMPTY_META = defaultPolicyMeta('empty');

/** The balancer load upstream uses for profile-derived backends (peak-EWMA, 30ms, 10s). */
const PROFILE_LOAD: BalancerLoad = Object.freeze({ kind: 'peak-ewma', defaultRttMs: 30, decayMs: 10_000 });

const NO_HTTP: HttpProtocol = Object.freeze({ routes: Object.freeze([]), failureAccrual: undefined });

/**
 * Upstream's ingress resolver: a profile naming a single endpoint forwards to it (meta
 * `default/endpoint`); one naming a Service balances over Destination.Get(`fqn:port`) (meta
 * `default/profile`); otherwise an empty policy (meta `default/empty`, no routes).
 */
export function namedProfilePolicy(profile: DestinationProfile, port: number, opts: SynthesizeOptions): OutboundPolicy {
  if (profile.endpoint !== undefined) return forwardPolicy(ENDPOINT_META, profile.endpoint, opts);
  const fqn = profile.fullyQualifiedName;
  if (fqn !== undefined) return balancePolicy(PROFILE_META, `${fqn.replace(/\.$/, '')}:${port}`, PROFILE_LOAD, opts);
  return emptyPolicy(opts.detectTimeoutMs);
}

/** No routes and no backends: every request finds no route. */
export function emptyPolicy(detectTimeoutMs: number): OutboundPolicy {
  return Object.freeze({
    meta: EMPTY_META,
    protocol: Object.freeze({ kind: 'detect', timeoutMs: detectTimeoutMs, http1: NO_HTTP, http2: NO_HTTP, opaque: Object.freeze({ route: undefined }) }),
    backends: Object.freeze([]),
  });
}

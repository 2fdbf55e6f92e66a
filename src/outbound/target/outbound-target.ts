// One original destination's policy and backend dispatchers, shared by every connection to it.
import type { FailureAccrualConfig } from '../../balance/index.js';
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import type { DestinationProfile, ProfileView } from '../../discovery/destination-types.js';
import type { OutboundPolicyClient } from '../../discovery/outbound-policy-client.js';
import { origDstPolicy, profileEndpointPolicy, type SynthesizeOptions } from '../../discovery/outbound-fallback.js';
import type { Backend, OutboundPolicy, OutboundPolicyView } from '../../discovery/outbound-policy-types.js';
import type { Subscription } from '../../discovery/shared-watches.js';
import type { Logger } from '../../log/logger.js';
import { formatAddr, type SocketAddr } from '../../transport/addr.js';
import type { BackendDispatcher, OutboundTarget } from '../context.js';
import { backendKey, policyFailureAccrual } from './backend-key.js';
import { closedDispatcher, createDispatcher, type DispatcherDeps, type ManagedDispatcher } from './dispatchers.js';
import { DiscoveryRejectedError, DiscoveryRequiredError, TargetClosedError } from './errors.js';
import { namedProfilePolicy } from './named-policy.js';

/** Where target policies come from (OutboundPolicyClient, or a stand-in). */
export type PolicySource = Pick<OutboundPolicyClient, 'watch'>;

/** Destination.GetProfile by `ip:port` (DestinationClient, or a stand-in). */
export interface ProfileSource {
  getProfile(target: string, listener: (view: ProfileView) => void): Subscription<ProfileView>;
}

/** Which targets get a GetProfile lookup. */
export interface ProfileLookups {
  readonly source: ProfileSource;
  /** Address targets: by IP (DESTINATION_PROFILE_NETWORKS). */
  readonly wanted: (ip: string) => boolean;
  /** Named targets: by DNS name (DESTINATION_PROFILE_SUFFIXES); absent ⇒ none. */
  readonly wantedName?: ((name: string) => boolean) | undefined;
}

/** A target discovered by name (ingress mode's `l5d-dst-override`) rather than by address. */
export interface TargetName {
  /** A valid DNS name, lower-case, without a trailing dot. */
  readonly name: string;
  readonly port: number;
}

export interface TargetDeps extends DispatcherDeps {
  /** Undefined: every target gets the synthesized forward-to-orig-dst policy. */
  readonly policies: PolicySource | undefined;
  /** GetProfile for targets inside DESTINATION_PROFILE_NETWORKS; undefined ⇒ no profile lookups. */
  readonly profiles?: ProfileLookups | undefined;
  readonly synthesize: SynthesizeOptions;
  /** OUTBOUND_DISCOVERY_IDLE_TIMEOUT. */
  readonly idleTimeoutMs: number;
  /** Called when the target has gone unheld for the idle timeout; the owner closes and forgets it. */
  readonly onIdle: (target: TargetEntry) => void;
  readonly clock: Clock;
  readonly log: Logger;
}

interface Waiter {
  readonly resolve: (policy: OutboundPolicy) => void;
  readonly reject: (err: Error) => void;
}

export class TargetEntry implements OutboundTarget {
  /** `ip:port` (IPv6 bracketed), or `name:port` for a named target: the cache key and the log field. */
  readonly id: string;
  private policy: OutboundPolicy | undefined;
  private failure: Error | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(policy: OutboundPolicy) => void>();
  /** Dispatchers by structural backend key. */
  private readonly dispatchers = new Map<string, ManagedDispatcher>();
  /** Retired dispatchers whose waiting picks have not all been answered yet. */
  private readonly draining = new Set<ManagedDispatcher>();
  /** Per backend object, so a lookup on the per-connection path costs no fingerprint. */
  private byBackend = new WeakMap<Backend, ManagedDispatcher>();
  private currentKeys: ReadonlySet<string> = new Set();
  private accrual: FailureAccrualConfig | undefined;
  private holders = 0;
  private cancelIdle: (() => void) | undefined;
  private subscription: Subscription<OutboundPolicyView> | undefined;
  private profileSubscription: Subscription<ProfileView> | undefined;
  /** The latest policy answer, combined with the profile (when looked up) into `policy`. */
  private view: Exclude<OutboundPolicyView, { kind: 'rejected' }> | undefined;
  /** null: looked up, no profile; undefined: not answered yet (or not looked up). */
  private profile: DestinationProfile | null | undefined;
  private readonly wantsProfile: boolean;
  private isClosed = false;
  private readonly log: Logger;

  /**
   * With `named`, the target is discovered by that name (OutboundPolicies.Watch with an
   * authority, GetProfile by `name:port`) and `origDst` is only a placeholder nobody dials: with
   * neither a policy nor a profile the target fails with DiscoveryRequiredError, as upstream's
   * ingress mode does, instead of forwarding anywhere.
   */
  constructor(
    readonly origDst: SocketAddr,
    private readonly deps: TargetDeps,
    readonly named?: TargetName,
  ) {
    this.id = named === undefined ? formatAddr(origDst) : `${named.name}:${named.port}`;
    this.log = deps.log;
    const profiles = deps.profiles;
    this.wantsProfile =
      deps.policies !== undefined &&
      profiles !== undefined &&
      (named === undefined ? profiles.wanted(origDst.host) : profiles.wantedName?.(named.name) === true);
    if (this.wantsProfile && deps.profiles !== undefined) {
      try {
        this.profileSubscription = deps.profiles.source.getProfile(this.id, (view) => this.onProfile(view));
      } catch (err) {
        this.log.debug('profile lookup unavailable', { target: this.id, error: messageOf(err) });
        this.profile = null;
      }
    }
    if (deps.policies === undefined) {
      if (named === undefined) this.install(origDstPolicy(origDst, deps.synthesize));
      else this.failure = new DiscoveryRequiredError(this.id);
    } else {
      try {
        // The listener may run before watch() returns (a cached view): it needs nothing from the subscription.
        this.subscription = deps.policies.watch(named === undefined ? origDst : this.id, (view) => this.onView(view));
      } catch (err) {
        // The client is closed (shutdown): the target can never learn a policy.
        this.failure = err instanceof Error ? err : new Error(String(err));
      }
    }
    this.armIdle();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Connections holding the target now. */
  get held(): number {
    return this.holders;
  }

  ready(): Promise<OutboundPolicy> {
    if (this.isClosed) return Promise.reject(new TargetClosedError(this.id));
    if (this.policy !== undefined) return Promise.resolve(this.policy);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.add({ resolve, reject }));
  }

  current(): OutboundPolicy | undefined {
    return this.policy;
  }

  subscribe(listener: (policy: OutboundPolicy) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  backend(backend: Backend): BackendDispatcher {
    const known = this.byBackend.get(backend);
    if (known !== undefined && !known.closed) return known;
    if (this.isClosed) return closedDispatcher(backend, this.id);
    const d = this.dispatcherFor(backend);
    this.byBackend.set(backend, d);
    return d;
  }

  hold(): () => void {
    this.holders++;
    this.cancelIdle?.();
    this.cancelIdle = undefined;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.holders--;
      if (this.holders === 0) this.armIdle();
    };
  }

  /** Stops the policy watch and every dispatcher; waiting callers fail with TargetClosedError. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.cancelIdle?.();
    this.cancelIdle = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.profileSubscription?.unsubscribe();
    this.profileSubscription = undefined;
    for (const d of [...this.dispatchers.values(), ...this.draining]) d.close();
    this.dispatchers.clear();
    this.draining.clear();
    this.byBackend = new WeakMap();
    this.listeners.clear();
    const err = new TargetClosedError(this.id);
    for (const w of this.waiters) w.reject(err);
    this.waiters.clear();
  }

  private onView(view: OutboundPolicyView): void {
    if (this.isClosed) return;
    if (view.kind === 'rejected') {
      if (this.policy !== undefined) return;
      this.fail(new DiscoveryRejectedError(this.id, view.code, view.message));
      return;
    }
    if (view.kind === 'invalid') this.log.warn('unusable outbound policy; traffic to the target fails', { target: this.id, error: view.message });
    this.view = view;
    this.combine();
  }

  /** Discovery cannot give the target a policy (yet): callers waiting for one fail with `err`. */
  private fail(err: Error): void {
    if (this.policy !== undefined) return;
    this.failure = err;
    for (const w of this.waiters) w.reject(err);
    this.waiters.clear();
  }

  private onProfile(view: ProfileView): void {
    if (this.isClosed) return;
    this.profile = view.kind === 'profile' ? view.profile : null;
    this.combine();
  }

  /**
   * Spec §5.1 steps 2–3: the policy, or (NotFound/Unimplemented) the profile's endpoint or the
   * original destination; a profile's opaque_protocol makes the target opaque. Waits for the
   * profile's first answer when one was asked for.
   */
  private combine(): void {
    const view = this.view;
    if (view === undefined || (this.wantsProfile && this.profile === undefined)) return;
    const profile = this.profile ?? undefined;
    let policy: OutboundPolicy;
    if (view.kind === 'fallback' && this.named !== undefined) {
      if (profile === undefined) return this.fail(new DiscoveryRequiredError(this.id));
      policy = namedProfilePolicy(profile, this.named.port, this.deps.synthesize);
    } else if (view.kind === 'fallback') {
      policy =
        profile !== undefined ? profileEndpointPolicy(profile, this.origDst, this.deps.synthesize) : (view.policy ?? origDstPolicy(this.origDst, this.deps.synthesize));
    } else {
      policy = view.policy;
    }
    // Upstream's ingress routing of a named target reads only the policy's protocol.
    this.install(profile?.opaqueProtocol === true && this.named === undefined ? asOpaque(policy) : policy);
  }

  /**
   * Makes `policy` current: dispatchers of its backends are created (discovery starts now, not
   * on the first connection) or kept when structurally unchanged; the others retire.
   */
  private install(policy: OutboundPolicy): void {
    this.policy = policy;
    this.failure = undefined;
    this.accrual = policyFailureAccrual(policy);
    const keys = new Set<string>();
    for (const b of policy.backends) keys.add(this.keyOf(b));
    this.currentKeys = keys;
    for (const [key, d] of [...this.dispatchers]) {
      if (keys.has(key)) continue;
      this.dispatchers.delete(key);
      this.draining.add(d);
      d.retire();
    }
    for (const b of policy.backends) this.backend(b);
    for (const w of this.waiters) w.resolve(policy);
    this.waiters.clear();
    for (const listener of [...this.listeners]) {
      try {
        listener(policy);
      } catch (err) {
        this.log.error('outbound policy subscriber failed', { target: this.id, error: messageOf(err) });
      }
    }
  }

  private keyOf(b: Backend): string {
    return backendKey(b, b.dispatch.kind === 'balancer' ? this.accrual : undefined);
  }

  private dispatcherFor(backend: Backend): ManagedDispatcher {
    const key = this.keyOf(backend);
    const existing = this.dispatchers.get(key);
    if (existing !== undefined && !existing.closed) return existing;
    const accrual = backend.dispatch.kind === 'balancer' ? this.accrual : undefined;
    const d = createDispatcher(backend, key, accrual, this.deps, (closed) => {
      if (this.dispatchers.get(closed.key) === closed) this.dispatchers.delete(closed.key);
      this.draining.delete(closed);
    });
    this.dispatchers.set(key, d);
    // A backend of an older policy (a caller that read it before the update): it serves that
    // caller and retires with the next policy change or the target.
    if (!this.currentKeys.has(key)) this.log.debug('dispatcher for a backend outside the current policy', { target: this.id });
    return d;
  }

  private armIdle(): void {
    if (this.isClosed || this.cancelIdle !== undefined) return;
    this.cancelIdle = this.deps.clock.setTimer(this.deps.idleTimeoutMs, () => {
      this.cancelIdle = undefined;
      if (this.holders === 0 && !this.isClosed) this.deps.onIdle(this);
    });
  }
}

/** The policy's opaque route as an Opaque protocol (a profile marked the port opaque). */
function asOpaque(policy: OutboundPolicy): OutboundPolicy {
  const p = policy.protocol;
  if (p.kind === 'opaque' || p.kind === 'tls') return policy;
  const route = p.kind === 'detect' ? p.opaque.route : undefined;
  return Object.freeze({ ...policy, protocol: Object.freeze({ kind: 'opaque' as const, route }) });
}

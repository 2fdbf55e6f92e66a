// One inbound port's server policy as discovery updates it, reference-counted so held ports keep their watch.
import { messageOf } from '../../core/errors.js';
import type { InboundPolicyClient, InboundPolicyView } from '../../discovery/inbound-policy-client.js';
import type { Subscription } from '../../discovery/shared-watches.js';
import type { Logger } from '../../log/logger.js';
import { compiledPolicy, formatMeta, type CompiledServerPolicy } from '../../policy/inbound/index.js';
import type { PortPolicy } from '../context.js';

/**
 * A port's policy handle. `current()` never blocks and never throws: it is the configured default
 * until the controller first answers, then the latest Server (or the invalid policy), and it never
 * goes back to the default afterwards — not when the controller is unreachable, and not after an
 * idle eviction (the next watch's first answer replaces the last known policy).
 *
 * Holding: the port's watch stays alive while anything holds the handle. `hold()` returns a release
 * function; `subscribe()` holds too, until its unsubscribe function is called. Both release
 * functions are idempotent. When the last holder releases, the discovery client's idle timeout
 * (INBOUND_DISCOVERY_IDLE_TIMEOUT) starts; eager ports are held by PortPolicies itself, forever.
 */
export interface PortPolicyHandle extends PortPolicy {
  readonly port: number;
  /** Keeps the port's watch alive (and the policy fresh) until the returned function is called. */
  hold(): () => void;
  /** True once a policy from the controller is in force. */
  readonly discovered: boolean;
}

interface Listener {
  readonly fn: (policy: CompiledServerPolicy) => void;
}

export class WatchedPortPolicy implements PortPolicyHandle {
  private compiled: CompiledServerPolicy;
  private view: InboundPolicyView | undefined;
  /**
   * The latest subscription to the client. While held it delivers updates; once released its
   * `current()` still reads the client's entry (live until evicted, then its last value).
   */
  private sub: Subscription<InboundPolicyView> | undefined;
  private holders = 0;
  private closed = false;
  private readonly listeners = new Set<Listener>();
  private readonly onView = (view: InboundPolicyView): void => this.apply(view);

  constructor(
    readonly port: number,
    fallback: CompiledServerPolicy,
    private readonly client: InboundPolicyClient | undefined,
    private readonly log: Logger,
  ) {
    this.compiled = fallback;
  }

  get discovered(): boolean {
    if (this.holders === 0) this.pull();
    return this.view !== undefined;
  }

  current(): CompiledServerPolicy {
    // Unheld handles get no updates pushed; read what the client has (a field read).
    if (this.holders === 0) this.pull();
    return this.compiled;
  }

  subscribe(listener: (policy: CompiledServerPolicy) => void): () => void {
    const entry: Listener = { fn: listener };
    // Listen before holding, so a value the client replays on attach reaches this listener too.
    this.listeners.add(entry);
    const release = this.hold();
    return () => {
      this.listeners.delete(entry);
      release();
    };
  }

  hold(): () => void {
    if (this.holders++ === 0) this.attach();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (--this.holders === 0) this.sub?.unsubscribe();
    };
  }

  /**
   * Starts the port's watch, or resets its idle countdown, without holding it (a lookup from
   * the accept path). Held handles are already subscribed, so this costs nothing for them.
   */
  touch(): void {
    if (this.holders > 0 || this.closed || this.client === undefined) return;
    const sub = this.watch();
    if (sub === undefined) return;
    sub.unsubscribe();
    this.sub = sub;
  }

  /** Detaches from discovery; the last policy stays readable, listeners are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.sub?.unsubscribe();
  }

  private attach(): void {
    if (this.closed || this.client === undefined) return;
    const sub = this.watch();
    if (sub !== undefined) this.sub = sub;
  }

  private watch(): Subscription<InboundPolicyView> | undefined {
    try {
      return this.client?.watchPort(this.port, this.onView);
    } catch (err) {
      // Only a closed client throws; the port keeps the policy it has.
      this.log.debug('inbound policy watch unavailable', { port: this.port, error: messageOf(err) });
      return undefined;
    }
  }

  private pull(): void {
    const view = this.sub?.current();
    if (view !== undefined) this.apply(view);
  }

  private apply(view: InboundPolicyView): void {
    if (view === this.view || this.closed) return;
    this.view = view;
    if (view.kind === 'invalid') {
      this.log.warn('Invalid inbound server policy; denying traffic on the port', { port: this.port, error: view.message });
    }
    this.compiled = compiledPolicy(view.policy);
    if (this.log.enabled('debug')) this.log.debug('inbound server policy updated', { port: this.port, server: formatMeta(view.policy.meta) });
    for (const listener of [...this.listeners]) {
      // A listener may have unsubscribed (or closed its connection) during this loop.
      if (!this.listeners.has(listener)) continue;
      try {
        listener.fn(this.compiled);
      } catch (err) {
        this.log.error('inbound policy subscriber failed', { port: this.port, error: messageOf(err) });
      }
    }
  }
}

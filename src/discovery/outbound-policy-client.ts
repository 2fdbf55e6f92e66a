// OutboundPolicies.Watch: the client policy per original destination (or authority), shared and idle-evicted.
import { status } from '@grpc/grpc-js';
import type { BackoffConfig, StreamLimits } from '../config/types.js';
import { ExpBackoff } from '../core/backoff.js';
import { systemClock, type Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { ChannelSource } from '../control/control-channel.js';
import { outboundPolicyRetryable, statusName } from '../control/retry-policies.js';
import { watchStream } from '../control/watch.js';
import { formatAddr, type SocketAddr } from '../transport/addr.js';
import { encodeTcpAddress } from './net-decode.js';
import { invalidOutboundPolicy, origDstPolicy, type SynthesizeOptions } from './outbound-fallback.js';
import { decodeOutboundPolicy } from './outbound-policy-decode.js';
import type { OutboundPolicyView } from './outbound-policy-types.js';
import { SharedWatches, type Subscription, type WatchSink } from './shared-watches.js';
import { logWatchFailure } from './watch-log.js';
import { messageCodec } from './wire.js';

export const OUTBOUND_WATCH_PATH = '/io.linkerd.proxy.outbound.OutboundPolicies/Watch';

/** An original destination (sidecar mode) or a `name[:port]` authority (ingress mode). */
export type OutboundTarget = SocketAddr | string;

export interface OutboundPolicyClientOptions {
  readonly channel: ChannelSource;
  /** LINKERD2_PROXY_POLICY_WORKLOAD, sent verbatim as `source_workload`. */
  readonly workload: string;
  readonly backoff: BackoffConfig;
  readonly streamLimits: StreamLimits;
  /** OUTBOUND_DISCOVERY_IDLE_TIMEOUT. */
  readonly idleTimeoutMs: number;
  /** For the policies the proxy synthesises (fallback and invalid). */
  readonly synthesize: SynthesizeOptions;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly random?: () => number;
}

function targetKey(t: OutboundTarget): string {
  return typeof t === 'string' ? t : formatAddr(t);
}

export class OutboundPolicyClient {
  private readonly watches: SharedWatches<OutboundTarget, OutboundPolicyView>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly requestCodec = messageCodec('io.linkerd.proxy.outbound.TrafficSpec');
  private readonly policyCodec = messageCodec('io.linkerd.proxy.outbound.OutboundPolicy');

  constructor(private readonly opts: OutboundPolicyClientOptions) {
    this.clock = opts.clock ?? systemClock;
    this.logger = (opts.logger ?? silentLogger).child('outbound_policy');
    this.watches = new SharedWatches<OutboundTarget, OutboundPolicyView>({
      keyOf: targetKey,
      idleTimeoutMs: opts.idleTimeoutMs,
      clock: this.clock,
      logger: this.logger,
      start: (target, sink) => this.start(target, sink),
    });
  }

  /**
   * The policy for a target. NotFound / Unimplemented arrive as a `fallback` view (forwarding
   * to the address itself; no policy for an authority), a policy the proxy cannot use as an
   * `invalid` view, and InvalidArgument / FailedPrecondition as `rejected`. Other failures are
   * retried while the last view stays in force.
   */
  watch(target: OutboundTarget, listener?: (view: OutboundPolicyView) => void): Subscription<OutboundPolicyView> {
    return this.watches.subscribe(target, listener);
  }

  get watchCount(): number {
    return this.watches.size;
  }

  close(): void {
    this.watches.close();
  }

  private start(target: OutboundTarget, sink: WatchSink<OutboundPolicyView>): { close(): void } {
    const key = targetKey(target);
    const warn = (message: string): void => this.logger.warn(message, { target: key });
    const request =
      typeof target === 'string'
        ? { sourceWorkload: this.opts.workload, authority: target }
        : { sourceWorkload: this.opts.workload, addr: encodeTcpAddress(target) };
    let published = false;
    return watchStream<Buffer, OutboundPolicyView>({
      channel: this.opts.channel,
      path: OUTBOUND_WATCH_PATH,
      request: this.requestCodec.encode(request),
      encode: (b) => b,
      decode: (bytes) => {
        const wire = this.policyCodec.decode(bytes);
        try {
          return Object.freeze({ kind: 'policy', policy: decodeOutboundPolicy(wire, warn) });
        } catch (err) {
          this.logger.warn('invalid outbound policy; failing traffic to the target', { target: key, error: messageOf(err) });
          return Object.freeze({ kind: 'invalid', message: messageOf(err), policy: invalidOutboundPolicy(this.opts.synthesize.detectTimeoutMs) });
        }
      },
      onMessage: (view) => {
        published = true;
        sink.publish(view);
      },
      onError: (failure) => {
        if (failure.code === status.NOT_FOUND || failure.code === status.UNIMPLEMENTED) {
          const code = failure.code === status.NOT_FOUND ? 'NotFound' : 'Unimplemented';
          if (code === 'Unimplemented') this.logger.warn('policy controller returned Unimplemented; the control plane may be out of date', { target: key });
          else this.logger.debug('no outbound policy for the target', { target: key });
          // Like any refusal, it ends the watch; a policy already received stays in force.
          if (published) return;
          const policy = typeof target === 'string' ? undefined : origDstPolicy(target, this.opts.synthesize);
          sink.publish(Object.freeze({ kind: 'fallback', code, policy }));
          return;
        }
        logWatchFailure(this.logger, failure, { target: key });
        if (!failure.final) sink.unavailable();
        // A refusal after a good policy keeps that policy; before one, the connection cannot proceed.
        if (failure.final && !published) sink.publish(Object.freeze({ kind: 'rejected', code: statusName(failure.code), message: failure.details }));
      },
      backoff: new ExpBackoff(this.opts.backoff, this.opts.random),
      retryable: outboundPolicyRetryable,
      streamLimits: this.opts.streamLimits,
      clock: this.clock,
      logger: this.logger,
    });
  }
}

// InboundServerPolicies.WatchPort: the Server policy of each inbound port, shared per port, eager ports kept forever.
import type { BackoffConfig, StreamLimits } from '../config/types.js';
import { ExpBackoff } from '../core/backoff.js';
import { systemClock, type Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { ChannelSource } from '../control/control-channel.js';
import { inboundPolicyRetryable } from '../control/retry-policies.js';
import { watchStream } from '../control/watch.js';
import { decodeServer } from '../policy/inbound/decode.js';
import { invalidPolicy } from '../policy/inbound/defaults.js';
import type { ServerPolicy } from '../policy/inbound/types.js';
import { SharedWatches, type Subscription, type WatchSink } from './shared-watches.js';
import { logWatchFailure } from './watch-log.js';
import { messageCodec } from './wire.js';

export const WATCH_PORT_PATH = '/io.linkerd.proxy.inbound.InboundServerPolicies/WatchPort';

/** Each WatchPort message replaces the port's policy; one the proxy cannot use becomes the invalid policy. */
export type InboundPolicyView =
  | { readonly kind: 'server'; readonly policy: ServerPolicy }
  | { readonly kind: 'invalid'; readonly message: string; readonly policy: ServerPolicy };

export interface InboundPolicyClientOptions {
  readonly channel: ChannelSource;
  /** LINKERD2_PROXY_POLICY_WORKLOAD, sent verbatim. */
  readonly workload: string;
  readonly backoff: BackoffConfig;
  readonly streamLimits: StreamLimits;
  /** INBOUND_DISCOVERY_IDLE_TIMEOUT for ports discovered lazily. */
  readonly idleTimeoutMs: number;
  /** Ports whose watch is never evicted (INBOUND_PORTS and the other eager ports). */
  readonly retainPort?: (port: number) => boolean;
  /** Detect timeout of the invalid policy (upstream: the default policy's, 10s when that is not Detect). */
  readonly invalidDetectTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly random?: () => number;
}

export class InboundPolicyClient {
  private readonly watches: SharedWatches<number, InboundPolicyView>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly requestCodec = messageCodec('io.linkerd.proxy.inbound.PortSpec');
  private readonly serverCodec = messageCodec('io.linkerd.proxy.inbound.Server');

  constructor(private readonly opts: InboundPolicyClientOptions) {
    this.clock = opts.clock ?? systemClock;
    this.logger = (opts.logger ?? silentLogger).child('inbound_policy');
    const retain = opts.retainPort;
    this.watches = new SharedWatches<number, InboundPolicyView>({
      keyOf: String,
      idleTimeoutMs: opts.idleTimeoutMs,
      ...(retain === undefined ? {} : { retain }),
      clock: this.clock,
      logger: this.logger,
      start: (port, sink) => this.start(port, sink),
    });
  }

  /**
   * The port's policy as the control plane describes it. Until the first message nothing is
   * delivered (the caller applies its default policy); after InvalidArgument / FailedPrecondition
   * the watch stops and the last policy stays in force.
   */
  watchPort(port: number, listener?: (view: InboundPolicyView) => void): Subscription<InboundPolicyView> {
    return this.watches.subscribe(port, listener);
  }

  /** Starts watching a port now (startup discovery of INBOUND_PORTS). */
  ensure(port: number): void {
    this.watches.ensure(port);
  }

  get watchCount(): number {
    return this.watches.size;
  }

  close(): void {
    this.watches.close();
  }

  private start(port: number, sink: WatchSink<InboundPolicyView>): { close(): void } {
    const invalidTimeout = this.opts.invalidDetectTimeoutMs ?? 10_000;
    return watchStream<Buffer, InboundPolicyView>({
      channel: this.opts.channel,
      path: WATCH_PORT_PATH,
      request: this.requestCodec.encode({ workload: this.opts.workload, port }),
      encode: (b) => b,
      decode: (bytes) => {
        const wire = this.serverCodec.decode(bytes);
        try {
          return Object.freeze({ kind: 'server', policy: decodeServer(wire) });
        } catch (err) {
          this.logger.warn('invalid inbound server policy; denying traffic on the port', { port, error: messageOf(err) });
          return Object.freeze({ kind: 'invalid', message: messageOf(err), policy: invalidPolicy(invalidTimeout) });
        }
      },
      onMessage: (view) => sink.publish(view),
      onError: (failure) => {
        logWatchFailure(this.logger, failure, { port });
        if (!failure.final) sink.unavailable();
      },
      backoff: new ExpBackoff(this.opts.backoff, this.opts.random),
      retryable: inboundPolicyRetryable,
      streamLimits: this.opts.streamLimits,
      clock: this.clock,
      logger: this.logger,
    });
  }
}

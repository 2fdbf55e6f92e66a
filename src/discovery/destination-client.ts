// Destination.Get and GetProfile: one shared, reconnecting stream per target, idle-evicted.
import type { BackoffConfig, StreamLimits } from '../config/types.js';
import { ExpBackoff } from '../core/backoff.js';
import { systemClock, type Clock } from '../core/clock.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { ChannelSource } from '../control/control-channel.js';
import { destinationRetryable, statusName } from '../control/retry-policies.js';
import { watchStream, type WatchFailure } from '../control/watch.js';
import { decodeProfile, decodeUpdate } from './destination-decode.js';
import type { DestinationProfile, DestinationUpdate, EndpointsView, ProfileView } from './destination-types.js';
import { EndpointState, replayEndpoints } from './endpoint-state.js';
import { SharedWatches, type Subscription, type WatchSink } from './shared-watches.js';
import { logWatchFailure } from './watch-log.js';
import { messageCodec } from './wire.js';

export const DESTINATION_GET_PATH = '/io.linkerd.proxy.destination.Destination/Get';
export const DESTINATION_GET_PROFILE_PATH = '/io.linkerd.proxy.destination.Destination/GetProfile';
/** Sent in `GetDestination.scheme`; current controllers ignore the field. */
export const DESTINATION_SCHEME = 'k8s';

export interface DestinationClientOptions {
  readonly channel: ChannelSource;
  /** LINKERD2_PROXY_DESTINATION_CONTEXT, sent verbatim as `context_token`. */
  readonly contextToken: string;
  /** The client's connect backoff (reconnects between streams). */
  readonly backoff: BackoffConfig;
  readonly streamLimits: StreamLimits;
  /** OUTBOUND_DISCOVERY_IDLE_TIMEOUT: an unsubscribed target's stream is closed after this long. */
  readonly idleTimeoutMs: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Backoff jitter source (tests). */
  readonly random?: () => number;
}

export class DestinationClient {
  private readonly gets: SharedWatches<string, EndpointsView>;
  private readonly profiles: SharedWatches<string, ProfileView>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly requestCodec = messageCodec('io.linkerd.proxy.destination.GetDestination');
  private readonly updateCodec = messageCodec('io.linkerd.proxy.destination.Update');
  private readonly profileCodec = messageCodec('io.linkerd.proxy.destination.DestinationProfile');

  constructor(private readonly opts: DestinationClientOptions) {
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    const common = { keyOf: (k: string) => k, idleTimeoutMs: opts.idleTimeoutMs, clock: this.clock, logger: this.logger };
    this.gets = new SharedWatches<string, EndpointsView>({ ...common, start: (authority, sink) => this.startGet(authority, sink), replay: replayEndpoints });
    this.profiles = new SharedWatches<string, ProfileView>({ ...common, start: (target, sink) => this.startProfile(target, sink) });
  }

  /** Endpoints of `authority` (`name:port`); the listener gets the current view at once when known. */
  get(authority: string, listener?: (view: EndpointsView) => void): Subscription<EndpointsView> {
    return this.gets.subscribe(authority, listener);
  }

  /** The profile of `target` (`name:port` or `ip:port`). */
  getProfile(target: string, listener?: (view: ProfileView) => void): Subscription<ProfileView> {
    return this.profiles.subscribe(target, listener);
  }

  /** Open Get and GetProfile streams (targets currently watched). */
  get watchCount(): number {
    return this.gets.size + this.profiles.size;
  }

  close(): void {
    this.gets.close();
    this.profiles.close();
  }

  private request(path: string): Buffer {
    return this.requestCodec.encode({ scheme: DESTINATION_SCHEME, path, contextToken: this.opts.contextToken });
  }

  private startGet(authority: string, sink: WatchSink<EndpointsView>): { close(): void } {
    const log = this.logger.child('destination');
    const state = new EndpointState();
    const warn = (message: string): void => log.warn(message, { authority });
    return watchStream<Buffer, DestinationUpdate | undefined>({
      channel: this.opts.channel,
      path: DESTINATION_GET_PATH,
      request: this.request(authority),
      encode: (b) => b,
      decode: (bytes) => decodeUpdate(this.updateCodec.decode(bytes), warn),
      onMessage: (update, event) => {
        if (event.first) state.streamStarted();
        const view = state.apply(update);
        if (view !== undefined) sink.publish(view);
      },
      onError: (failure: WatchFailure) => {
        logWatchFailure(log, failure, { authority });
        if (failure.final) sink.publish(state.rejected(statusName(failure.code), failure.details));
        else sink.unavailable();
      },
      backoff: new ExpBackoff(this.opts.backoff, this.opts.random),
      retryable: destinationRetryable,
      streamLimits: this.opts.streamLimits,
      clock: this.clock,
      logger: log,
    });
  }

  private startProfile(target: string, sink: WatchSink<ProfileView>): { close(): void } {
    const log = this.logger.child('profile');
    const warn = (message: string): void => log.warn(message, { target });
    let published = false;
    return watchStream<Buffer, DestinationProfile>({
      channel: this.opts.channel,
      path: DESTINATION_GET_PROFILE_PATH,
      request: this.request(target),
      encode: (b) => b,
      decode: (bytes) => decodeProfile(this.profileCodec.decode(bytes), warn),
      onMessage: (profile) => {
        published = true;
        sink.publish(Object.freeze({ kind: 'profile', profile }));
      },
      onError: (failure: WatchFailure) => {
        logWatchFailure(log, failure, { target });
        // A refusal means "no profile"; a profile already received stays in force.
        if (failure.final && !published) sink.publish(Object.freeze({ kind: 'none', code: statusName(failure.code), message: failure.details }));
        else if (!failure.final) sink.unavailable();
      },
      backoff: new ExpBackoff(this.opts.backoff, this.opts.random),
      retryable: destinationRetryable,
      streamLimits: this.opts.streamLimits,
      clock: this.clock,
      logger: log,
    });
  }
}

// A server-streaming control-plane call kept open: reconnects with backoff, bounded by the CONTROL_STREAM_* limits.
import * as grpc from '@grpc/grpc-js';
import type { StreamLimits } from '../config/types.js';
import type { ExpBackoff } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { NoCredentialsError, type ChannelSetup } from './channel.js';
import { ControlChannel, type ChannelLease, type ChannelSource } from './control-channel.js';

/** Where a message sits: `first` on its stream, and which stream (1 = the first ever opened). */
export interface StreamEvent {
  readonly first: boolean;
  readonly stream: number;
}

export type StreamLimitKind = 'initial' | 'idle' | 'lifetime';

export interface WatchFailure {
  readonly code: grpc.status;
  readonly details: string;
  /** Set when one of our stream limits ended the stream. */
  readonly limit: StreamLimitKind | undefined;
  /** The watch has stopped for good (a status `retryable` refused). */
  readonly final: boolean;
  /** When the next attempt starts; undefined when final. */
  readonly retryInMs: number | undefined;
}

export interface WatchOptions<Req, Res> {
  /** A shared ControlChannel, or a setup factory (the watch then owns a private channel). */
  readonly channel: ChannelSource | (() => ChannelSetup);
  /** Full method path, e.g. `/io.linkerd.proxy.destination.Destination/Get`. */
  readonly path: string;
  readonly request: Req;
  readonly encode: (request: Req) => Buffer;
  /** Runs as grpc-js' deserializer: a throw fails the stream with INTERNAL (then retried per `retryable`). */
  readonly decode: (bytes: Buffer) => Res;
  readonly onMessage: (value: Res, event: StreamEvent) => void;
  /** Every failed or ended stream, final or not. */
  readonly onError?: (failure: WatchFailure) => void;
  /** Reset after every message, so a healthy stream that ends reconnects quickly. */
  readonly backoff: ExpBackoff;
  /** Whether a status is worth another attempt; a clean end (OK) is always retried. */
  readonly retryable: (code: grpc.status) => boolean;
  readonly streamLimits: StreamLimits;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** `connecting`: a call is open with no message yet; `waiting`: between attempts. */
export type WatchState = 'connecting' | 'streaming' | 'waiting' | 'stopped' | 'closed';

export interface WatchHandle<Res> {
  readonly state: WatchState;
  /** The last message received, kept through reconnects and after the watch stops. */
  latest(): Res | undefined;
  /** Cancels the stream and any pending retry. Idempotent. */
  close(): void;
}

/** Opens the stream now and keeps it open until closed or refused with a non-retryable status. */
export function watchStream<Req, Res>(opts: WatchOptions<Req, Res>): WatchHandle<Res> {
  const watch = new StreamWatch(opts);
  watch.connect();
  return watch;
}

class StreamWatch<Req, Res> implements WatchHandle<Res> {
  state: WatchState = 'connecting';
  private readonly channel: ChannelSource;
  private readonly ownsChannel: boolean;
  private call: grpc.ClientReadableStream<Res> | undefined;
  private lease: ChannelLease | undefined;
  private last: Res | undefined;
  private streams = 0;
  private messages = 0;
  private limitHit: StreamLimitKind | undefined;
  private awaitedCredentials = false;
  private readonly timers: Record<'initial' | 'idle' | 'lifetime' | 'retry', (() => void) | undefined> = {
    initial: undefined,
    idle: undefined,
    lifetime: undefined,
    retry: undefined,
  };

  constructor(private readonly opts: WatchOptions<Req, Res>) {
    if (typeof opts.channel === 'function') {
      this.channel = new ControlChannel(opts.channel);
      this.ownsChannel = true;
    } else {
      this.channel = opts.channel;
      this.ownsChannel = false;
    }
  }

  latest(): Res | undefined {
    return this.last;
  }

  connect(): void {
    if (this.state === 'closed' || this.state === 'stopped') return;
    let lease: ChannelLease;
    try {
      lease = this.channel.acquire();
    } catch (err) {
      // Wait for the first certificate once; if it still isn't there afterwards, back off as usual.
      if (err instanceof NoCredentialsError && !this.awaitedCredentials) return this.awaitCredentials(err);
      return this.failed(grpc.status.UNAVAILABLE, `control-plane channel: ${messageOf(err)}`, undefined);
    }
    this.awaitedCredentials = false;
    this.state = 'connecting';
    this.streams++;
    this.messages = 0;
    this.limitHit = undefined;
    this.lease = lease;
    let call: grpc.ClientReadableStream<Res>;
    try {
      call = lease.client.makeServerStreamRequest<Req, Res>(this.opts.path, this.opts.encode, this.opts.decode, this.opts.request, new grpc.Metadata());
    } catch (err) {
      this.releaseLease();
      return this.failed(grpc.status.UNAVAILABLE, `could not start the call: ${messageOf(err)}`, undefined);
    }
    this.call = call;
    this.opts.logger.debug('control stream opened', { path: this.opts.path, stream: this.streams });
    const { initialTimeoutMs, lifetimeMs } = this.opts.streamLimits;
    if (initialTimeoutMs !== undefined) this.timers.initial = this.opts.clock.setTimer(initialTimeoutMs, () => this.limit(call, 'initial'));
    if (lifetimeMs !== undefined) this.timers.lifetime = this.opts.clock.setTimer(lifetimeMs, () => this.limit(call, 'lifetime'));
    call.on('data', (value: Res) => this.onData(call, value));
    // The status event carries the outcome; this listener only keeps the emitter from throwing.
    call.on('error', () => undefined);
    call.on('status', (status: grpc.StatusObject) => this.onStatus(call, status));
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimers();
    this.timers.retry?.();
    this.timers.retry = undefined;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    this.releaseLease();
    if (this.ownsChannel) (this.channel as ControlChannel).close();
  }

  private onData(call: grpc.ClientReadableStream<Res>, value: Res): void {
    if (call !== this.call) return;
    this.messages++;
    this.state = 'streaming';
    this.timers.initial?.();
    this.timers.initial = undefined;
    const { idleTimeoutMs } = this.opts.streamLimits;
    if (idleTimeoutMs !== undefined) {
      this.timers.idle?.();
      this.timers.idle = this.opts.clock.setTimer(idleTimeoutMs, () => this.limit(call, 'idle'));
    }
    this.opts.backoff.reset();
    this.last = value;
    try {
      this.opts.onMessage(value, { first: this.messages === 1, stream: this.streams });
    } catch (err) {
      this.opts.logger.error('control stream consumer failed', { path: this.opts.path, error: messageOf(err) });
    }
  }

  private limit(call: grpc.ClientReadableStream<Res>, kind: StreamLimitKind): void {
    if (call !== this.call) return;
    this.limitHit = kind;
    call.cancel();
  }

  private onStatus(call: grpc.ClientReadableStream<Res>, status: grpc.StatusObject): void {
    if (call !== this.call) return;
    this.call = undefined;
    this.clearTimers();
    this.releaseLease();
    if (this.state === 'closed') return;
    const kind = this.limitHit;
    if (kind !== undefined) {
      const { initialTimeoutMs, idleTimeoutMs, lifetimeMs } = this.opts.streamLimits;
      const details =
        kind === 'initial'
          ? `no message within ${initialTimeoutMs}ms of opening the stream`
          : kind === 'idle'
            ? `no message for ${idleTimeoutMs}ms`
            : `stream reached its ${lifetimeMs}ms lifetime`;
      // Our limits never stop a watch: the stream is reopened like after any transient failure.
      return this.failed(kind === 'lifetime' ? grpc.status.OK : grpc.status.DEADLINE_EXCEEDED, details, kind);
    }
    const details = status.code === grpc.status.OK ? 'stream ended by the server' : status.details;
    this.failed(status.code, details, undefined);
  }

  private failed(code: grpc.status, details: string, limit: StreamLimitKind | undefined): void {
    const final = limit === undefined && code !== grpc.status.OK && !this.opts.retryable(code);
    const retryInMs = final ? undefined : this.opts.backoff.next();
    this.state = final ? 'stopped' : 'waiting';
    this.opts.logger.debug('control stream ended', {
      path: this.opts.path,
      code: grpc.status[code],
      details,
      retry_in_ms: retryInMs === undefined ? undefined : Math.round(retryInMs),
    });
    if (retryInMs !== undefined) {
      this.timers.retry = this.opts.clock.setTimer(retryInMs, () => {
        this.timers.retry = undefined;
        this.connect();
      });
    } else if (this.ownsChannel) {
      (this.channel as ControlChannel).close();
    }
    try {
      this.opts.onError?.({ code, details, limit, final, retryInMs });
    } catch (err) {
      this.opts.logger.error('control stream error handler failed', { path: this.opts.path, error: messageOf(err) });
    }
  }

  private awaitCredentials(err: NoCredentialsError): void {
    this.state = 'waiting';
    this.opts.logger.debug('control stream waits for TLS credentials', { path: this.opts.path });
    err.ready.then(
      () => {
        if (this.state !== 'waiting' || this.timers.retry !== undefined) return;
        this.awaitedCredentials = true;
        this.connect();
      },
      (cause: unknown) => {
        if (this.state === 'waiting') this.failed(grpc.status.UNAVAILABLE, `no TLS credentials: ${messageOf(cause)}`, undefined);
      },
    );
  }

  private clearTimers(): void {
    for (const k of ['initial', 'idle', 'lifetime'] as const) {
      this.timers[k]?.();
      this.timers[k] = undefined;
    }
  }

  private releaseLease(): void {
    this.lease?.release();
    this.lease = undefined;
  }
}

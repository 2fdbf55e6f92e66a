// One control-plane watch per distinct target shared by all its subscribers, evicted after an idle period.
import type { Clock } from '../core/clock.js';
import { ProxyError, messageOf } from '../core/errors.js';
import type { Logger } from '../log/logger.js';

/** How a started watch reports values. */
export interface WatchSink<V> {
  publish(value: V): void;
  /**
   * The control plane could not be reached or the stream failed transiently (it is being
   * retried). Before a first value, this lets an entry fall back to what it knew when it was
   * last evicted.
   */
  unavailable(): void;
}

export interface StartedWatch {
  close(): void;
}

export interface SharedWatchesOptions<K, V> {
  /** Opens the underlying watch for a key (called once per live entry). */
  readonly start: (key: K, sink: WatchSink<V>) => StartedWatch;
  /** Identity of a key: keys with the same string share a watch. */
  readonly keyOf: (key: K) => string;
  /** An entry with no subscribers is closed after this long (the *_DISCOVERY_IDLE_TIMEOUT). */
  readonly idleTimeoutMs: number;
  /** Keys never evicted (e.g. the INBOUND_PORTS policy watches). */
  readonly retain?: (key: K) => boolean;
  /** What a subscriber joining late receives as its first value (default: the current value). */
  readonly replay?: (current: V) => V;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How many evicted entries' last values are kept for `unavailable` fallbacks (default 10000). */
  readonly lastKnownLimit?: number;
}

export interface Subscription<V> {
  /** The latest value, if any has arrived. */
  current(): V | undefined;
  /** The current value, or the next one; rejects if the subscription ends first. */
  first(): Promise<V>;
  /** Idempotent; the entry's idle countdown starts when its last subscriber leaves. */
  unsubscribe(): void;
}

/** The subscription ended (unsubscribed, or the client closed) before a value arrived. */
export class WatchClosedError extends ProxyError {
  constructor(key: string) {
    super(`discovery watch for ${key} closed before a value arrived`, 'discovery_closed');
  }
}

interface Entry<K, V> {
  readonly key: K;
  readonly id: string;
  value: V | undefined;
  readonly listeners: Set<(value: V) => void>;
  readonly waiters: Set<{ resolve: (v: V) => void; reject: (e: Error) => void }>;
  watch: StartedWatch | undefined;
  cancelEviction: (() => void) | undefined;
  /** What the key's previous entry last knew (a fallback while the control plane is away). */
  stale: V | undefined;
}

export class SharedWatches<K, V> {
  private readonly entries = new Map<string, Entry<K, V>>();
  /** Last values of evicted entries, oldest first (Map insertion order). */
  private readonly lastKnown = new Map<string, V>();
  private closed = false;

  constructor(private readonly opts: SharedWatchesOptions<K, V>) {}

  /** Live entries (each with one underlying watch). */
  get size(): number {
    return this.entries.size;
  }

  has(key: K): boolean {
    return this.entries.has(this.opts.keyOf(key));
  }

  /** Starts a key's watch without subscribing (eager discovery); it idles out unless retained. */
  ensure(key: K): void {
    const entry = this.entry(key);
    if (entry.listeners.size === 0) this.scheduleEviction(entry);
  }

  /**
   * Subscribes to a key, starting its watch if needed. When a value is known the listener is
   * called with it before this returns.
   */
  subscribe(key: K, listener: (value: V) => void = () => undefined): Subscription<V> {
    const entry = this.entry(key);
    entry.cancelEviction?.();
    entry.cancelEviction = undefined;
    entry.listeners.add(listener);
    let active = true;
    const mine = new Set<{ resolve: (v: V) => void; reject: (e: Error) => void }>();
    if (entry.value !== undefined) this.deliver(entry, listener, this.opts.replay ? this.opts.replay(entry.value) : entry.value);
    return {
      current: () => entry.value,
      first: () => {
        if (entry.value !== undefined) return Promise.resolve(entry.value);
        if (!active) return Promise.reject(new WatchClosedError(entry.id));
        return new Promise<V>((resolve, reject) => {
          const w = {
            resolve: (v: V) => (mine.delete(w), resolve(v)),
            reject: (e: Error) => (mine.delete(w), reject(e)),
          };
          mine.add(w);
          entry.waiters.add(w);
        });
      },
      unsubscribe: () => {
        if (!active) return;
        active = false;
        entry.listeners.delete(listener);
        for (const w of [...mine]) {
          entry.waiters.delete(w);
          w.reject(new WatchClosedError(entry.id));
        }
        if (entry.listeners.size === 0 && this.entries.get(entry.id) === entry) this.scheduleEviction(entry);
      },
    };
  }

  /** Closes every watch; pending `first()` calls reject. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of [...this.entries.values()]) this.evict(entry);
    this.lastKnown.clear();
  }

  private entry(key: K): Entry<K, V> {
    if (this.closed) throw new ProxyError('discovery client is closed', 'discovery_closed');
    const id = this.opts.keyOf(key);
    const existing = this.entries.get(id);
    if (existing !== undefined) return existing;
    const entry: Entry<K, V> = {
      key,
      id,
      value: undefined,
      listeners: new Set(),
      waiters: new Set(),
      watch: undefined,
      cancelEviction: undefined,
      stale: this.lastKnown.get(id),
    };
    this.lastKnown.delete(id);
    this.entries.set(id, entry);
    entry.watch = this.opts.start(key, { publish: (value) => this.publish(entry, value), unavailable: () => this.unavailable(entry) });
    return entry;
  }

  /**
   * A new watch for a key seen before cannot reach the control plane: rather than leave its
   * subscribers waiting (connections would hang until it returns), serve the last known value,
   * as a live watch keeps it. The watch goes on retrying and replaces it when it answers.
   */
  private unavailable(entry: Entry<K, V>): void {
    if (this.entries.get(entry.id) !== entry || entry.value !== undefined || entry.stale === undefined) return;
    const stale = entry.stale;
    entry.stale = undefined;
    this.opts.logger.info('control plane unavailable; using the last known state', { target: entry.id });
    this.publish(entry, stale);
  }

  private publish(entry: Entry<K, V>, value: V): void {
    if (this.entries.get(entry.id) !== entry) return;
    entry.value = value;
    entry.stale = undefined;
    for (const w of [...entry.waiters]) {
      entry.waiters.delete(w);
      w.resolve(value);
    }
    for (const listener of [...entry.listeners]) this.deliver(entry, listener, value);
  }

  private deliver(entry: Entry<K, V>, listener: (value: V) => void, value: V): void {
    try {
      listener(value);
    } catch (err) {
      this.opts.logger.error('discovery subscriber failed', { target: entry.id, error: messageOf(err) });
    }
  }

  private remember(id: string, value: V): void {
    this.lastKnown.delete(id);
    this.lastKnown.set(id, value);
    const limit = this.opts.lastKnownLimit ?? 10_000;
    while (this.lastKnown.size > limit) {
      const oldest = this.lastKnown.keys().next();
      if (oldest.done === true) break;
      this.lastKnown.delete(oldest.value);
    }
  }

  private scheduleEviction(entry: Entry<K, V>): void {
    if (entry.cancelEviction !== undefined || this.opts.retain?.(entry.key) === true) return;
    entry.cancelEviction = this.opts.clock.setTimer(this.opts.idleTimeoutMs, () => {
      entry.cancelEviction = undefined;
      if (entry.listeners.size === 0) this.evict(entry);
    });
  }

  private evict(entry: Entry<K, V>): void {
    if (this.entries.get(entry.id) !== entry) return;
    this.entries.delete(entry.id);
    const last = entry.value ?? entry.stale;
    if (last !== undefined && !this.closed) this.remember(entry.id, last);
    entry.cancelEviction?.();
    entry.cancelEviction = undefined;
    this.opts.logger.debug('discovery watch evicted', { target: entry.id });
    for (const w of [...entry.waiters]) w.reject(new WatchClosedError(entry.id));
    entry.waiters.clear();
    entry.listeners.clear();
    const watch = entry.watch;
    entry.watch = undefined;
    watch?.close();
  }
}

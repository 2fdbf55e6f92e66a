// Per-endpoint pools of idle upstream HTTP/1 connections (spec §5.8): LIFO reuse, bounded idle
// count, idle timeout, and nothing reused that might carry a half-read message.
import type net from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';

/** Where requests go. Callers build one per endpoint and reuse it (it is not per request). */
export interface UpstreamTarget {
  /**
   * The pool key: the address and every setting that makes connections interchangeable
   * (TLS identity, SNI, ALPN, protocol …). Connections are only shared within one key.
   */
  readonly key: string;
  /** Opens a new connection (plain TCP or mTLS: the caller decides); rejects on failure. */
  connect(): Promise<net.Socket>;
}

export interface Http1PoolOptions {
  /** LINKERD2_PROXY_*_MAX_IDLE_CONNS_PER_ENDPOINT; default 10000. */
  readonly maxIdlePerKey?: number;
  /** Idle connections are closed after this long; default 3000 ms. */
  readonly idleTimeoutMs?: number;
  readonly clock?: Clock;
}

export interface PoolStats {
  idle: number;
  /** Checked out: carrying a request or a tunnel hand-off in progress. */
  active: number;
  /** Connection attempts in flight. */
  pending: number;
}

/** One upstream socket owned by a pool. */
export class UpstreamConnection {
  /** Taken from the idle list at least once (a stale keep-alive connection may fail first). */
  reused = false;
  idleSince = 0;
  /** It errored or closed: never reuse. */
  broken = false;
  idle = false;
  readonly onIdleEvent: () => void;

  constructor(
    readonly socket: net.Socket,
    readonly key: string,
    /** The pool it was checked out of, and must be returned to. */
    readonly pool: Http1Pool,
  ) {
    // Permanent: a socket error must never go unhandled, whoever holds the socket.
    socket.on('error', () => {
      this.broken = true;
    });
    socket.on('close', () => {
      this.broken = true;
    });
    this.onIdleEvent = () => this.pool.evict(this);
  }
}

interface KeyState {
  readonly idle: UpstreamConnection[];
  active: number;
  pending: number;
}

export class Http1Pool {
  private readonly keys = new Map<string, KeyState>();
  private readonly maxIdle: number;
  private readonly idleTimeoutMs: number;
  private readonly clock: Clock;
  private cancelSweep: (() => void) | undefined = undefined;
  private closed = false;
  private readonly totals: PoolStats = { idle: 0, active: 0, pending: 0 };

  constructor(opts: Http1PoolOptions = {}) {
    this.maxIdle = opts.maxIdlePerKey ?? 10000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 3000;
    this.clock = opts.clock ?? systemClock;
  }

  /** The most recently released healthy idle connection for key, checked out; else undefined. */
  take(key: string): UpstreamConnection | undefined {
    const ks = this.keys.get(key);
    if (ks === undefined) return undefined;
    const now = this.clock.monotonic();
    let conn: UpstreamConnection | undefined;
    while ((conn = ks.idle.pop()) !== undefined) {
      this.totals.idle--;
      this.unidle(conn);
      if (!conn.broken && usable(conn.socket) && now - conn.idleSince < this.idleTimeoutMs) {
        conn.reused = true;
        ks.active++;
        this.totals.active++;
        return conn;
      }
      conn.socket.destroy();
    }
    this.gc(key, ks);
    return undefined;
  }

  /** Opens a new connection for target, checked out (under `key`, default target.key). */
  async connect(target: UpstreamTarget, key: string = target.key): Promise<UpstreamConnection> {
    const ks = this.state(key);
    ks.pending++;
    this.totals.pending++;
    try {
      const socket = await target.connect();
      const conn = new UpstreamConnection(socket, key, this);
      ks.active++;
      this.totals.active++;
      return conn;
    } finally {
      ks.pending--;
      this.totals.pending--;
      this.gc(key, ks);
    }
  }

  /**
   * Returns a checked-out connection. Only pass reusable=true when both messages ended
   * cleanly and neither side asked to close; anything else is destroyed.
   */
  release(conn: UpstreamConnection, reusable: boolean): void {
    const ks = this.checkIn(conn);
    const s = conn.socket;
    if (!reusable || this.closed || conn.broken || !usable(s) || ks.idle.length >= this.maxIdle) {
      s.destroy();
      this.gc(conn.key, ks);
      return;
    }
    conn.idle = true;
    conn.idleSince = this.clock.monotonic();
    // While idle, any byte, EOF or error means the peer is done with the connection.
    s.on('data', conn.onIdleEvent);
    s.on('end', conn.onIdleEvent);
    s.on('close', conn.onIdleEvent);
    s.resume();
    s.unref();
    ks.idle.push(conn);
    this.totals.idle++;
    this.armSweep();
  }

  /** A checked-out connection that now belongs to someone else (an upgrade tunnel). */
  forget(conn: UpstreamConnection): void {
    this.gc(conn.key, this.checkIn(conn));
  }

  /** Counts for one key, or totals. */
  stats(key?: string): PoolStats {
    if (key === undefined) return { ...this.totals };
    const ks = this.keys.get(key);
    return ks === undefined ? { idle: 0, active: 0, pending: 0 } : { idle: ks.idle.length, active: ks.active, pending: ks.pending };
  }

  /** Closes every idle connection; connections released later are closed too. */
  close(): void {
    this.closed = true;
    this.cancelSweep?.();
    this.cancelSweep = undefined;
    for (const [key, ks] of this.keys) {
      for (const conn of ks.idle.splice(0)) {
        this.totals.idle--;
        this.unidle(conn);
        conn.socket.destroy();
      }
      this.gc(key, ks);
    }
  }

  /** Drops an idle connection whose peer closed it or sent something unasked. */
  evict(conn: UpstreamConnection): void {
    if (!conn.idle) return;
    const ks = this.keys.get(conn.key);
    const i = ks === undefined ? -1 : ks.idle.indexOf(conn);
    if (ks !== undefined && i !== -1) {
      ks.idle.splice(i, 1);
      this.totals.idle--;
    }
    this.unidle(conn);
    conn.broken = true;
    conn.socket.destroy();
    if (ks !== undefined) this.gc(conn.key, ks);
  }

  private checkIn(conn: UpstreamConnection): KeyState {
    const ks = this.state(conn.key);
    ks.active--;
    this.totals.active--;
    return ks;
  }

  private unidle(conn: UpstreamConnection): void {
    conn.idle = false;
    const s = conn.socket;
    s.off('data', conn.onIdleEvent);
    s.off('end', conn.onIdleEvent);
    s.off('close', conn.onIdleEvent);
    s.ref();
  }

  private state(key: string): KeyState {
    let ks = this.keys.get(key);
    if (ks === undefined) {
      ks = { idle: [], active: 0, pending: 0 };
      this.keys.set(key, ks);
    }
    return ks;
  }

  private gc(key: string, ks: KeyState): void {
    if (ks.idle.length === 0 && ks.active === 0 && ks.pending === 0) this.keys.delete(key);
  }

  private armSweep(): void {
    if (this.cancelSweep !== undefined || this.totals.idle === 0) return;
    let oldest = Infinity;
    for (const ks of this.keys.values()) {
      const first = ks.idle[0];
      if (first !== undefined && first.idleSince < oldest) oldest = first.idleSince;
    }
    const wait = Math.max(1, oldest + this.idleTimeoutMs - this.clock.monotonic());
    this.cancelSweep = this.clock.setTimer(wait, () => this.sweep());
  }

  private sweep(): void {
    this.cancelSweep = undefined;
    const deadline = this.clock.monotonic() - this.idleTimeoutMs;
    for (const [key, ks] of this.keys) {
      // Oldest first: the list is in release order.
      while (ks.idle.length > 0 && ks.idle[0]!.idleSince <= deadline) {
        const conn = ks.idle.shift()!;
        this.totals.idle--;
        this.unidle(conn);
        conn.socket.destroy();
      }
      this.gc(key, ks);
    }
    this.armSweep();
  }
}

function usable(s: net.Socket): boolean {
  return !s.destroyed && s.writable && !s.readableEnded;
}

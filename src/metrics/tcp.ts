// Legacy transport families (tcp_open_total, tcp_open_connections, tcp_{read,write}_bytes_total,
// tcp_close_total{errno}), one handle per label set and no work per chunk.
//
// Bytes are not counted as they flow: each handle keeps its live sockets and, at scrape time,
// adds what socket.bytesRead / socket.bytesWritten moved since the previous scrape; the final
// delta is added when the socket closes. errno is the code of the error the socket was destroyed
// with (`socket.errored`), e.g. ECONNRESET; "" for a clean close. Watching `errored` at close,
// rather than adding an 'error' listener, leaves the owner's error handling exactly as it was.

import type { Socket } from 'node:net';
import { errnoOf } from '../core/errors.js';
import { DEFAULT_RETAIN_IDLE_MS } from './legacy-family.js';
import { joinLabels, renderLabels, writeHelp, writeSample, type LabelSet } from './legacy-format.js';
import type { LegacyReport } from './legacy-registry.js';

const kTracked = Symbol('linkerd.tcpMetrics');

interface TrackedSocket extends Socket {
  [kTracked]?: TrackedConn;
}

interface TrackedConn {
  readonly handle: TcpLabelsHandle;
  readonly socket: Socket;
  /** bytesRead / bytesWritten already added to the handle. */
  read: number;
  written: number;
}

export interface TcpMetricsOptions {
  /** Handles with no live sockets, unchanged for longer than this, are dropped. Default 10m. */
  readonly retainIdleMs?: number;
}

export class TcpMetrics implements LegacyReport {
  private readonly handles = new Map<string, TcpLabelsHandle>();
  private readonly retainIdleMs: number;

  constructor(opts: TcpMetricsOptions = {}) {
    this.retainIdleMs = opts.retainIdleMs ?? DEFAULT_RETAIN_IDLE_MS;
  }

  /** The handle for one label set (see labels.ts for the four keys); call once per target. */
  bind(labels: LabelSet | string): TcpLabelsHandle {
    const key = typeof labels === 'string' ? labels : renderLabels(labels);
    let h = this.handles.get(key);
    if (h === undefined) {
      h = new TcpLabelsHandle(this, key);
      this.handles.set(key, h);
    }
    return h;
  }

  get size(): number {
    return this.handles.size;
  }

  render(out: string[], nowMs: number): void {
    if (this.handles.size === 0) return;
    const handles = [...this.handles.values()];
    for (const h of handles) h.flushLive();

    writeHelp(out, 'tcp_open_total', 'Total count of opened connections', 'counter');
    for (const h of handles) writeSample(out, 'tcp_open_total', h.labels, h.openTotal);
    writeHelp(out, 'tcp_open_connections', 'Number of currently-open connections', 'gauge');
    for (const h of handles) writeSample(out, 'tcp_open_connections', h.labels, h.openConnections);
    writeHelp(out, 'tcp_read_bytes_total', 'Total count of bytes read from peers', 'counter');
    for (const h of handles) writeSample(out, 'tcp_read_bytes_total', h.labels, h.readBytes);
    writeHelp(out, 'tcp_write_bytes_total', 'Total count of bytes written to peers', 'counter');
    for (const h of handles) writeSample(out, 'tcp_write_bytes_total', h.labels, h.writeBytes);
    writeHelp(out, 'tcp_close_total', 'Total count of closed connections', 'counter');
    for (const h of handles) {
      for (const [errno, n] of h.closeTotal) {
        writeSample(out, 'tcp_close_total', joinLabels(h.labels, `errno="${errno}"`), n);
      }
    }

    for (const h of handles) {
      if (h.dirty || Number.isNaN(h.changedAt)) {
        h.dirty = false;
        h.changedAt = nowMs;
      } else if (h.liveCount === 0 && nowMs - h.changedAt > this.retainIdleMs) {
        h.evicted = true;
        this.handles.delete(h.labels);
      }
    }
  }

  /** @internal a dropped handle is used again: revive it, or defer to the one that took its key. */
  reclaim(h: TcpLabelsHandle): TcpLabelsHandle {
    const existing = this.handles.get(h.labels);
    if (existing !== undefined) return existing;
    h.evicted = false;
    h.changedAt = NaN;
    this.handles.set(h.labels, h);
    return h;
  }
}

export class TcpLabelsHandle {
  openTotal = 0;
  openConnections = 0;
  readBytes = 0;
  writeBytes = 0;
  /** errno ("" for a clean close) → count. */
  readonly closeTotal = new Map<string, number>();
  /** @internal */
  dirty = false;
  /** @internal */
  changedAt = NaN;
  /** @internal */
  evicted = false;
  private readonly live = new Set<TrackedConn>();

  constructor(
    private readonly owner: TcpMetrics,
    /** Pre-rendered labels. */
    readonly labels: string,
  ) {}

  get liveCount(): number {
    return this.live.size;
  }

  /**
   * Counts a new connection now and its bytes and close later. Pass the raw TCP socket (wire
   * bytes, TLS included, as upstream counts). A socket already tracked is ignored.
   */
  track(socket: Socket): void {
    const s = socket as TrackedSocket;
    if (s[kTracked] !== undefined) return;
    const h = this.evicted ? this.owner.reclaim(this) : this;
    const conn: TrackedConn = { handle: h, socket, read: 0, written: 0 };
    s[kTracked] = conn;
    h.openTotal++;
    h.openConnections++;
    h.dirty = true;
    h.live.add(conn);
    if (socket.closed) onTrackedClose.call(socket);
    else socket.on('close', onTrackedClose);
  }

  /** @internal */
  flushLive(): void {
    for (const conn of this.live) this.flushBytes(conn);
  }

  /** @internal */
  closed(conn: TrackedConn, errno: string): void {
    if (!this.live.delete(conn)) return;
    this.flushBytes(conn);
    this.openConnections--;
    this.closeTotal.set(errno, (this.closeTotal.get(errno) ?? 0) + 1);
    this.dirty = true;
  }

  private flushBytes(conn: TrackedConn): void {
    const read = conn.socket.bytesRead;
    if (typeof read === 'number' && read > conn.read) {
      this.readBytes += read - conn.read;
      conn.read = read;
      this.dirty = true;
    }
    const written = conn.socket.bytesWritten;
    if (typeof written === 'number' && written > conn.written) {
      this.writeBytes += written - conn.written;
      conn.written = written;
      this.dirty = true;
    }
  }
}

/** Shared by every tracked socket (`this` is the socket), so tracking allocates no closure. */
function onTrackedClose(this: Socket): void {
  const conn = (this as TrackedSocket)[kTracked];
  if (conn === undefined) return;
  conn.handle.closed(conn, errnoOf(this.errored) ?? '');
}

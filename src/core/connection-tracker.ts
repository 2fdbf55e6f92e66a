// Tracks the proxy's open connections so shutdown can wait for them to drain, then cut the rest.
import type net from 'node:net';

export class ConnectionTracker {
  private readonly open = new Set<net.Socket>();
  private waiters: (() => void)[] = [];

  /** Registers a socket until it closes. */
  add(socket: net.Socket): void {
    if (socket.destroyed) return;
    this.open.add(socket);
    socket.once('close', () => {
      this.open.delete(socket);
      if (this.open.size === 0) this.wake();
    });
  }

  get size(): number {
    return this.open.size;
  }

  /** Resolves once no tracked socket is open (immediately if none is). */
  drained(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Destroys every socket still open (after the grace period ran out). */
  destroyAll(): void {
    for (const s of this.open) s.destroy();
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

// Holds accepted connections until the proxy may serve (the first certificate), then releases them.
import type net from 'node:net';

/**
 * The Rust proxy binds its listeners at once but accepts nothing until identity is ready;
 * connections wait in the kernel backlog. Node cannot listen without accepting, so accepted
 * sockets are held here, paused and unread, which a client cannot tell apart.
 */
export class ServeGate {
  private held: { socket: net.Socket; handle: (s: net.Socket) => void }[] = [];
  private isOpen = false;

  get opened(): boolean {
    return this.isOpen;
  }

  /** Runs handle(socket) now if open, else once the gate opens (unless the socket closed). */
  admit(socket: net.Socket, handle: (s: net.Socket) => void): void {
    if (this.isOpen) {
      handle(socket);
      return;
    }
    this.held.push({ socket, handle });
  }

  open(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    const held = this.held;
    this.held = [];
    for (const { socket, handle } of held) {
      if (!socket.destroyed) handle(socket);
    }
  }

  /** Drops held sockets (shutdown before identity ever arrived). */
  discard(): void {
    for (const { socket } of this.held) socket.destroy();
    this.held = [];
  }
}

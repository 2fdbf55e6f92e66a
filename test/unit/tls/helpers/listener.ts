// A loopback TCP listener accepting paused sockets (as the proxy's listeners do), closed at teardown.
import net from 'node:net';
import type { Test } from 'tap';

export async function pausedListener(t: Test, onSocket: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** The next accepted socket of a fresh paused listener, plus its port. */
export async function acceptOne(t: Test): Promise<{ port: number; accepted: Promise<net.Socket> }> {
  let resolve!: (s: net.Socket) => void;
  const accepted = new Promise<net.Socket>((r) => (resolve = r));
  const port = await pausedListener(t, (s) => resolve(s));
  return { port, accepted };
}

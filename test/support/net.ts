// Small socket helpers for tests: echo servers, collecting bytes, waiting for close.
import net from 'node:net';
import { once } from 'node:events';

/** An echo server on 127.0.0.1:0 that echoes until the client half-closes, then ends. */
export async function echoServer(): Promise<{ server: net.Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    server,
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Connects, writes `payload`, half-closes, and resolves with everything read until EOF. */
export async function roundTrip(port: number, payload: Buffer | string, host = '127.0.0.1'): Promise<Buffer> {
  const s = net.connect({ port, host, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  await once(s, 'connect');
  s.end(payload);
  await once(s, 'end');
  s.destroy();
  return Buffer.concat(chunks);
}

/** Resolves with how a socket ended: 'end' (FIN), 'reset' (ECONNRESET) or 'error:<code>'. */
export function closeReason(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let err: string | undefined;
    s.on('error', (e: NodeJS.ErrnoException) => (err = e.code === 'ECONNRESET' ? 'reset' : `error:${e.code ?? e.message}`));
    s.on('end', () => (err ??= 'end'));
    s.resume();
    s.on('close', () => resolve(err ?? 'closed'));
  });
}

export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPortOf(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

// One grpc-js server on one address, plaintext (h2c) or TLS 1.3 with a rotating certificate; port 0 allowed.
import net from 'node:net';
import tls from 'node:tls';
import type { SecureContextOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { formatSocketAddr } from '../../config/addrs.js';
import { ProxyError } from '../../core/errors.js';
import type { KeyedCertificate } from '../ca/dev-ca.js';
import type { RotatingCertificate } from '../ca/rotating.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` / `[v6]:port` (port 0 = any free port). */
export function parseListenAddr(text: string, what: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new ProxyError(`${what} '${text}' is not host:port (e.g. 127.0.0.1:8086, [::1]:0)`, 'devmesh_listen_addr');
  }
  return { host, port };
}

export interface GrpcListener {
  readonly addr: HostPort;
  readonly tls: boolean;
  /** Ends every open stream via `beforeClose`, then closes (forcefully after a short grace period). */
  close(): Promise<void>;
}

const CLOSE_GRACE_MS = 500;

function listenError(target: string, err: Error): ProxyError {
  return new ProxyError(`cannot listen on ${target}: ${err.message}`, 'devmesh_listen', 'internal', { cause: err });
}

/** Statuses first, then a graceful shutdown so they are flushed rather than reset; forced after the grace period. */
function shutdown(server: grpc.Server, beforeClose: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve();
    };
    beforeClose();
    const timer = setTimeout(() => {
      server.forceShutdown();
      finish();
    }, CLOSE_GRACE_MS);
    timer.unref();
    server.tryShutdown(finish);
  });
}

/** Binds `server` (services already added) to `addr` in plaintext, HTTP/2 with prior knowledge. */
export async function listenPlaintext(server: grpc.Server, addr: HostPort, beforeClose: () => void): Promise<GrpcListener> {
  const target = formatSocketAddr(addr);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(listenError(target, err)) : resolve(bound)));
  });
  let closing: Promise<void> | undefined;
  return { addr: { host: addr.host, port }, tls: false, close: () => (closing ??= shutdown(server, beforeClose)) };
}

function contextOptions(cert: KeyedCertificate, trustAnchorPem: string): SecureContextOptions {
  // minVersion goes into every context: Node resets what a context update leaves out.
  return { ca: trustAnchorPem, cert: cert.certChainPem, key: cert.keyPem, minVersion: 'TLSv1.3' };
}

/**
 * Serves `server` over TLS 1.3 terminated here rather than by grpc-js, whose HTTP/2 server turns
 * away clients that offer no ALPN — and linkerd2-proxy offers none on control-plane connections.
 * `h2` is offered for clients that ask. Client certificates are requested (chained to the trust
 * anchor) but optional: a proxy asking for its first certificate has none. New handshakes use the
 * renewed certificate; open connections keep theirs.
 */
export async function listenTls(
  server: grpc.Server,
  addr: HostPort,
  cert: RotatingCertificate<KeyedCertificate>,
  trustAnchorPem: string,
  beforeClose: () => void,
): Promise<GrpcListener> {
  const target = formatSocketAddr(addr);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sockets = new Set<net.Socket>();
  const tlsServer = tls.createServer({ ...contextOptions(cert.current(), trustAnchorPem), requestCert: true, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, (socket) => {
    // Node's HTTP/2 server answers 403 to a TLS socket that negotiated nothing; with no ALPN the
    // client speaks HTTP/2 by prior knowledge, so record that as what was agreed.
    if (socket.alpnProtocol === false) socket.alpnProtocol = 'h2';
    injector.injectConnection(socket);
  });
  tlsServer.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A failed handshake is the client's problem; the server carries on.
  tlsServer.on('tlsClientError', () => undefined);
  const unsubscribe = cert.onRotate((next) => tlsServer.setSecureContext(contextOptions(next, trustAnchorPem)));
  const port = await new Promise<number>((resolve, reject) => {
    tlsServer.once('error', (err: Error) => reject(listenError(target, err)));
    tlsServer.listen({ host: addr.host, port: addr.port }, () => resolve((tlsServer.address() as net.AddressInfo).port));
  }).catch((err: unknown) => {
    unsubscribe();
    injector.destroy();
    throw err;
  });
  let closing: Promise<void> | undefined;
  return {
    addr: { host: addr.host, port },
    tls: true,
    close: () => {
      closing ??= (async () => {
        unsubscribe();
        tlsServer.close();
        await shutdown(server, beforeClose);
        injector.destroy();
        for (const s of sockets) s.destroy();
      })();
      return closing;
    },
  };
}

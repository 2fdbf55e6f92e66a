// A TLS 1.3 server standing in for a peer proxy's inbound port: it records the handshake and any transport header, then echoes.
import tls from 'node:tls';
import net from 'node:net';
import { once } from 'node:events';
import type { Test } from 'tap';
import { TRANSPORT_HEADER_ALPN, TransportHeaderDecoder, type TransportHeader } from '../../../../src/transport/transport-header.js';
import type { Issuer, Leaf } from '../../../support/pki.js';

export interface PeerSession {
  readonly servername: string | false;
  readonly alpn: string | false;
  /** The client certificate's subjectAltName text. */
  readonly clientSan: string | undefined;
  /** The header, when the session negotiated ALPN transport.l5d.io/v1. */
  readonly header: TransportHeader | undefined;
  /** The first application bytes after any header. */
  readonly firstBytes: string;
}

export interface TlsPeer {
  readonly port: number;
  /** Sessions that have sent application bytes, in order. */
  readonly sessions: PeerSession[];
}

/** `transportHeader`: advertise ALPN transport.l5d.io/v1 and read a header first, as a peer's inbound port does. */
export async function tlsPeer(t: Test, leaf: Leaf, ca: Issuer, opts: { transportHeader: boolean }): Promise<TlsPeer> {
  const sessions: PeerSession[] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    {
      key: leaf.keyPem,
      cert: leaf.chainPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      ...(opts.transportHeader ? { ALPNProtocols: [TRANSPORT_HEADER_ALPN] } : {}),
    },
    (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      const base = { servername: socket.servername ?? false, alpn: socket.alpnProtocol ?? false, clientSan: socket.getPeerX509Certificate()?.subjectAltName };
      const decoder = opts.transportHeader && socket.alpnProtocol === TRANSPORT_HEADER_ALPN ? new TransportHeaderDecoder() : undefined;
      let header: TransportHeader | undefined;
      const onData = (chunk: Buffer): void => {
        let rest = chunk;
        if (decoder !== undefined && header === undefined) {
          const r = decoder.feed(chunk);
          if (r.kind === 'incomplete') return;
          if (r.kind === 'error') {
            socket.destroy();
            return;
          }
          header = r.header;
          rest = r.rest;
          if (rest.length === 0) return;
        }
        socket.off('data', onData);
        sessions.push({ ...base, header, firstBytes: rest.toString() });
        socket.write(rest);
        socket.pipe(socket);
      };
      socket.on('data', onData);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions,
  };
}

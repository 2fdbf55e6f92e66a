// Mesh TLS termination on an accepted connection whose ClientHello named our server name.
import type net from 'node:net';
import tls from 'node:tls';
import { systemClock, type Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import type { Credentials } from '../identity/types.js';
import { defaultMeshTlsContexts, type MeshTlsContexts } from './contexts.js';
import { TlsHandshakeFailed, TlsHandshakeTimeout, TlsPeerCertificateInvalid } from './errors.js';
import { firstSanIdentity } from './peer-identity.js';

export interface TerminateTlsOptions {
  /** ALPN protocols to advertise; only the direct (inbound-port) server sets `transport.l5d.io/v1`. */
  readonly alpn?: readonly string[];
  readonly timeoutMs: number;
  readonly clock?: Clock;
  readonly contexts?: MeshTlsContexts;
}

export interface TlsAccepted {
  /** Attach an 'error' listener (or pipe it) right away: its errors are the caller's now. */
  readonly tlsSocket: tls.TLSSocket;
  /** First DNS/URI SAN identity of a verified client certificate; undefined without one. */
  readonly clientId: string | undefined;
  readonly negotiatedAlpn: string | undefined;
}

/**
 * Runs the server side of a TLS 1.3 handshake on `socket` (which must still hold the
 * ClientHello: detectTls leaves it there). Client certificates are optional, but one that is
 * presented must chain to our trust anchors, else the connection is destroyed and this rejects
 * with TlsPeerCertificateInvalid. A handshake that doesn't finish within `timeoutMs` destroys
 * the connection (TlsHandshakeTimeout); any other failure rejects with TlsHandshakeFailed.
 */
export function terminateTls(socket: net.Socket, creds: Credentials, opts: TerminateTlsOptions): Promise<TlsAccepted> {
  return new Promise((resolve, reject) => {
    let secureContext: tls.SecureContext;
    try {
      secureContext = (opts.contexts ?? defaultMeshTlsContexts).get(creds);
    } catch (err) {
      socket.destroy();
      reject(new TlsHandshakeFailed(`unusable credentials: ${messageOf(err)}`, 'internal', { cause: err }));
      return;
    }
    const tlsSocket = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      // Node's verify callback accepts every chain during the handshake and records the
      // result, which is how an optional client certificate is expressed; onSecure enforces it.
      requestCert: true,
      rejectUnauthorized: false,
      ...(opts.alpn !== undefined && opts.alpn.length > 0 ? { ALPNProtocols: [...opts.alpn] } : {}),
    });
    const clock = opts.clock ?? systemClock;
    const cancelTimer = clock.setTimer(opts.timeoutMs, () => fail(new TlsHandshakeTimeout(opts.timeoutMs, 'downstream')));

    function onSecure(): void {
      const peer = tlsSocket.getPeerX509Certificate();
      let clientId: string | undefined;
      if (peer !== undefined) {
        const problem = verifyProblem(tlsSocket);
        if (problem !== undefined) {
          fail(new TlsPeerCertificateInvalid('client', problem.code, problem.text, { cause: problem.cause }));
          return;
        }
        clientId = firstSanIdentity(peer.raw);
      }
      stop();
      const alpn = tlsSocket.alpnProtocol;
      resolve({ tlsSocket, clientId, negotiatedAlpn: typeof alpn === 'string' ? alpn : undefined });
    }
    function onError(err: Error): void {
      fail(new TlsHandshakeFailed(messageOf(err), 'downstream', { cause: err }));
    }
    function onClose(): void {
      fail(new TlsHandshakeFailed('connection closed during the handshake', 'downstream'));
    }
    // Half-open sockets stay open after the peer's FIN; a FIN before the handshake is done
    // means the peer gave up (e.g. it rejected our certificate), so don't wait for the timeout.
    function onEnd(): void {
      fail(new TlsHandshakeFailed('peer closed the connection during the handshake', 'downstream'));
    }
    function stop(): void {
      cancelTimer();
      tlsSocket.off('secure', onSecure);
      tlsSocket.off('error', onError);
      tlsSocket.off('close', onClose);
      tlsSocket.off('end', onEnd);
    }
    function fail(err: Error): void {
      stop();
      // Late errors from the dying socket must not become uncaught exceptions.
      tlsSocket.on('error', ignore);
      tlsSocket.destroy();
      socket.destroy();
      reject(err);
    }

    tlsSocket.on('secure', onSecure);
    tlsSocket.on('error', onError);
    tlsSocket.on('close', onClose);
    tlsSocket.on('end', onEnd);
  });
}

interface VerifyProblem {
  readonly code: string;
  readonly text: string;
  readonly cause?: Error;
}

/**
 * The verification result OpenSSL recorded for the client's chain. A standalone server
 * TLSSocket never sets `authorized` (only tls.Server does, from this same handle method), so
 * read it directly; if a future Node lacks it, refuse the certificate rather than trust it.
 */
function verifyProblem(tlsSocket: tls.TLSSocket): VerifyProblem | undefined {
  const handle = (tlsSocket as unknown as { _handle?: { verifyError?: () => (Error & { code?: unknown }) | null } })._handle;
  if (typeof handle?.verifyError !== 'function') {
    return { code: 'UNVERIFIABLE', text: 'cannot read the verification result' };
  }
  const err = handle.verifyError();
  if (err === null || err === undefined) return undefined;
  return { code: typeof err.code === 'string' ? err.code : 'UNKNOWN', text: err.message, cause: err };
}

function ignore(): void {}

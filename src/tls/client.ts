// Mesh TLS origination on a connected TCP socket: TLS 1.3 with our client certificate, server identity checked by SAN.
import type net from 'node:net';
import tls from 'node:tls';
import { systemClock, type Clock } from '../core/clock.js';
import { errnoOf, messageOf } from '../core/errors.js';
import type { Credentials } from '../identity/types.js';
import { defaultMeshTlsContexts, type MeshTlsContexts } from './contexts.js';
import { PeerIdentityMismatch, TlsHandshakeFailed, TlsHandshakeTimeout, TlsPeerCertificateInvalid } from './errors.js';
import { parseIdentity, sanIdentities } from './peer-identity.js';

export interface ConnectMtlsOptions {
  /** SNI to send: the endpoint's server name from discovery. */
  readonly serverName: string;
  /** The identity the server's leaf must carry among its DNS or URI SANs. */
  readonly expectedServerId: string;
  /** ALPN to offer; only transport-header connections offer `transport.l5d.io/v1`. */
  readonly alpn?: readonly string[];
  readonly timeoutMs: number;
  readonly clock?: Clock;
  readonly contexts?: MeshTlsContexts;
}

/**
 * Runs the client side of a TLS 1.3 handshake over `socket` and resolves with the TLS socket
 * once the server is authenticated: its chain verifies against our trust anchors (the host
 * name plays no part, spec §6.2) and its leaf names `expectedServerId`. Sessions are never
 * resumed (no session is offered). Rejects with TlsPeerCertificateInvalid (OpenSSL's reason,
 * e.g. "certificate has expired"), PeerIdentityMismatch, TlsHandshakeTimeout or
 * TlsHandshakeFailed, after destroying the connection. The caller must attach an 'error'
 * listener to the resolved socket right away.
 */
export function connectMtls(socket: net.Socket, creds: Credentials, opts: ConnectMtlsOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    let secureContext: tls.SecureContext;
    try {
      secureContext = (opts.contexts ?? defaultMeshTlsContexts).get(creds);
    } catch (err) {
      socket.destroy();
      reject(new TlsHandshakeFailed(`unusable credentials: ${messageOf(err)}`, 'internal', { cause: err }));
      return;
    }
    const tlsSocket = tls.connect({
      socket,
      secureContext,
      servername: opts.serverName,
      rejectUnauthorized: true,
      // The chain is still verified by OpenSSL; identity is checked against the SANs below.
      checkServerIdentity: () => undefined,
      ...(opts.alpn !== undefined && opts.alpn.length > 0 ? { ALPNProtocols: [...opts.alpn] } : {}),
    });
    const clock = opts.clock ?? systemClock;
    const cancelTimer = clock.setTimer(opts.timeoutMs, () => fail(new TlsHandshakeTimeout(opts.timeoutMs, 'upstream')));

    function onSecureConnect(): void {
      const peer = tlsSocket.getPeerX509Certificate();
      if (peer === undefined) {
        fail(new TlsPeerCertificateInvalid('server', 'NO_PEER_CERTIFICATE', 'no certificate presented'));
        return;
      }
      const presented = sanIdentities(peer.raw);
      const expected = parseIdentity(opts.expectedServerId);
      if (expected === undefined || !presented.includes(expected)) {
        fail(new PeerIdentityMismatch(opts.expectedServerId, presented));
        return;
      }
      stop();
      resolve(tlsSocket);
    }
    function onError(err: Error): void {
      const code = (err as { code?: unknown }).code;
      if (isVerifyCode(code) && errnoOf(err) === undefined) {
        fail(new TlsPeerCertificateInvalid('server', code, err.message, { cause: err }));
      } else {
        fail(new TlsHandshakeFailed(messageOf(err), 'upstream', { cause: err }));
      }
    }
    function onClose(): void {
      fail(new TlsHandshakeFailed('connection closed during the handshake', 'upstream'));
    }
    function stop(): void {
      cancelTimer();
      tlsSocket.off('secureConnect', onSecureConnect);
      tlsSocket.off('error', onError);
      tlsSocket.off('close', onClose);
    }
    function fail(err: Error): void {
      stop();
      tlsSocket.on('error', ignore);
      tlsSocket.destroy();
      socket.destroy();
      reject(err);
    }

    tlsSocket.on('secureConnect', onSecureConnect);
    tlsSocket.on('error', onError);
    tlsSocket.on('close', onClose);
  });
}

/**
 * Node reports a failed chain verification with OpenSSL's X509_V_ERR name minus the prefix
 * (CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE…), unlike protocol errors (ERR_SSL_…)
 * and socket errors (ECONNRESET…).
 */
function isVerifyCode(code: unknown): code is string {
  return typeof code === 'string' && /^[A-Z0-9]+(?:_[A-Z0-9]+)+$/.test(code) && !code.startsWith('ERR_');
}

function ignore(): void {}

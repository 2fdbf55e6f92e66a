// Typed errors of the mesh TLS layer; `code` values are stable (logs, error metric labels).
import { ProxyError, type ErrorSource } from '../core/errors.js';

/** The peer sent neither a complete ClientHello nor anything else in time (spec §3.1). */
export class TlsDetectTimeout extends ProxyError {
  constructor(readonly timeoutMs: number) {
    super('TLS detection timed out', 'tls detection timeout', 'downstream');
  }
}

/** The connection closed or failed before TLS detection finished. */
export class TlsDetectClosed extends ProxyError {
  constructor(options?: { cause?: unknown }) {
    super('connection closed before TLS detection completed', 'tls detection closed', 'downstream', options);
  }
}

/** The TLS handshake did not finish within its timeout. */
export class TlsHandshakeTimeout extends ProxyError {
  constructor(readonly timeoutMs: number, source: 'upstream' | 'downstream') {
    super(`TLS handshake timed out after ${timeoutMs}ms`, 'tls handshake timeout', source);
  }
}

/** The handshake failed (protocol version, alert, reset, unusable credentials…); `cause` holds the OpenSSL/Node error. */
export class TlsHandshakeFailed extends ProxyError {
  constructor(message: string, source: ErrorSource, options?: { cause?: unknown }) {
    super(`TLS handshake failed: ${message}`, 'tls handshake failed', source, options);
  }
}

/**
 * The peer's certificate chain does not verify against our trust anchors. `reason` is the
 * OpenSSL verify code (e.g. CERT_HAS_EXPIRED); the message carries OpenSSL's text for it.
 */
export class TlsPeerCertificateInvalid extends ProxyError {
  constructor(
    readonly peer: 'server' | 'client',
    readonly reason: string,
    text: string,
    options?: { cause?: unknown },
  ) {
    super(`${peer} certificate rejected: ${text}`, 'tls peer certificate invalid', peer === 'server' ? 'upstream' : 'downstream', options);
  }
}

/** The server's certificate verifies, but does not name the identity discovery told us to expect. */
export class PeerIdentityMismatch extends ProxyError {
  constructor(
    readonly expected: string,
    readonly presented: readonly string[],
  ) {
    const shown = presented.length > 0 ? presented.join(', ') : '(no DNS or URI SAN)';
    super(`server identity mismatch: expected ${expected}, certificate presents ${shown}`, 'tls peer identity mismatch', 'upstream');
  }
}

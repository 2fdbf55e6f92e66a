// Inbound TLS step: detect a ClientHello, terminate when it names us, pass it through when it names another server.
import type net from 'node:net';
import type tls from 'node:tls';
import type { Credentials } from '../identity/types.js';
import type { TlsAccept } from '../metrics/index.js';
import { detectTls } from '../tls/detect.js';
import { terminateTls } from '../tls/server.js';

/** What the TLS step decided for one connection. */
export type InboundTls =
  /** We terminated: the stream to forward is the decrypted `tlsSocket`. */
  | { readonly kind: 'terminated'; readonly tlsSocket: tls.TLSSocket; readonly clientId: string | undefined; readonly alpn: string | undefined; readonly status: TlsAccept }
  /** Plaintext, or TLS for another server (passed through untouched): forward the raw socket. */
  | { readonly kind: 'raw'; readonly status: TlsAccept }
  /** The peer closed before sending anything. */
  | { readonly kind: 'eof' };

export interface TlsAcceptOptions {
  readonly serverName: string;
  readonly timeoutMs: number;
  /** ALPN protocols to offer when terminating (the direct path offers transport.l5d.io/v1). */
  readonly alpn?: readonly string[];
}

const NO_TLS_FROM_REMOTE: TlsAccept = Object.freeze({ kind: 'none', reason: 'no_tls_from_remote' });

/**
 * Reads (and puts back) the start of the stream to classify it, as the Rust proxy peeks.
 * Rejects on detection timeout (the caller closes the connection: inbound never treats a
 * silent peer as opaque) or on a failed handshake.
 */
export async function acceptTls(socket: net.Socket, creds: Credentials, opts: TlsAcceptOptions): Promise<InboundTls> {
  const { result } = await detectTls(socket, { timeoutMs: opts.timeoutMs });
  if (result.kind === 'eof') return { kind: 'eof' };
  // A ClientHello without SNI is treated like no TLS at all, as upstream does.
  if (result.kind === 'not-tls' || result.sni === undefined) return { kind: 'raw', status: NO_TLS_FROM_REMOTE };
  if (result.sni !== opts.serverName) return { kind: 'raw', status: { kind: 'passthru', sni: result.sni } };
  const accepted = await terminateTls(socket, creds, {
    timeoutMs: opts.timeoutMs,
    ...(opts.alpn !== undefined ? { alpn: opts.alpn } : {}),
  });
  return {
    kind: 'terminated',
    tlsSocket: accepted.tlsSocket,
    clientId: accepted.clientId,
    alpn: accepted.negotiatedAlpn,
    status: { kind: 'established', clientId: accepted.clientId },
  };
}

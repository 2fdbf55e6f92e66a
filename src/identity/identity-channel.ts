// The gRPC channel to the identity service: TLS verifying the service's identity, plaintext on loopback.
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { messageOf } from '../core/errors.js';
import { describeSans, namesIdentity, subjectAltNames } from './x509.js';

/** How to reach the identity service: no TLS, or TLS naming `serverName` (SNI) and proving `serverId`. */
export type IdentityServiceTls =
  | { readonly kind: 'none' }
  | { readonly kind: 'mtls'; readonly serverName: string; readonly serverId: string };

export interface ChannelSetup {
  readonly target: string;
  readonly credentials: grpc.ChannelCredentials;
  readonly options: grpc.ChannelOptions;
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost: traffic that never leaves the host. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (h === 'localhost') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  // The WHATWG URL parser prints IPv6 in canonical compressed form, so ::1 has one spelling.
  return isIP(h) === 6 && new URL(`http://[${h}]/`).hostname === '[::1]';
}

export function grpcTarget(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, '');
  return isIP(bare) === 6 ? `[${bare}]:${port}` : `${bare}:${port}`;
}

/**
 * The identity connection is TLS without a client certificate (we have none yet). The server's
 * chain must reach our trust anchors and its leaf must name the expected identity exactly; the
 * usual hostname rules don't apply since the name is an identity, not the address we dial.
 */
export function identityChannel(
  addr: { host: string; port: number },
  tls: IdentityServiceTls,
  trustAnchorsPem: string,
  plaintextOnLoopback = true,
): ChannelSetup {
  const target = grpcTarget(addr.host, addr.port);
  if (tls.kind === 'none' || (plaintextOnLoopback && isLoopbackHost(addr.host))) {
    return { target, credentials: grpc.credentials.createInsecure(), options: {} };
  }
  const expected = tls.serverId;
  const secureContext = createSecureContext({ ca: trustAnchorsPem, minVersion: 'TLSv1.3' });
  const credentials = grpc.credentials.createFromSecureContext(secureContext, {
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkPeerIdentity(cert, expected),
  });
  return { target, credentials, options: { 'grpc.ssl_target_name_override': tls.serverName } };
}

function checkPeerIdentity(cert: PeerCertificate, expected: string): Error | undefined {
  let sans;
  try {
    sans = subjectAltNames(cert.raw);
  } catch (err) {
    return new Error(`identity service certificate could not be parsed: ${messageOf(err)}`);
  }
  if (namesIdentity(sans, expected)) return undefined;
  return new Error(`identity service certificate does not name ${expected}; it names ${describeSans(sans)}`);
}

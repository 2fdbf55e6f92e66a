// How a control-plane gRPC channel is set up: plaintext on loopback, else mTLS with our current certificate.
import type { PeerCertificate } from 'node:tls';
import { createSecureContext } from 'node:tls';
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { ControlAddr, ControlPlaneClient } from '../config/types.js';
import { ProxyError, messageOf } from '../core/errors.js';
import { isLoopbackHost, type ChannelSetup } from '../identity/identity-channel.js';
import type { IdentitySource } from '../identity/types.js';
import { describeSans, namesIdentity, subjectAltNames } from '../identity/x509.js';

export type { ChannelSetup };

/** The channel needs our certificate and the identity source has none yet; `ready` settles when it does. */
export class NoCredentialsError extends ProxyError {
  constructor(readonly ready: Promise<unknown>) {
    super('no TLS credentials yet for the control-plane connection', 'control_no_credentials');
  }
}

export interface ControlChannelOptions {
  /** Connect in plaintext when the address is loopback even if TLS is configured (default true, as the config does). */
  readonly plaintextOnLoopback?: boolean;
}

/**
 * grpc-js target for a control-plane address. Names go through grpc-js' DNS resolver (re-resolved
 * when connections fail); the `:authority` of calls is then `host:port` as configured.
 */
export function controlTarget(addr: ControlAddr): string {
  const bare = addr.host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 6) return `ipv6:[${bare}]:${addr.port}`;
  if (isIP(bare) === 4) return `ipv4:${bare}:${addr.port}`;
  return `dns:${bare}:${addr.port}`;
}

/** `host:port` for log lines and errors (IPv6 bracketed). */
export function formatControlAddr(addr: ControlAddr): string {
  return isIP(addr.host) === 6 ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

/**
 * Channel options every control-plane channel uses: grpc-js' own connection backoff follows the
 * client's connect backoff (its default grows to two minutes, which would outlast our stream
 * retries), and streams spread over every resolved address as the Rust proxy balances them.
 */
function baseOptions(client: ControlPlaneClient): grpc.ChannelOptions {
  const { backoff } = client.connect;
  const options: grpc.ChannelOptions = {
    'grpc.initial_reconnect_backoff_ms': Math.max(1, Math.round(backoff.minMs)),
    'grpc.max_reconnect_backoff_ms': Math.max(1, Math.round(backoff.maxMs)),
  };
  if (client.addr.hostKind === 'name') {
    options['grpc.service_config'] = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });
    // Our service config is the only one: no TXT lookups for the control-plane name.
    options['grpc.service_config_disable_resolution'] = 1;
  }
  return options;
}

/**
 * Verifies the server's leaf names `expected` as a SAN (a DNS identity, not hostname rules: the
 * name is who the server must be, not where we dialled). Chain checks against the trust anchors
 * already happened in the TLS layer.
 */
export function checkControlPlaneIdentity(cert: PeerCertificate, expected: string, where: string): Error | undefined {
  let sans;
  try {
    sans = subjectAltNames(cert.raw);
  } catch (err) {
    return new ProxyError(`control-plane server ${where}: certificate could not be parsed: ${messageOf(err)}`, 'control_identity');
  }
  if (namesIdentity(sans, expected)) return undefined;
  return new ProxyError(
    `control-plane server ${where} is not ${expected}: its certificate names ${describeSans(sans)}`,
    'control_identity',
  );
}

/**
 * A factory for the client's channel setup. With mTLS the credentials are rebuilt only when the
 * identity's generation changes, so repeated calls return the same object (and grpc-js can
 * share one connection between every channel built from it). Throws NoCredentialsError before
 * the first certificate is installed.
 */
export function controlChannelFactory(
  client: ControlPlaneClient,
  identity: IdentitySource,
  opts: ControlChannelOptions = {},
): () => ChannelSetup {
  const target = controlTarget(client.addr);
  const options = baseOptions(client);
  const tls = client.tls;
  if (tls.kind === 'none' || ((opts.plaintextOnLoopback ?? true) && isLoopbackHost(client.addr.host))) {
    const setup: ChannelSetup = { target, credentials: grpc.credentials.createInsecure(), options };
    return () => setup;
  }
  const where = formatControlAddr(client.addr);
  // One function object for every generation: grpc-js compares it when deciding to share connections.
  const checkServerIdentity = (_host: string, cert: PeerCertificate): Error | undefined =>
    checkControlPlaneIdentity(cert, tls.serverId, where);
  const tlsOptions: grpc.ChannelOptions = { ...options, 'grpc.ssl_target_name_override': tls.serverName };
  let cached: { generation: number; setup: ChannelSetup } | undefined;
  return () => {
    const creds = identity.current();
    if (creds === undefined) throw new NoCredentialsError(identity.ready());
    if (cached?.generation === creds.generation) return cached.setup;
    const secureContext = createSecureContext({
      ca: creds.trustAnchorsPem,
      cert: creds.certChainPem,
      key: creds.keyPem,
      minVersion: 'TLSv1.3',
    });
    const credentials = grpc.credentials.createFromSecureContext(secureContext, { checkServerIdentity });
    cached = { generation: creds.generation, setup: { target, credentials, options: tlsOptions } };
    return cached.setup;
  };
}

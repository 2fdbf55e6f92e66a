// How one endpoint is reached: the address to dial, whether to originate mTLS, and the transport header to send.
import type { DestinationEndpoint, EndpointTlsIdentity } from '../../discovery/destination-types.js';
import type { Logger } from '../../log/logger.js';
import type { TlsConnect } from '../../metrics/index.js';
import { isValidDnsName } from '../../tls/dns-name.js';
import type { SocketAddr } from '../../transport/addr.js';
import type { TransportHeader } from '../../transport/transport-header.js';
import type { EndpointSession } from '../context.js';

export interface ConnectPlan {
  readonly dial: SocketAddr;
  /** Set when mTLS is originated. */
  readonly identity: EndpointTlsIdentity | undefined;
  readonly tls: TlsConnect;
  /** Offer ALPN `transport.l5d.io/v1` and write a header if the peer selects it. */
  readonly transportHeader: boolean;
  /** The port the header names: the endpoint's own, or an authority override's. */
  readonly headerPort: number;
  /** A gateway's target host (authority override). */
  readonly headerName: string | undefined;
}

const LOCAL: TlsConnect = Object.freeze({ kind: 'none', reason: 'loopback' });
const NOT_PROVIDED: TlsConnect = Object.freeze({ kind: 'none', reason: 'not_provided_by_service_discovery' });

/**
 * As upstream's endpoint parameters: a local endpoint (on an INBOUND_IPS address) is plain TCP
 * with neither port override nor authority override; without a discovered identity nothing
 * but TCP is attempted either. With one, opaque transport dials the peer's inbound port, and
 * opaque transport or an authority override (a gateway) asks for the transport header; the
 * header names the endpoint's port, or the override's host and port when it has a port.
 */
export function connectPlan(ep: DestinationEndpoint, local: boolean, log: Logger | undefined): ConnectPlan {
  const id = ep.tlsIdentity;
  if (local || id === undefined) {
    return { dial: ep.addr, identity: undefined, tls: local ? LOCAL : NOT_PROVIDED, transportHeader: false, headerPort: ep.addr.port, headerName: undefined };
  }
  const opaquePort = ep.opaqueTransportPort;
  let headerPort = ep.addr.port;
  let headerName: string | undefined;
  const override = ep.authorityOverride === undefined ? undefined : splitAuthority(ep.authorityOverride);
  if (override !== undefined) {
    headerPort = override.port;
    if (isValidDnsName(override.host)) headerName = override.host;
    else log?.warn('Invalid name', { authority: ep.authorityOverride });
  }
  return {
    dial: opaquePort === undefined ? ep.addr : Object.freeze({ ...ep.addr, port: opaquePort }),
    identity: id,
    tls: Object.freeze({ kind: 'established', serverId: id.name }),
    transportHeader: opaquePort !== undefined || ep.authorityOverride !== undefined,
    headerPort,
    headerName,
  };
}

/**
 * The header for one connection. HTTP sessions name their protocol unless the endpoint's hint
 * says it treats every connection as opaque TCP.
 */
export function headerFor(plan: ConnectPlan, endpoint: DestinationEndpoint, session: EndpointSession): TransportHeader {
  const sessionProtocol = session.kind === 'opaque' || endpoint.protocolHint === 'opaque' ? undefined : session.kind;
  return {
    port: plan.headerPort,
    ...(plan.headerName !== undefined ? { name: plan.headerName } : {}),
    ...(sessionProtocol !== undefined ? { sessionProtocol } : {}),
  };
}

/** `host:port` with a usable port, else undefined (an override without a port changes nothing in the header). */
function splitAuthority(authority: string): { host: string; port: number } | undefined {
  const colon = authority.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const digits = authority.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(digits)) return undefined;
  const port = Number(digits);
  if (port < 1 || port > 65535) return undefined;
  return { host: authority.slice(0, colon), port };
}

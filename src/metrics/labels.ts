// Linkerd's legacy label fragments (direction, peer, target, TLS, policy, dst_*) and the TCP keys.
//
// Each builder returns a record whose key order is the exposition order the Rust proxy uses;
// records are built once per target and rendered once by the family that binds them.

import type { LabelSet } from './legacy-format.js';

export type Direction = 'inbound' | 'outbound';

export interface TargetAddr {
  readonly ip: string;
  readonly port: number;
}

/** Server-side TLS state of an accepted connection (Rust `TlsAccept`). */
export type TlsAccept =
  | { readonly kind: 'established'; readonly clientId: string | undefined }
  | { readonly kind: 'passthru'; readonly sni: string }
  | { readonly kind: 'none'; readonly reason: 'no_tls_from_remote' | 'port_skipped' | 'loopback' }
  | { readonly kind: 'disabled' };

/** Client-side TLS state of an outgoing connection (Rust `TlsConnect`). */
export type TlsConnect =
  | { readonly kind: 'established'; readonly serverId: string }
  | {
      readonly kind: 'none';
      readonly reason: 'loopback' | 'not_provided_by_service_discovery' | 'ingress_without_override';
    }
  | { readonly kind: 'disabled' };

/** A policy resource reference (server, route, authorization). Default policies: group "". */
export interface PolicyMeta {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

export const TLS_ACCEPT_LOOPBACK: TlsAccept = Object.freeze({ kind: 'none', reason: 'loopback' });
export const TLS_CONNECT_LOOPBACK: TlsConnect = Object.freeze({ kind: 'none', reason: 'loopback' });

/** `target_addr="IP:port",target_ip="IP",target_port="port"` (IPv6 addresses bracketed). */
export function targetAddrLabels(t: TargetAddr): LabelSet {
  const addr = t.ip.includes(':') ? `[${t.ip}]:${t.port}` : `${t.ip}:${t.port}`;
  return { target_addr: addr, target_ip: t.ip, target_port: String(t.port) };
}

export function tlsAcceptLabels(tls: TlsAccept): LabelSet {
  switch (tls.kind) {
    case 'established':
      return { tls: 'true', client_id: tls.clientId ?? '' };
    case 'passthru':
      return { tls: 'opaque', sni: tls.sni };
    case 'none':
      return { tls: 'no_identity', no_tls_reason: tls.reason };
    case 'disabled':
      return { tls: 'disabled' };
  }
}

export function tlsConnectLabels(tls: TlsConnect): LabelSet {
  switch (tls.kind) {
    case 'established':
      return { tls: 'true', server_id: tls.serverId };
    case 'none':
      return { tls: 'no_identity', no_tls_reason: tls.reason };
    case 'disabled':
      return { tls: 'disabled' };
  }
}

/** `srv_group,srv_kind,srv_name,srv_port`. */
export function serverLabels(server: PolicyMeta, port: number): LabelSet {
  return { srv_group: server.group, srv_kind: server.kind, srv_name: server.name, srv_port: String(port) };
}

export function routeLabels(route: PolicyMeta): LabelSet {
  return { route_group: route.group, route_kind: route.kind, route_name: route.name };
}

export function authzLabels(authz: PolicyMeta): LabelSet {
  return { authz_group: authz.group, authz_kind: authz.kind, authz_name: authz.name };
}

/** `<prefix>_<k>="v"` for every label, sorted by key (discovery labels arrive as a sorted map). */
export function prefixLabels(prefix: string, labels: LabelSet): LabelSet {
  const out: Record<string, string> = {};
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key];
    if (value !== undefined) out[`${prefix}_${key}`] = value;
  }
  return out;
}

/** Inbound accept key: direction, peer="src", target_*, TLS-accept labels, srv_*. */
export function inboundAcceptLabels(
  target: TargetAddr,
  tls: TlsAccept,
  server: PolicyMeta,
  serverPort: number = target.port,
): LabelSet {
  return {
    direction: 'inbound',
    peer: 'src',
    ...targetAddrLabels(target),
    ...tlsAcceptLabels(tls),
    ...serverLabels(server, serverPort),
  };
}

/** Outbound accept key (the app's connection to us, always loopback). */
export function outboundAcceptLabels(target: TargetAddr): LabelSet {
  return {
    direction: 'outbound',
    peer: 'src',
    ...targetAddrLabels(target),
    ...tlsAcceptLabels(TLS_ACCEPT_LOOPBACK),
  };
}

/** Inbound connect key (to the local app): no target labels at all, as upstream. */
export function inboundConnectLabels(): LabelSet {
  return { direction: 'inbound', peer: 'dst', ...tlsConnectLabels(TLS_CONNECT_LOOPBACK) };
}

export interface OutboundConnectExtras {
  /** Logical authority (e.g. the balanced service); absent for forward targets. */
  readonly authority?: string | undefined;
  /** Discovery metric labels (without the `dst_` prefix). */
  readonly dstLabels?: LabelSet | undefined;
}

/** Outbound connect key: direction, peer="dst", [authority], target_*, TLS-connect, dst_*. */
export function outboundConnectLabels(
  target: TargetAddr,
  tls: TlsConnect,
  extras: OutboundConnectExtras = {},
): LabelSet {
  return {
    direction: 'outbound',
    peer: 'dst',
    ...(extras.authority === undefined ? {} : { authority: extras.authority }),
    ...targetAddrLabels(target),
    ...tlsConnectLabels(tls),
    ...(extras.dstLabels === undefined ? {} : prefixLabels('dst', extras.dstLabels)),
  };
}

/** A short cache key for a TLS-accept state (for caches of handles bound per target and TLS state). */
export function tlsAcceptKey(tls: TlsAccept): string {
  switch (tls.kind) {
    case 'established':
      return `tls:${tls.clientId ?? ''}`;
    case 'passthru':
      return `sni:${tls.sni}`;
    case 'none':
      return tls.reason;
    case 'disabled':
      return 'disabled';
  }
}

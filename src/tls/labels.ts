// The TLS label fragments of the legacy metrics (spec §8.1), rendered from a typed TLS status (pure).

/** Why an accepted connection is not TLS-terminated by us. */
export type NoServerTlsReason = 'no_tls_from_remote' | 'port_skipped' | 'loopback';

/** TLS status of an accepted (inbound/admin) connection. */
export type ServerTlsStatus =
  | { readonly kind: 'established'; readonly clientId: string | undefined }
  | { readonly kind: 'passthrough'; readonly sni: string }
  | { readonly kind: 'no-tls'; readonly reason: NoServerTlsReason }
  /** Identity administratively disabled. */
  | { readonly kind: 'disabled' };

/** Why an outbound connection is not mesh TLS. */
export type NoClientTlsReason = 'loopback' | 'not_provided_by_service_discovery' | 'ingress_without_override';

/** TLS status of a connection we opened. */
export type ClientTlsStatus =
  | { readonly kind: 'established'; readonly serverId: string }
  | { readonly kind: 'no-tls'; readonly reason: NoClientTlsReason }
  | { readonly kind: 'disabled' };

/** Label name → value, in exposition order. */
export type TlsLabels = Readonly<Record<string, string>>;

/** `tls="true",client_id=…` / `tls="opaque",sni=…` / `tls="no_identity",no_tls_reason=…` / `tls="disabled"`. */
export function serverTlsLabels(status: ServerTlsStatus): TlsLabels {
  switch (status.kind) {
    case 'established':
      // Mutual TLS without a client certificate still reads tls="true", with an empty id.
      return { tls: 'true', client_id: status.clientId ?? '' };
    case 'passthrough':
      return { tls: 'opaque', sni: status.sni };
    case 'no-tls':
      return { tls: 'no_identity', no_tls_reason: status.reason };
    case 'disabled':
      return { tls: 'disabled' };
  }
}

/** `tls="true",server_id=…` / `tls="no_identity",no_tls_reason=…` / `tls="disabled"`. */
export function clientTlsLabels(status: ClientTlsStatus): TlsLabels {
  switch (status.kind) {
    case 'established':
      return { tls: 'true', server_id: status.serverId };
    case 'no-tls':
      return { tls: 'no_identity', no_tls_reason: status.reason };
    case 'disabled':
      return { tls: 'disabled' };
  }
}

/**
 * The fragment as the legacy exposition writes it, e.g. `tls="true",client_id="a.b"`. DNS
 * names and SNIs never need escaping, but a URI SAN's host may hold `"` or a backslash, so those
 * (and newlines) are escaped as the Prometheus text format requires.
 */
export function formatTlsLabels(labels: TlsLabels): string {
  let out = '';
  for (const key in labels) {
    out += `${out === '' ? '' : ','}${key}="${escapeLabelValue(labels[key] ?? '')}"`;
  }
  return out;
}

function escapeLabelValue(value: string): string {
  return /["\\\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

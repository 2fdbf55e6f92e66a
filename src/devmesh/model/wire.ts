// Small builders for the proto-shaped plain data (Wire) the model answers with.
import type { IpNetwork } from '../../config/types.js';
import { encodeIpAddress, encodeTcpAddress } from '../../discovery/net-decode.js';
import type { Wire } from './types.js';

/** The policy controller's protocol detection timeout (inbound and outbound). */
export const DETECT_TIMEOUT_MS = 10_000;

/** `google.protobuf.Duration`. */
export function duration(ms: number): Wire {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos === 0 ? { seconds } : { seconds, nanos };
}

export function tcpAddress(ip: string, port: number): Wire {
  return encodeTcpAddress({ host: ip, port });
}

export function ipNetwork(net: IpNetwork): Wire {
  return { ip: encodeIpAddress(net.addr), prefixLen: net.prefixLen };
}

/** `meta.Metadata` for a built-in configuration. */
export function defaultMeta(name: string): Wire {
  return { default: name };
}

/** `meta.Metadata` for a Kubernetes object; empty parts are left out, as proto3 would. */
export function resourceMeta(r: { group: string; kind: string; name: string; namespace?: string; port?: number }): Wire {
  return {
    resource: {
      group: r.group,
      kind: r.kind,
      name: r.name,
      ...(r.namespace === undefined || r.namespace === '' ? {} : { namespace: r.namespace }),
      ...(r.port === undefined ? {} : { port: r.port }),
    },
  };
}

/** `host:port` split as Go's net.SplitHostPort (IPv6 hosts bracketed); no colon means port 80. */
export function splitHostPort(text: string): { host: string; port: number } | undefined {
  if (!text.includes(':')) return { host: text, port: 80 };
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (!(port >= 1 && port <= 65535)) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

// Decodes metadata, IP networks and `Authz` messages of io.linkerd.proxy.inbound (protobufjs toObject form).
import { ipv4FromUint32, ipv6FromHalves } from './ip.js';
import { defaultMeta } from './meta.js';
import {
  asMessage,
  child,
  fail,
  int64,
  list,
  oneof,
  optMessage,
  reqMessage,
  str,
  stringMap,
  strings,
  u32,
  type Obj,
} from './decode-fields.js';
import type { Authentication, Authorization, AuthzNetwork, IpNetwork, Meta } from './types.js';

/**
 * Metadata from the legacy `labels` map, as the upstream proxy infers it: `name` is required;
 * `group`/`kind` default to the given values; `group: ""` + `kind: default` is a default; without
 * a `kind` label, a `kind:name` name (e.g. `default:deny`) carries the kind.
 */
export function metaFromLabels(labels: Map<string, string>, path: string, defaultGroup: string, defaultKind: string): Meta {
  const name = labels.get('name') ?? fail(path, "missing 'name' label");
  const group = labels.get('group') ?? defaultGroup;
  const kind = labels.get('kind');
  if (kind !== undefined) return kind === 'default' && group === '' ? defaultMeta(name) : Object.freeze({ group, kind, name });
  const colon = name.indexOf(':');
  if (colon === -1) return Object.freeze({ group, kind: defaultKind, name });
  const prefix = name.slice(0, colon);
  const rest = name.slice(colon + 1);
  return prefix === 'default' ? defaultMeta(rest) : Object.freeze({ group, kind: prefix, name: rest });
}

/** An `io.linkerd.proxy.meta.Metadata` message (oneof `kind`: `default` name | `resource`). */
export function decodeMetadata(v: unknown, path: string): Meta {
  const m = asMessage(v, path);
  const kind = oneof(m, 'kind', ['default', 'resource'], path) ?? fail(path, 'no metadata kind set');
  if (kind.name === 'default') {
    if (typeof kind.value !== 'string') fail(kind.path, 'expected a string');
    return defaultMeta(kind.value);
  }
  const r = asMessage(kind.value, kind.path);
  return Object.freeze({ group: str(r, 'group', kind.path), kind: str(r, 'kind', kind.path), name: str(r, 'name', kind.path) });
}

/** An `io.linkerd.proxy.net.IPNetwork`. Host bits are kept as sent (matching masks them). */
export function decodeIpNetwork(v: unknown, path: string): IpNetwork {
  const n = asMessage(v, path);
  const ipMsg = reqMessage(n, 'ip', path, 'missing IP address');
  const ipPath = child(path, 'ip');
  const ip = oneof(ipMsg, 'ip', ['ipv4', 'ipv6'], ipPath) ?? fail(ipPath, 'no address family set');
  const prefixLen = u32(n, 'prefixLen', path);
  if (ip.name === 'ipv4') {
    const raw = int64(ip.value, ip.path, false);
    if (raw > 0xffffffffn) fail(ip.path, 'IPv4 address does not fit in 32 bits');
    if (prefixLen > 32) fail(child(path, 'prefixLen'), `invalid IPv4 prefix length ${prefixLen}`);
    return Object.freeze({ family: 4, addr: ipv4FromUint32(Number(raw)), prefixLen });
  }
  const v6 = asMessage(ip.value, ip.path);
  const first = int64(v6.first, child(ip.path, 'first'), false);
  const last = int64(v6.last, child(ip.path, 'last'), false);
  if (prefixLen > 128) fail(child(path, 'prefixLen'), `invalid IPv6 prefix length ${prefixLen}`);
  return Object.freeze({ family: 6, addr: ipv6FromHalves(first, last), prefixLen });
}

function decodeNetwork(v: unknown, path: string): AuthzNetwork {
  const n = asMessage(v, path);
  const net = decodeIpNetwork(reqMessage(n, 'net', path, 'missing network'), child(path, 'net'));
  const except = list(n, 'except', path).map((e) => decodeIpNetwork(e.value, e.path));
  return Object.freeze({ net, except: Object.freeze(except) });
}

function decodeAuthentication(a: Obj, path: string): Authentication {
  const permit = oneof(a, 'permit', ['unauthenticated', 'meshTLS'], path) ?? fail(path, 'no permit variant set');
  if (permit.name === 'unauthenticated') {
    asMessage(permit.value, permit.path);
    return { kind: 'unauthenticated' };
  }
  const mtls = asMessage(permit.value, permit.path);
  const clients = oneof(mtls, 'clients', ['unauthenticated', 'identities'], permit.path) ?? fail(permit.path, 'no clients variant set');
  if (clients.name === 'unauthenticated') {
    asMessage(clients.value, clients.path);
    return { kind: 'tls-unauthenticated' };
  }
  const ids = asMessage(clients.value, clients.path);
  const identities = list(ids, 'identities', clients.path).map((i) => str(asMessage(i.value, i.path), 'name', i.path));
  const suffixes = list(ids, 'suffixes', clients.path).map((s) => Object.freeze(strings(asMessage(s.value, s.path), 'parts', s.path)));
  return { kind: 'tls-authenticated', identities: Object.freeze(identities), suffixes: Object.freeze(suffixes) };
}

/** An inbound `Authz`. `networks` must be non-empty and `authentication` set, as upstream requires. */
export function decodeAuthz(v: unknown, path: string): Authorization {
  const a = asMessage(v, path);
  const networks = list(a, 'networks', path).map((n) => decodeNetwork(n.value, n.path));
  if (networks.length === 0) fail(child(path, 'networks'), 'at least one network is required');
  const authentication = decodeAuthentication(
    reqMessage(a, 'authentication', path, 'missing authentication'),
    child(path, 'authentication'),
  );
  const metadata = optMessage(a, 'metadata', path);
  const meta =
    metadata !== undefined
      ? decodeMetadata(metadata, child(path, 'metadata'))
      : metaFromLabels(stringMap(a, 'labels', path), child(path, 'labels'), 'policy.linkerd.io', 'serverauthorization');
  return Object.freeze({ meta, networks: Object.freeze(networks), authentication: Object.freeze(authentication) });
}

/**
 * Traffic from the pod itself is always allowed: the upstream proxy appends this authorization
 * to every discovered server's list (after the controller's, so those win for labelling).
 */
export const LOCALHOST_AUTHZ: Authorization = Object.freeze({
  meta: defaultMeta('localhost'),
  networks: Object.freeze([
    Object.freeze({ net: Object.freeze({ family: 4, addr: '127.0.0.1', prefixLen: 32 }), except: Object.freeze([]) }),
    Object.freeze({ net: Object.freeze({ family: 6, addr: '::1', prefixLen: 128 }), except: Object.freeze([]) }),
  ]),
  authentication: Object.freeze({ kind: 'unauthenticated' }),
} satisfies Authorization);

/** A repeated `Authz` field followed by the parent's authorizations (server-level, or the localhost one). */
export function decodeAuthzList(o: Obj, name: string, path: string, parent: readonly Authorization[]): readonly Authorization[] {
  return Object.freeze([...list(o, name, path).map((a) => decodeAuthz(a.value, a.path)), ...parent]);
}

// Decodes an io.linkerd.proxy.inbound.Server (protobufjs toObject form) into a ServerPolicy, as the upstream proxy does.
import type { IConversionOptions } from 'protobufjs';
import { decodeAuthzList, decodeMetadata, LOCALHOST_AUTHZ, metaFromLabels } from './decode-authz.js';
import { decodeGrpcFilter, decodeHttpFilter } from './decode-filter.js';
import { decodeGrpcRouteMatch, decodeHostMatch, decodeHttpRouteMatch } from './decode-match.js';
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
  u32,
  type Obj,
  InvalidServerError,
} from './decode-fields.js';
import { defaultGrpcRoute, defaultHttpRoute, invalidPolicy } from './defaults.js';
import type { Authorization, GrpcRoute, HostMatch, HttpRoute, LocalRateLimit, Meta, Protocol, ServerPolicy } from './types.js';

export { InvalidServerError };

/**
 * The `toObject` options decodeServer expects. `longs: String` keeps IPv6 halves (fixed64)
 * exact; `longs: Number` also decodes but rounds halves above 2^53 (the low bits of such an
 * IPv6 network address may then be wrong). Long objects and bigints are accepted too.
 * `oneofs: true` is recommended; without it the set member is inferred from presence.
 */
export const SERVER_TO_OBJECT_OPTIONS: IConversionOptions = Object.freeze({
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: false,
  oneofs: true,
});

/** The shared shape of inbound HTTP and gRPC routes; `matchOf`/`filterOf` decode the kind-specific parts. */
function decodeRoute<M, F>(
  v: unknown,
  path: string,
  serverAuthzs: readonly Authorization[],
  matchOf: (v: unknown, path: string) => M,
  filterOf: (v: unknown, path: string) => F,
): { meta: Meta; hosts: readonly HostMatch[]; rules: readonly { matches: readonly M[]; filters: readonly F[] }[]; authorizations: readonly Authorization[] } {
  const r = asMessage(v, path);
  const meta = decodeMetadata(reqMessage(r, 'metadata', path, 'missing route metadata'), child(path, 'metadata'));
  const hosts = Object.freeze(list(r, 'hosts', path).map((h) => decodeHostMatch(h.value, h.path)));
  const authorizations = decodeAuthzList(r, 'authorizations', path, serverAuthzs);
  const rules = list(r, 'rules', path).map(({ value, path: p }) => {
    const rule = asMessage(value, p);
    return Object.freeze({
      matches: Object.freeze(list(rule, 'matches', p).map((m) => matchOf(m.value, m.path))),
      filters: Object.freeze(list(rule, 'filters', p).map((f) => filterOf(f.value, f.path))),
    });
  });
  return Object.freeze({ meta, hosts, rules: Object.freeze(rules), authorizations });
}

function decodeHttpRoute(v: unknown, path: string, serverAuthzs: readonly Authorization[]): HttpRoute {
  return decodeRoute(v, path, serverAuthzs, decodeHttpRouteMatch, decodeHttpFilter);
}

function decodeGrpcRoute(v: unknown, path: string, serverAuthzs: readonly Authorization[]): GrpcRoute {
  return decodeRoute(v, path, serverAuthzs, decodeGrpcRouteMatch, decodeGrpcFilter);
}

/**
 * Routes of an HTTP protocol. An empty list means an older controller without route support:
 * a match-all `default` route carrying the server's authorizations stands in (as upstream).
 */
function httpRoutes(o: Obj, name: string, path: string, authzs: readonly Authorization[]): readonly HttpRoute[] {
  const routes = list(o, name, path).map((r) => decodeHttpRoute(r.value, r.path, authzs));
  return Object.freeze(routes.length === 0 ? [defaultHttpRoute(authzs)] : routes);
}

/** google.protobuf.Duration → milliseconds; negative or out-of-range durations are invalid. */
function durationMs(d: Obj, path: string): number {
  const seconds = int64(d.seconds, child(path, 'seconds'), true);
  const nanosRaw = d.nanos ?? 0;
  if (typeof nanosRaw !== 'number' || !Number.isInteger(nanosRaw)) fail(child(path, 'nanos'), 'expected an int32');
  if (seconds < 0n || nanosRaw < 0 || nanosRaw > 999_999_999) fail(path, 'invalid protocol detection timeout: negative or out of range');
  return Number(seconds) * 1000 + nanosRaw / 1e6;
}

function decodeRateLimit(v: Obj | undefined, path: string): LocalRateLimit | undefined {
  if (v === undefined) return undefined;
  const rps = (m: Obj, name: string): number | undefined => {
    const lim = optMessage(m, name, path);
    if (lim === undefined) return undefined;
    const n = u32(lim, 'requestsPerSecond', child(path, name));
    return n === 0 ? undefined : n;
  };
  const metadata = optMessage(v, 'metadata', path);
  const overrides = list(v, 'overrides', path).flatMap(({ value, path: p }) => {
    const o = asMessage(value, p);
    const lim = optMessage(o, 'limit', p);
    const n = lim === undefined ? 0 : u32(lim, 'requestsPerSecond', child(p, 'limit'));
    const clients = optMessage(o, 'clients', p);
    const identities =
      clients === undefined
        ? []
        : list(clients, 'identities', child(p, 'clients')).map((i) => str(asMessage(i.value, i.path), 'name', i.path));
    // A zero limit means "unset" on the wire; upstream drops such overrides.
    return n === 0 ? [] : [Object.freeze({ rps: n, identities: Object.freeze(identities) })];
  });
  return Object.freeze({
    meta: metadata === undefined ? undefined : decodeMetadata(metadata, child(path, 'metadata')),
    totalRps: rps(v, 'total'),
    identityRps: rps(v, 'identity'),
    overrides: Object.freeze(overrides),
  });
}

/**
 * Decodes a `Server` message. Throws InvalidServerError (with the failing field's path) on
 * anything the upstream proxy would reject; the caller then uses `invalidPolicy(timeout)`.
 *
 * Upstream semantics kept: the localhost authorization is appended to the server's list; each
 * route's authorizations are its own followed by the server's; HTTP protocols without routes
 * get a match-all default route; `server_ips` is ignored; meta comes from `labels` with group
 * `policy.linkerd.io` and kind `server` by default.
 */
export function decodeServer(msg: unknown): ServerPolicy {
  const s = asMessage(msg, '');
  const protoMsg = reqMessage(s, 'protocol', '', 'missing proxy protocol');
  const kind =
    oneof(protoMsg, 'kind', ['detect', 'opaque', 'tls', 'http1', 'http2', 'grpc'], 'protocol') ??
    fail('protocol', 'no protocol kind set');
  const k = asMessage(kind.value, kind.path);
  const authzs = decodeAuthzList(s, 'authorizations', '', [LOCALHOST_AUTHZ]);

  let protocol: Protocol;
  let localRateLimit: LocalRateLimit | undefined;
  switch (kind.name) {
    case 'detect': {
      const timeout = reqMessage(k, 'timeout', kind.path, 'missing protocol detection timeout');
      localRateLimit = decodeRateLimit(optMessage(k, 'httpLocalRateLimit', kind.path), child(kind.path, 'httpLocalRateLimit'));
      protocol = {
        kind: 'detect',
        timeoutMs: durationMs(timeout, child(kind.path, 'timeout')),
        tcpAuthorizations: authzs,
        httpRoutes: httpRoutes(k, 'httpRoutes', kind.path, authzs),
      };
      break;
    }
    case 'http1':
    case 'http2':
      localRateLimit = decodeRateLimit(optMessage(k, 'localRateLimit', kind.path), child(kind.path, 'localRateLimit'));
      protocol = { kind: kind.name, routes: httpRoutes(k, 'routes', kind.path, authzs) };
      break;
    case 'grpc': {
      const routes = list(k, 'routes', kind.path).map((r) => decodeGrpcRoute(r.value, r.path, authzs));
      protocol = { kind: 'grpc', routes: Object.freeze(routes.length === 0 ? [defaultGrpcRoute(authzs)] : routes) };
      break;
    }
    case 'opaque':
      protocol = { kind: 'opaque', tcpAuthorizations: authzs };
      break;
    default:
      protocol = { kind: 'tls', tcpAuthorizations: authzs };
  }
  const meta = metaFromLabels(stringMap(s, 'labels', ''), 'labels', 'policy.linkerd.io', 'server');
  return Object.freeze({ meta, protocol: Object.freeze(protocol), localRateLimit });
}

/**
 * What a policy watch does with each message: the decoded policy, or — if the Server is
 * unparseable — the invalid policy together with the error to log ("Server misconfigured").
 */
export function decodeServerOrInvalid(
  msg: unknown,
  invalidDetectTimeoutMs: number,
): { readonly policy: ServerPolicy; readonly error: InvalidServerError | undefined } {
  try {
    return { policy: decodeServer(msg), error: undefined };
  } catch (e) {
    if (!(e instanceof InvalidServerError)) throw e;
    return { policy: invalidPolicy(invalidDetectTimeoutMs), error: e };
  }
}

// Decodes route match messages (hosts, HTTP request matches, gRPC RPC matches) with the upstream proxy's validation.
import { compileRustRegex, InvalidRegexError } from './regex.js';
import {
  asMessage,
  bytes,
  child,
  enumName,
  fail,
  list,
  oneof,
  optMessage,
  reqMessage,
  str,
  type Obj,
} from './decode-fields.js';
import type { GrpcRouteMatch, HeaderMatch, HostMatch, HttpRouteMatch, PathMatch, QueryParamMatch } from './types.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An HTTP header name (RFC 9110 token), lower-cased as Node presents header names. */
export function headerName(name: string, path: string): string {
  if (!TOKEN.test(name)) fail(path, `invalid header name ${JSON.stringify(name)}`);
  return name.toLowerCase();
}

/** Header value bytes as Node's latin1 string; control characters other than TAB are invalid, as in `http::HeaderValue`. */
export function headerValue(raw: Uint8Array, path: string): string {
  for (const b of raw) {
    if ((b < 0x20 && b !== 0x09) || b === 0x7f) fail(path, `invalid header value byte 0x${b.toString(16).padStart(2, '0')}`);
  }
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
}

/** Validates a regex now, so a bad one makes the whole Server invalid (as upstream). */
export function regexPattern(pattern: string, path: string): string {
  try {
    compileRustRegex(pattern);
  } catch (e) {
    fail(path, e instanceof InvalidRegexError ? e.message : String(e));
  }
  return pattern;
}

/** An `http_route.HostMatch` (oneof `match`: `exact` | `suffix{reverseLabels}`). */
export function decodeHostMatch(v: unknown, path: string): HostMatch {
  const m = asMessage(v, path);
  const set = oneof(m, 'match', ['exact', 'suffix'], path) ?? fail(path, 'host match must contain a match');
  if (set.name === 'exact') {
    if (typeof set.value !== 'string') fail(set.path, 'expected a string');
    return { kind: 'exact', host: set.value };
  }
  const s = asMessage(set.value, set.path);
  const labels = list(s, 'reverseLabels', set.path).map(({ value, path: p }) => (typeof value === 'string' ? value : fail(p, 'expected a string')));
  return { kind: 'suffix', reverseLabels: Object.freeze(labels) };
}

function decodePathMatch(v: Obj, path: string): PathMatch {
  const k = oneof(v, 'kind', ['exact', 'prefix', 'regex'], path) ?? fail(path, 'no path match kind set');
  if (typeof k.value !== 'string') fail(k.path, 'expected a string');
  switch (k.name) {
    case 'exact':
      return { kind: 'exact', path: k.value };
    case 'prefix':
      return { kind: 'prefix', prefix: k.value };
    default:
      return { kind: 'regex', pattern: regexPattern(k.value, k.path) };
  }
}

export function decodeHeaderMatch(v: unknown, path: string): HeaderMatch {
  const h = asMessage(v, path);
  const name = headerName(str(h, 'name', path), child(path, 'name'));
  const value = oneof(h, 'value', ['exact', 'regex'], path) ?? fail(path, 'missing a header value match');
  if (value.name === 'exact') return { kind: 'exact', name, value: headerValue(bytes(h, 'exact', path), value.path) };
  if (typeof value.value !== 'string') fail(value.path, 'expected a string');
  return { kind: 'regex', name, pattern: regexPattern(value.value, value.path) };
}

function decodeQueryParamMatch(v: unknown, path: string): QueryParamMatch {
  const q = asMessage(v, path);
  const name = str(q, 'name', path);
  if (name === '') fail(child(path, 'name'), 'missing a query param name');
  const value = oneof(q, 'value', ['exact', 'regex'], path) ?? fail(path, 'missing a query param value');
  if (typeof value.value !== 'string') fail(value.path, 'expected a string');
  if (value.name === 'exact') return { kind: 'exact', name, value: value.value };
  return { kind: 'regex', name, pattern: regexPattern(value.value, value.path) };
}

const REGISTERED_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'HEAD', 'TRACE'] as const;

/** An `http_types.HttpMethod`: a registered enum or an extension token (kept case-sensitive, as `http::Method`). */
function decodeMethod(v: Obj, path: string): string {
  const t = oneof(v, 'type', ['registered', 'unregistered'], path) ?? fail(path, 'missing HTTP method type');
  if (t.name === 'registered') return enumName(v, 'registered', path, REGISTERED_METHODS);
  if (typeof t.value !== 'string' || !TOKEN.test(t.value)) fail(t.path, `invalid unregistered method ${JSON.stringify(t.value)}`);
  return t.value;
}

export function decodeHttpRouteMatch(v: unknown, path: string): HttpRouteMatch {
  const m = asMessage(v, path);
  const pathMsg = optMessage(m, 'path', path);
  const methodMsg = optMessage(m, 'method', path);
  return Object.freeze({
    path: pathMsg === undefined ? undefined : decodePathMatch(pathMsg, child(path, 'path')),
    headers: Object.freeze(list(m, 'headers', path).map((h) => decodeHeaderMatch(h.value, h.path))),
    queryParams: Object.freeze(list(m, 'queryParams', path).map((q) => decodeQueryParamMatch(q.value, q.path))),
    method: methodMsg === undefined ? undefined : decodeMethod(methodMsg, child(path, 'method')),
  });
}

/** A `grpc_route.GrpcRouteMatch`; `rpc` is required, its empty service/method match anything. */
export function decodeGrpcRouteMatch(v: unknown, path: string): GrpcRouteMatch {
  const m = asMessage(v, path);
  const rpc = reqMessage(m, 'rpc', path, 'missing RPC match');
  const rpcPath = child(path, 'rpc');
  const service = str(rpc, 'service', rpcPath);
  const method = str(rpc, 'method', rpcPath);
  return Object.freeze({
    service: service === '' ? undefined : service,
    method: method === '' ? undefined : method,
    headers: Object.freeze(list(m, 'headers', path).map((h) => decodeHeaderMatch(h.value, h.path))),
  });
}

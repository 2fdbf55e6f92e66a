// Decodes outbound HTTP, gRPC, opaque and TLS routes (matches and filters reuse the inbound decoders' validation).
import { decodeGrpcFilter, decodeHttpFilter } from '../policy/inbound/decode-filter.js';
import { decodeGrpcRouteMatch, decodeHostMatch, decodeHttpRouteMatch, headerName, headerValue } from '../policy/inbound/decode-match.js';
import type { HeaderModifier } from '../policy/inbound/types.js';
import { decodeBackoff, decodeDistribution, type DecodeContext } from './outbound-backend-decode.js';
import { decodePolicyMeta } from './meta-decode.js';
import type {
  GrpcRetry,
  GrpcRoute,
  GrpcRule,
  HttpRetry,
  HttpRoute,
  HttpRule,
  OpaqueFilter,
  OpaqueRoute,
  OpaqueRule,
  OutboundGrpcFilter,
  OutboundHttpFilter,
  RouteTimeouts,
  TlsRoute,
} from './outbound-policy-types.js';
import { bool, child, fail, list, msg, oneofArm, optDurationMs, optMsg, reqMsg, str, u32, type Obj } from './wire.js';

function routeMeta(r: Obj, path: string): HttpRoute['meta'] {
  return decodePolicyMeta(optMsg(r, 'metadata', path) ?? fail(child(path, 'metadata'), 'missing metadata'), child(path, 'metadata'), true);
}

// ---- filters --------------------------------------------------------------------------------

function pairs(m: Obj, name: string, path: string): (readonly [string, string])[] {
  const headers = optMsg(m, name, path);
  if (headers === undefined) return [];
  return list(headers, 'headers', child(path, name)).map((h) => {
    const o = msg(h.value, h.path);
    const raw = o.value instanceof Uint8Array ? o.value : new Uint8Array(0);
    return Object.freeze([headerName(str(o, 'name', h.path), child(h.path, 'name')), headerValue(raw, child(h.path, 'value'))] as const);
  });
}

function headerModifier(v: unknown, path: string): HeaderModifier {
  const m = msg(v, path);
  const remove = list(m, 'remove', path).map((r) => headerName(typeof r.value === 'string' ? r.value : fail(r.path, 'expected a string'), r.path));
  return { add: Object.freeze(pairs(m, 'add', path)), set: Object.freeze(pairs(m, 'set', path)), remove: Object.freeze(remove) };
}

/** Outbound HTTP filters: a filter without a kind makes the route invalid (unlike inbound). */
export function decodeOutboundHttpFilter(v: unknown, path: string): OutboundHttpFilter {
  const f = msg(v, path);
  const arm = oneofArm(f, 'kind', ['failureInjector', 'requestHeaderModifier', 'redirect', 'responseHeaderModifier'], path) ?? fail(path, 'missing filter kind');
  if (arm.name === 'responseHeaderModifier') return Object.freeze({ kind: 'response-header-modifier', ...headerModifier(arm.value, arm.path) });
  return decodeHttpFilter(f, path);
}

export function decodeOutboundGrpcFilter(v: unknown, path: string): OutboundGrpcFilter {
  const f = msg(v, path);
  if (oneofArm(f, 'kind', ['failureInjector', 'requestHeaderModifier'], path) === undefined) fail(path, 'missing filter kind');
  return decodeGrpcFilter(f, path);
}

export function decodeOpaqueFilter(v: unknown, path: string): OpaqueFilter {
  const f = msg(v, path);
  const arm = oneofArm(f, 'kind', ['invalid', 'forbidden'], path) ?? fail(path, 'missing filter kind');
  if (arm.name === 'forbidden') return { kind: 'forbidden' };
  return Object.freeze({ kind: 'invalid', message: str(msg(arm.value, arm.path), 'message', arm.path) });
}

// ---- rule parameters ------------------------------------------------------------------------

function timeouts(rule: Obj, path: string): RouteTimeouts {
  const t = optMsg(rule, 'timeouts', path);
  const tp = child(path, 'timeouts');
  const legacy = optDurationMs(rule, 'requestTimeout', path);
  return Object.freeze({
    responseMs: t === undefined ? undefined : optDurationMs(t, 'response', tp),
    requestMs: (t === undefined ? undefined : optDurationMs(t, 'request', tp)) ?? legacy,
    idleMs: t === undefined ? undefined : optDurationMs(t, 'idle', tp),
  });
}

function httpRetry(v: Obj | undefined, path: string): HttpRetry | undefined {
  if (v === undefined) return undefined;
  const cond = optMsg(v, 'conditions', path) ?? fail(child(path, 'conditions'), 'invalid condition');
  const statusRanges = list(cond, 'statusRanges', child(path, 'conditions')).map((r) => {
    const o = msg(r.value, r.path);
    const start = u32(o, 'start', r.path);
    const end = u32(o, 'end', r.path);
    if (start === 0 || end === 0 || end > 599 || start > end) fail(r.path, `invalid status range ${start}-${end}`);
    return Object.freeze([start, end] as const);
  });
  const maxRetries = u32(v, 'maxRetries', path);
  if (maxRetries > 0xffff) fail(child(path, 'maxRetries'), `invalid max-retries: ${maxRetries}`);
  const backoff = optMsg(v, 'backoff', path);
  return Object.freeze({
    maxRetries,
    maxRequestBytes: u32(v, 'maxRequestBytes', path),
    statusRanges: Object.freeze(statusRanges),
    timeoutMs: optDurationMs(v, 'timeout', path),
    backoff: backoff === undefined ? undefined : decodeBackoff(backoff, child(path, 'backoff')),
  });
}

const GRPC_CONDITIONS: readonly (readonly [string, number])[] = [
  ['cancelled', 1],
  ['deadineExceeded', 4],
  ['resourceExhausted', 8],
  ['internal', 13],
  ['unavailable', 14],
];

function grpcRetry(v: Obj | undefined, path: string): GrpcRetry | undefined {
  if (v === undefined) return undefined;
  const cond = optMsg(v, 'conditions', path) ?? fail(child(path, 'conditions'), 'invalid condition');
  const codes = GRPC_CONDITIONS.filter(([name]) => bool(cond, name, child(path, 'conditions'))).map(([, code]) => code);
  const backoff = optMsg(v, 'backoff', path);
  return Object.freeze({
    maxRetries: u32(v, 'maxRetries', path),
    maxRequestBytes: u32(v, 'maxRequestBytes', path),
    codes: Object.freeze(codes),
    timeoutMs: optDurationMs(v, 'timeout', path),
    backoff: backoff === undefined ? undefined : decodeBackoff(backoff, child(path, 'backoff')),
  });
}

// ---- routes ---------------------------------------------------------------------------------

export function decodeHttpRoute(v: unknown, path: string, ctx: DecodeContext): HttpRoute {
  const r = msg(v, path);
  const meta = routeMeta(r, path);
  const hosts = list(r, 'hosts', path).map((h) => decodeHostMatch(h.value, h.path));
  const rules = list(r, 'rules', path).map(({ value, path: p }): HttpRule => {
    const rule = msg(value, p);
    return Object.freeze({
      matches: Object.freeze(list(rule, 'matches', p).map((m) => decodeHttpRouteMatch(m.value, m.path))),
      filters: Object.freeze(list(rule, 'filters', p).map((f) => decodeOutboundHttpFilter(f.value, f.path))),
      distribution: decodeDistribution(reqMsg(rule, 'backends', p), child(p, 'backends'), decodeOutboundHttpFilter, ctx),
      timeouts: timeouts(rule, p),
      retry: httpRetry(optMsg(rule, 'retry', p), child(p, 'retry')),
      allowL5dRequestHeaders: bool(rule, 'allowL5dRequestHeaders', p),
    });
  });
  return Object.freeze({ meta, hosts: Object.freeze(hosts), rules: Object.freeze(rules) });
}

export function decodeGrpcRoute(v: unknown, path: string, ctx: DecodeContext): GrpcRoute {
  const r = msg(v, path);
  const meta = routeMeta(r, path);
  const hosts = list(r, 'hosts', path).map((h) => decodeHostMatch(h.value, h.path));
  const rules = list(r, 'rules', path).map(({ value, path: p }): GrpcRule => {
    const rule = msg(value, p);
    return Object.freeze({
      matches: Object.freeze(list(rule, 'matches', p).map((m) => decodeGrpcRouteMatch(m.value, m.path))),
      filters: Object.freeze(list(rule, 'filters', p).map((f) => decodeOutboundGrpcFilter(f.value, f.path))),
      distribution: decodeDistribution(reqMsg(rule, 'backends', p), child(p, 'backends'), decodeOutboundGrpcFilter, ctx),
      timeouts: timeouts(rule, p),
      retry: grpcRetry(optMsg(rule, 'retry', p), child(p, 'retry')),
      allowL5dRequestHeaders: bool(rule, 'allowL5dRequestHeaders', p),
    });
  });
  return Object.freeze({ meta, hosts: Object.freeze(hosts), rules: Object.freeze(rules) });
}

/** Opaque and TLS routes carry exactly one rule: with no matches, several could not be chosen between. */
function singleRule(r: Obj, path: string, ctx: DecodeContext): OpaqueRule {
  const rules = list(r, 'rules', path);
  const only = rules[0];
  if (rules.length !== 1 || only === undefined) fail(child(path, 'rules'), `a route must have exactly one rule, but ${rules.length} were provided`);
  const rule = msg(only.value, only.path);
  return Object.freeze({
    filters: Object.freeze(list(rule, 'filters', only.path).map((f) => decodeOpaqueFilter(f.value, f.path))),
    distribution: decodeDistribution(reqMsg(rule, 'backends', only.path), child(only.path, 'backends'), decodeOpaqueFilter, ctx),
  });
}

export function decodeOpaqueRoute(v: unknown, path: string, ctx: DecodeContext): OpaqueRoute {
  const r = msg(v, path);
  return Object.freeze({ meta: routeMeta(r, path), rule: singleRule(r, path, ctx) });
}

export function decodeTlsRoute(v: unknown, path: string, ctx: DecodeContext): TlsRoute {
  const r = msg(v, path);
  const meta = routeMeta(r, path);
  const snis = list(r, 'snis', path).map((s) => decodeHostMatch(s.value, s.path));
  return Object.freeze({ meta, snis: Object.freeze(snis), rule: singleRule(r, path, ctx) });
}

// Decodes an OutboundPolicy (toObject form); anything the Rust proxy would reject throws DecodeError.
import type { DecodeWarn } from './endpoint-decode.js';
import { decodePolicyMeta } from './meta-decode.js';
import { newDecodeContext, decodeFailureAccrual, type DecodeContext } from './outbound-backend-decode.js';
import type { Backend, HttpProtocol, OpaqueProtocol, OutboundPolicy, OutboundProtocol } from './outbound-policy-types.js';
import { decodeGrpcRoute, decodeHttpRoute, decodeOpaqueRoute, decodeTlsRoute } from './outbound-route-decode.js';
import { child, fail, list, msg, oneofArm, optMsg, reqDurationMs, type Obj } from './wire.js';

const PROTOCOL_ARMS = ['detect', 'opaque', 'http1', 'http2', 'grpc', 'tls'];

/**
 * The whole policy. Metadata and a protocol kind are required; Detect needs its timeout and
 * all three branches. Every backend any route can pick is listed once in `backends`.
 */
export function decodeOutboundPolicy(v: unknown, warn: DecodeWarn): OutboundPolicy {
  const p = msg(v, '');
  const meta = decodePolicyMeta(optMsg(p, 'metadata', '') ?? fail('metadata', 'missing metadata'), 'metadata', true);
  const proto = optMsg(p, 'protocol', '') ?? fail('protocol', 'missing protocol');
  const arm = oneofArm(proto, 'kind', PROTOCOL_ARMS, 'protocol') ?? fail('protocol', 'missing kind');
  const k = msg(arm.value, arm.path);
  const ctx = newDecodeContext(warn);
  let protocol: OutboundProtocol;
  switch (arm.name) {
    case 'detect': {
      const branch = (name: string): Obj => optMsg(k, name, arm.path) ?? fail(child(arm.path, name), `Detect missing ${name} configuration`);
      protocol = {
        kind: 'detect',
        timeoutMs: reqDurationMs(k, 'timeout', arm.path),
        http1: httpProtocol(branch('http1'), child(arm.path, 'http1'), ctx),
        http2: httpProtocol(branch('http2'), child(arm.path, 'http2'), ctx),
        opaque: opaqueProtocol(branch('opaque'), child(arm.path, 'opaque'), ctx),
      };
      break;
    }
    case 'http1':
    case 'http2':
      protocol = { kind: arm.name, ...httpProtocol(k, arm.path, ctx) };
      break;
    case 'grpc': {
      const routes = list(k, 'routes', arm.path).map((r) => decodeGrpcRoute(r.value, r.path, ctx));
      protocol = { kind: 'grpc', routes: Object.freeze(routes), failureAccrual: accrual(k, arm.path) };
      break;
    }
    case 'tls':
      protocol = { kind: 'tls', routes: Object.freeze(list(k, 'routes', arm.path).map((r) => decodeTlsRoute(r.value, r.path, ctx))) };
      break;
    default:
      protocol = { kind: 'opaque', ...opaqueProtocol(k, arm.path, ctx) };
  }
  return Object.freeze({ meta, protocol: Object.freeze(protocol), backends: distinctBackends(ctx) });
}

function httpProtocol(h: Obj, path: string, ctx: DecodeContext): HttpProtocol {
  const routes = list(h, 'routes', path).map((r) => decodeHttpRoute(r.value, r.path, ctx));
  return Object.freeze({ routes: Object.freeze(routes), failureAccrual: accrual(h, path) });
}

function accrual(h: Obj, path: string): HttpProtocol['failureAccrual'] {
  const fa = optMsg(h, 'failureAccrual', path);
  return fa === undefined ? undefined : decodeFailureAccrual(fa, child(path, 'failureAccrual'));
}

/** At most one opaque route. */
function opaqueProtocol(o: Obj, path: string, ctx: DecodeContext): OpaqueProtocol {
  const routes = list(o, 'routes', path);
  if (routes.length > 1) fail(child(path, 'routes'), `an opaque protocol must have at most one route, but ${routes.length} were provided`);
  const only = routes[0];
  return Object.freeze({ route: only === undefined ? undefined : decodeOpaqueRoute(only.value, only.path, ctx) });
}

function distinctBackends(ctx: DecodeContext): readonly Backend[] {
  return Object.freeze([...new Set(ctx.backends.values())]);
}

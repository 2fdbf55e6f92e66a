// Decodes outbound backends, distributions, queues, failure accrual and backoffs with the Rust proxy's validation.
import { decodeEndpoint, type DecodeWarn } from './endpoint-decode.js';
import { decodePolicyMeta, formatPolicyMeta } from './meta-decode.js';
import type { Backend, BackendDispatch, BackoffParams, BalancerLoad, Distribution, FailureAccrual, RouteBackend } from './outbound-policy-types.js';
import { bool, child, fail, list, msg, num, oneofArm, optDurationMs, optMsg, reqDurationMs, reqMsg, str, u32, type Obj } from './wire.js';

/** Shared by one policy's decode: identical backends become one object, so routes share balancers. */
export interface DecodeContext {
  readonly warn: DecodeWarn;
  readonly backends: Map<string, Backend>;
}

export function newDecodeContext(warn: DecodeWarn): DecodeContext {
  return { warn, backends: new Map() };
}

export type FilterDecoder<F> = (v: unknown, path: string) => F;

const PENALTY_DEFAULTS = { defaultRttMs: 30, decayMs: 10_000, penaltyMs: 5_000, maxRetryAfterMs: 300_000, penaltyDecayMs: 10_000 };

/** A `Distribution` (oneof `kind`); first/random lists must not be empty. */
export function decodeDistribution<F>(v: unknown, path: string, filter: FilterDecoder<F>, ctx: DecodeContext): Distribution<F> {
  const d = msg(v, path);
  const arm = oneofArm(d, 'kind', ['empty', 'firstAvailable', 'randomAvailable'], path) ?? fail(path, 'missing distribution kind');
  if (arm.name === 'empty') return { kind: 'empty' };
  const body = msg(arm.value, arm.path);
  const items = list(body, 'backends', arm.path);
  if (items.length === 0) fail(arm.path, `a ${arm.name} distribution may not be empty`);
  if (arm.name === 'firstAvailable') {
    return { kind: 'first-available', backends: Object.freeze(items.map((b) => decodeRouteBackend(b.value, b.path, filter, ctx))) };
  }
  const backends = items.map((w) => {
    const wb = msg(w.value, w.path);
    const rb = optMsg(wb, 'backend', w.path) ?? fail(w.path, 'a weighted backend had no backend');
    return Object.freeze({ backend: decodeRouteBackend(rb, child(w.path, 'backend'), filter, ctx), weight: u32(wb, 'weight', w.path) });
  });
  return { kind: 'random-available', backends: Object.freeze(backends) };
}

function decodeRouteBackend<F>(v: unknown, path: string, filter: FilterDecoder<F>, ctx: DecodeContext): RouteBackend<F> {
  const rb = msg(v, path);
  const backend = decodeBackend(reqMsg(rb, 'backend', path), child(path, 'backend'), ctx);
  const filters = list(rb, 'filters', path).map((f) => filter(f.value, f.path));
  return Object.freeze({ backend, filters: Object.freeze(filters) });
}

export function decodeBackend(b: Obj, path: string, ctx: DecodeContext): Backend {
  const key = JSON.stringify(b);
  const known = ctx.backends.get(key);
  if (known !== undefined) return known;
  const meta = decodePolicyMeta(reqMsg(b, 'metadata', path), child(path, 'metadata'), true);
  const arm = oneofArm(b, 'kind', ['forward', 'balancer'], path);
  let dispatch: BackendDispatch;
  if (arm === undefined) {
    dispatch = { kind: 'fail', message: `backend for ${formatPolicyMeta(meta)} has no dispatcher` };
  } else if (arm.name === 'forward') {
    dispatch = { kind: 'forward', endpoint: decodeEndpoint(arm.value, {}, arm.path, ctx.warn) };
  } else {
    const p2c = msg(arm.value, arm.path);
    const discovery = reqMsg(p2c, 'discovery', arm.path);
    const dp = child(arm.path, 'discovery');
    const dst = oneofArm(discovery, 'kind', ['dst'], dp) ?? fail(dp, 'missing discovery kind');
    dispatch = { kind: 'balancer', path: str(msg(dst.value, dst.path), 'path', dst.path), load: decodeLoad(p2c, arm.path) };
  }
  const q = reqMsg(b, 'queue', path);
  const qp = child(path, 'queue');
  const backend: Backend = Object.freeze({
    meta,
    queue: Object.freeze({ capacity: u32(q, 'capacity', qp), failfastTimeoutMs: reqDurationMs(q, 'failfastTimeout', qp) }),
    dispatch: Object.freeze(dispatch),
  });
  ctx.backends.set(key, backend);
  return backend;
}

function decodeLoad(p2c: Obj, path: string): BalancerLoad {
  const load = oneofArm(p2c, 'load', ['peakEwma', 'penaltyPeakEwma'], path) ?? fail(path, 'missing balancer load');
  const l = msg(load.value, load.path);
  if (load.name === 'peakEwma') {
    return { kind: 'peak-ewma', defaultRttMs: reqDurationMs(l, 'defaultRtt', load.path), decayMs: reqDurationMs(l, 'decay', load.path) };
  }
  // Absent penalty fields take their documented defaults; present but invalid ones are errors.
  const d = (name: string, fallback: number): number => optDurationMs(l, name, load.path) ?? fallback;
  return {
    kind: 'penalty-peak-ewma',
    defaultRttMs: d('defaultRtt', PENALTY_DEFAULTS.defaultRttMs),
    decayMs: d('decay', PENALTY_DEFAULTS.decayMs),
    penaltyMs: d('penalty', PENALTY_DEFAULTS.penaltyMs),
    maxRetryAfterMs: d('maxRetryAfter', PENALTY_DEFAULTS.maxRetryAfterMs),
    penaltyDecayMs: d('penaltyDecay', PENALTY_DEFAULTS.penaltyDecayMs),
  };
}

/** `ExponentialBackoff`: min and max are required, min ≤ max, jitter finite in [0, 100]. */
export function decodeBackoff(v: unknown, path: string): BackoffParams {
  const b = msg(v, path);
  const minMs = optDurationMs(b, 'minBackoff', path) ?? fail(child(path, 'minBackoff'), 'missing');
  const maxMs = optDurationMs(b, 'maxBackoff', path) ?? fail(child(path, 'maxBackoff'), 'missing');
  const jitter = num(b, 'jitterRatio', path);
  if (minMs > maxMs) fail(path, 'min backoff must not exceed max backoff');
  if (!Number.isFinite(jitter) || jitter < 0 || jitter > 100) fail(child(path, 'jitterRatio'), `invalid jitter ratio ${jitter}`);
  return Object.freeze({ minMs, maxMs, jitter, respectRetryAfterHint: bool(b, 'respectRetryAfterHint', path) });
}

/** Below this a success-rate window cannot be honoured (upstream rejects it). */
const MIN_WINDOW_MS = 10;
const MAX_MIN_REQUESTS = 1_000_000;

export function decodeFailureAccrual(v: unknown, path: string): FailureAccrual {
  const a = msg(v, path);
  const ej = optMsg(a, 'ejection', path);
  const ejection = ej === undefined ? undefined : Object.freeze({ minReadyEndpoints: u32(ej, 'minReadyEndpoints', child(path, 'ejection')) });
  const arm = oneofArm(a, 'kind', ['consecutiveFailures', 'unified'], path) ?? fail(path, 'missing failure accrual kind');
  const k = msg(arm.value, arm.path);
  const backoffOf = (name: string): BackoffParams => decodeBackoff(optMsg(k, name, arm.path) ?? fail(child(arm.path, name), 'missing'), child(arm.path, name));
  if (arm.name === 'consecutiveFailures') {
    return Object.freeze({ kind: 'consecutive-failures', maxFailures: u32(k, 'maxFailures', arm.path), backoff: backoffOf('backoff'), ejection });
  }
  const threshold = num(k, 'successRateThreshold', arm.path);
  if (!(threshold >= 0 && threshold <= 1)) fail(child(arm.path, 'successRateThreshold'), 'success rate threshold must be between 0.0 and 1.0');
  const windowMs = optDurationMs(k, 'decay', arm.path) ?? 10_000;
  if (threshold !== 0 && windowMs < MIN_WINDOW_MS) fail(child(arm.path, 'decay'), 'success rate window is below the minimum length');
  const minRequests = u32(k, 'minRequests', arm.path);
  if (minRequests > MAX_MIN_REQUESTS) fail(child(arm.path, 'minRequests'), 'success rate min_requests exceeds the supported maximum');
  return Object.freeze({
    kind: 'unified',
    // Upstream keeps basis points; rounding here gives the same effective threshold.
    successRateThreshold: Math.round(threshold * 10_000) / 10_000,
    windowMs,
    minRequests,
    maxConsecutiveFailures: u32(k, 'maxConsecutiveFailures', arm.path),
    backoff: backoffOf('backoff'),
    ejection,
  });
}

// Decodes Destination.Get updates and GetProfile profiles (toObject form) into domain values.
import { compileRustRegex } from '../policy/inbound/regex.js';
import { isValidDnsName } from '../tls/dns-name.js';
import { formatAddr } from '../transport/addr.js';
import type {
  DestinationEndpoint,
  DestinationProfile,
  DestinationUpdate,
  DstOverride,
  ProfileRequestMatch,
  ProfileResponseClass,
  ProfileResponseMatch,
  ProfileRoute,
  RetryBudget,
} from './destination-types.js';
import { decodeEndpoint, type DecodeWarn } from './endpoint-decode.js';
import { decodePolicyMeta } from './meta-decode.js';
import { decodeTcpAddress } from './net-decode.js';
import { bool, child, durationMs, int64, list, msg, num, oneofArm, optMsg, str, stringRecord, u32, type Obj } from './wire.js';

export { decodeEndpoint, type DecodeWarn };

const UPDATE_ARMS = ['add', 'remove', 'noEndpoints'];
const REGISTERED_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'HEAD', 'TRACE'];

/**
 * One `Update`. Endpoints with an unusable address are skipped (with a warning); an add or
 * remove left empty, and an arm this schema does not know, decode to undefined (nothing to do).
 */
export function decodeUpdate(v: unknown, warn: DecodeWarn): DestinationUpdate | undefined {
  const u = msg(v, '');
  const arm = oneofArm(u, 'update', UPDATE_ARMS, '');
  if (arm === undefined) return undefined;
  const body = msg(arm.value, arm.path);
  if (arm.name === 'noEndpoints') return { kind: 'no-endpoints', exists: bool(body, 'exists', arm.path) };
  if (arm.name === 'add') {
    const setLabels = stringRecord(body, 'metricLabels', arm.path);
    const endpoints: DestinationEndpoint[] = [];
    for (const a of list(body, 'addrs', arm.path)) {
      try {
        endpoints.push(decodeEndpoint(a.value, setLabels, a.path, warn));
      } catch (err) {
        warn(`skipping endpoint: ${(err as Error).message}`);
      }
    }
    return endpoints.length === 0 ? undefined : { kind: 'add', endpoints: Object.freeze(endpoints) };
  }
  const addrs: string[] = [];
  for (const a of list(body, 'addrs', arm.path)) {
    try {
      addrs.push(formatAddr(decodeTcpAddress(a.value, a.path)));
    } catch (err) {
      warn(`skipping removed address: ${(err as Error).message}`);
    }
  }
  return addrs.length === 0 ? undefined : { kind: 'remove', addrs: Object.freeze(addrs) };
}

/**
 * One `DestinationProfile`. Like the Rust proxy, parts it cannot use are left out rather than
 * failing the profile: undecodable routes, overrides, a bad retry budget or endpoint.
 */
export function decodeProfile(v: unknown, warn: DecodeWarn): DestinationProfile {
  const p = msg(v, '');
  const routes: ProfileRoute[] = [];
  for (const r of list(p, 'routes', '')) {
    const route = decodeRoute(msg(r.value, r.path), r.path, warn);
    if (route !== undefined) routes.push(route);
  }
  const dstOverrides: DstOverride[] = [];
  for (const d of list(p, 'dstOverrides', '')) {
    const o = decodeOverride(msg(d.value, d.path), d.path, warn);
    if (o !== undefined) dstOverrides.push(o);
  }
  const fqn = str(p, 'fullyQualifiedName', '');
  const ep = optMsg(p, 'endpoint', '');
  let endpoint: DestinationEndpoint | undefined;
  if (ep !== undefined) {
    try {
      endpoint = decodeEndpoint(ep, {}, 'endpoint', warn);
    } catch (err) {
      warn(`ignoring profile endpoint: ${(err as Error).message}`);
    }
  }
  const budget = optMsg(p, 'retryBudget', '');
  return Object.freeze({
    routes: Object.freeze(routes),
    retryBudget: budget === undefined ? undefined : decodeRetryBudget(budget, warn),
    dstOverrides: Object.freeze(dstOverrides),
    opaqueProtocol: bool(p, 'opaqueProtocol', ''),
    fullyQualifiedName: fqn !== '' && isValidDnsName(fqn) ? fqn.replace(/\.$/, '') : undefined,
    endpoint,
    parentRef: metaOrUndefined(p, 'parentRef', warn),
    profileRef: metaOrUndefined(p, 'profileRef', warn),
  });
}

function metaOrUndefined(p: Obj, name: string, warn: DecodeWarn): DestinationProfile['parentRef'] {
  const m = optMsg(p, name, '');
  if (m === undefined) return undefined;
  try {
    return decodePolicyMeta(m, name, false);
  } catch (err) {
    warn(`ignoring ${name}: ${(err as Error).message}`);
    return undefined;
  }
}

function decodeRoute(r: Obj, path: string, warn: DecodeWarn): ProfileRoute | undefined {
  const cond = optMsg(r, 'condition', path);
  const condition = cond === undefined ? undefined : requestMatch(cond);
  if (condition === undefined) {
    warn(`${path}: skipping a route without a usable condition`);
    return undefined;
  }
  const responseClasses: ProfileResponseClass[] = [];
  for (const c of list(r, 'responseClasses', path)) {
    const rc = msg(c.value, c.path);
    const m = optMsg(rc, 'condition', c.path);
    const condition = m === undefined ? undefined : responseMatch(m);
    if (condition !== undefined) responseClasses.push(Object.freeze({ condition, isFailure: bool(rc, 'isFailure', c.path) }));
  }
  let timeoutMs: number | undefined;
  const t = optMsg(r, 'timeout', path);
  if (t !== undefined) {
    try {
      timeoutMs = durationMs(t, child(path, 'timeout'));
    } catch (err) {
      warn(`${path}: ignoring route timeout: ${(err as Error).message}`);
    }
  }
  return Object.freeze({
    condition,
    responseClasses: Object.freeze(responseClasses),
    metricsLabels: stringRecord(r, 'metricsLabels', path),
    isRetryable: bool(r, 'isRetryable', path),
    timeoutMs,
  });
}

/** Undefined when the match (or a required part of it) is unusable; inner bad matches of all/any are dropped. */
function requestMatch(m: Obj): ProfileRequestMatch | undefined {
  const arm = oneofArm(m, 'match', ['all', 'any', 'not', 'path', 'method'], '');
  if (arm === undefined || !isObjLike(arm.value)) return undefined;
  const body = arm.value;
  switch (arm.name) {
    case 'all':
    case 'any':
      return { kind: arm.name, matches: Object.freeze(seq(body).map(requestMatch).filter((x) => x !== undefined)) };
    case 'not': {
      const inner = requestMatch(body);
      return inner === undefined ? undefined : { kind: 'not', match: inner };
    }
    case 'path': {
      const raw = typeof body.regex === 'string' ? body.regex.trim() : '';
      const regex = `${raw.startsWith('^') ? '' : '^'}${raw}${raw.endsWith('$') ? '' : '$'}`;
      try {
        compileRustRegex(regex);
      } catch {
        return undefined;
      }
      return { kind: 'path', regex };
    }
    default: {
      const t = oneofArm(body, 'type', ['registered', 'unregistered'], '');
      if (t === undefined) return undefined;
      if (t.name === 'registered') {
        const name = typeof t.value === 'number' ? REGISTERED_METHODS[t.value] : t.value;
        return typeof name === 'string' && REGISTERED_METHODS.includes(name) ? { kind: 'method', method: name } : undefined;
      }
      return typeof t.value === 'string' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(t.value) ? { kind: 'method', method: t.value } : undefined;
    }
  }
}

function responseMatch(m: Obj): ProfileResponseMatch | undefined {
  const arm = oneofArm(m, 'match', ['all', 'any', 'not', 'status'], '');
  if (arm === undefined || !isObjLike(arm.value)) return undefined;
  const body = arm.value;
  switch (arm.name) {
    case 'all':
    case 'any': {
      const matches = seq(body).map(responseMatch).filter((x) => x !== undefined);
      return matches.length === 0 ? undefined : { kind: arm.name, matches: Object.freeze(matches) };
    }
    case 'not': {
      const inner = responseMatch(body);
      return inner === undefined ? undefined : { kind: 'not', match: inner };
    }
    default: {
      const min = u32(body, 'min', 'status');
      const max = u32(body, 'max', 'status');
      const ok = (s: number): boolean => s >= 100 && s <= 999;
      return ok(min) && ok(max) ? { kind: 'status', min, max } : undefined;
    }
  }
}

function seq(body: Obj): Obj[] {
  return list(body, 'matches', '').flatMap((x) => (isObjLike(x.value) ? [x.value] : []));
}

function isObjLike(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Upstream's accepted ranges: ratio 0–1000, min retries ≤ i32::MAX, ttl 1s–60s. */
function decodeRetryBudget(b: Obj, warn: DecodeWarn): RetryBudget | undefined {
  const retryRatio = num(b, 'retryRatio', 'retryBudget');
  const minRetriesPerSecond = u32(b, 'minRetriesPerSecond', 'retryBudget');
  const ttl = optMsg(b, 'ttl', 'retryBudget');
  if (!(retryRatio >= 0 && retryRatio <= 1000)) return void warn(`retry_budget retry_ratio invalid: ${retryRatio}`);
  if (minRetriesPerSecond > 0x7fffffff) return void warn('retry_budget min_retries_per_second overflow');
  if (ttl === undefined) return void warn('retry_budget ttl missing');
  const seconds = int64(ttl.seconds, 'retryBudget.ttl.seconds');
  const nanos = typeof ttl.nanos === 'number' ? ttl.nanos : 0;
  if (seconds < 0n || nanos < 0 || nanos > 999_999_999) return void warn('retry_budget ttl invalid');
  const ttlMs = Number(seconds) * 1000 + nanos / 1e6;
  if (ttlMs < 1000 || ttlMs > 60_000) return void warn(`retry_budget ttl invalid: ${ttlMs}ms`);
  return Object.freeze({ retryRatio, minRetriesPerSecond, ttlMs });
}

function decodeOverride(o: Obj, path: string, warn: DecodeWarn): DstOverride | undefined {
  const weight = u32(o, 'weight', path);
  if (weight === 0) return undefined;
  const authority = str(o, 'authority', path);
  const m = /^(.+):(\d{1,5})$/.exec(authority);
  if (m === null || !isValidDnsName(m[1] ?? '') || Number(m[2]) > 65535) {
    warn(`${path}: skipping traffic-split target ${JSON.stringify(authority)}: not name:port`);
    return undefined;
  }
  const ref = optMsg(o, 'backendRef', path);
  let backendRef: DstOverride['backendRef'];
  if (ref !== undefined) {
    try {
      backendRef = decodePolicyMeta(ref, child(path, 'backendRef'), false);
    } catch {
      backendRef = undefined;
    }
  }
  return Object.freeze({ authority, weight, backendRef });
}

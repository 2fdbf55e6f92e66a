// The l5d-retry-* and l5d-*-timeout request headers (spec §4.9, §5.5): read, and consumed, only on
// routes that set allow_l5d_request_headers; parsed as upstream's route extensions parse them.
import type { RequestHead } from '../../http/h1/index.js';

export const L5D_REQUEST_HEADERS: readonly string[] = Object.freeze([
  'l5d-retry-http',
  'l5d-retry-grpc',
  'l5d-retry-limit',
  'l5d-retry-timeout',
  'l5d-timeout',
  'l5d-request-timeout',
  'l5d-response-timeout',
]);

/** What the headers of one request asked for; each field is undefined when absent or unparsable. */
export interface L5dOverrides {
  /** Inclusive HTTP status ranges; possibly empty (a header naming nothing valid retries nothing). */
  readonly retryHttp: readonly (readonly [number, number])[] | undefined;
  readonly retryGrpc: readonly number[] | undefined;
  readonly retryLimit: number | undefined;
  readonly retryTimeoutMs: number | undefined;
  /** l5d-request-timeout, else l5d-timeout. */
  readonly requestTimeoutMs: number | undefined;
  readonly responseTimeoutMs: number | undefined;
  /** The l5d headers present (all are removed before forwarding). */
  readonly present: readonly string[];
}

/** The overrides in `req`, or undefined when it carries none of the headers (the common case). */
export function l5dOverrides(req: RequestHead): L5dOverrides | undefined {
  let present: string[] | undefined;
  for (const name of L5D_REQUEST_HEADERS) if (req.indexOfHeader(name) !== -1) (present ??= []).push(name);
  if (present === undefined) return undefined;
  // Like http::HeaderMap::remove, the first value is the one that counts.
  const first = (name: string): string | undefined => req.headerValues(name)[0];
  const req1 = parseDuration(first('l5d-request-timeout'));
  return {
    retryHttp: parseHttpConditions(first('l5d-retry-http')),
    retryGrpc: parseGrpcConditions(first('l5d-retry-grpc')),
    retryLimit: parseLimit(first('l5d-retry-limit')),
    retryTimeoutMs: parseDuration(first('l5d-retry-timeout')),
    requestTimeoutMs: req1 ?? parseDuration(first('l5d-timeout')),
    responseTimeoutMs: parseDuration(first('l5d-response-timeout')),
    present,
  };
}

/** `5xx`, `gateway-error` (502–504), `503`, `500-504`, comma-separated without spaces; others are skipped. */
export function parseHttpConditions(v: string | undefined): readonly (readonly [number, number])[] | undefined {
  if (v === undefined) return undefined;
  const out: (readonly [number, number])[] = [];
  for (const cond of v.split(',')) {
    const lower = cond.toLowerCase();
    if (lower === '5xx') out.push([500, 599]);
    else if (lower === 'gateway-error') out.push([502, 504]);
    else {
      const code = statusCode(cond);
      if (code !== undefined) out.push([code, code]);
      else {
        const dash = cond.indexOf('-');
        if (dash === -1) continue;
        const s = statusCode(cond.slice(0, dash));
        const e = statusCode(cond.slice(dash + 1));
        if (s !== undefined && e !== undefined && s <= e) out.push([s, e]);
      }
    }
  }
  return out;
}

function statusCode(s: string): number | undefined {
  if (!/^\+?\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 100 && n < 600 ? n : undefined;
}

const GRPC_CODES: ReadonlyMap<string, number> = new Map([
  ['cancelled', 1],
  ['deadline-exceeded', 4],
  ['resource-exhausted', 8],
  ['internal', 13],
  ['unavailable', 14],
]);

/** `cancelled,deadline-exceeded,internal,resource-exhausted,unavailable` (any subset, any case). */
export function parseGrpcConditions(v: string | undefined): readonly number[] | undefined {
  if (v === undefined) return undefined;
  const out: number[] = [];
  for (const cond of v.split(',')) {
    const code = GRPC_CODES.get(cond.toLowerCase());
    if (code !== undefined) out.push(code);
  }
  return out;
}

function parseLimit(v: string | undefined): number | undefined {
  if (v === undefined || !/^\+?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `N(ms|s|m|h|d)` with a whole N, or a bare `0` (the policy controller's duration syntax). */
export function parseDuration(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v.trim());
  if (m === null) return undefined;
  const magnitude = Number(m[1]);
  const unit = m[2];
  if (unit === undefined) return magnitude === 0 ? 0 : undefined;
  const ms = magnitude * UNIT_MS[unit]!;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

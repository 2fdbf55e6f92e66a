// Synthetic responses for upstream failures before any response byte reached the client (§4.7).
import { ProxyError, errnoOf, messageOf } from '../../core/errors.js';
import type { SyntheticResponse } from './synthetic.js';

/** A connection attempt failed: 504 for a timeout, 502 otherwise; both close the client connection. */
export function connectFailure(err: unknown): SyntheticResponse {
  const timedOut = (err instanceof ProxyError && err.code === 'connect-timeout') || errnoOf(err) === 'ETIMEDOUT';
  return { status: timedOut ? 504 : 502, message: messageOf(err), close: true };
}

/** The upstream broke the exchange (reset, early close, malformed response). */
export function upstreamFailure(reason: string): SyntheticResponse {
  return { status: 502, message: reason, close: true };
}

/** The route's response timeout elapsed before a response head arrived. */
export function responseTimeout(ms: number): SyntheticResponse {
  return { status: 504, message: `response timed out after ${ms}ms`, close: true };
}

/** The handler threw, or produced an unusable decision. */
export function internalFailure(err: unknown): SyntheticResponse {
  return { status: 500, message: messageOf(err), close: true };
}

/** The route's request timeout elapsed before a response head arrived. */
export function requestTimeout(ms: number): SyntheticResponse {
  return { status: 504, message: `request timed out after ${ms}ms`, close: true };
}

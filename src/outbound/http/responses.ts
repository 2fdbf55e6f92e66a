// The outbound proxy's own answers (spec §4.7, upstream outbound ServerRescue): which status,
// message and connection fate each routing or dispatch failure gets.
import { ProxyError, messageOf } from '../../core/errors.js';
import type { SyntheticResponse } from '../../http/h1/index.js';

/** No route matched the request (upstream `NoRoute`). */
export const NO_ROUTE: SyntheticResponse = Object.freeze({ status: 404, message: 'no route', close: false });

/** What upstream rescues as "everything else". */
export const UNEXPECTED_ERROR: SyntheticResponse = Object.freeze({ status: 500, message: 'unexpected error', close: true });

/** A request that reached an HTTP/1 server on a target whose policy has no HTTP routes. */
export function notHttpTarget(kind: string): SyntheticResponse {
  return { status: 500, message: `the target's ${kind} policy has no HTTP/1 routes`, close: true };
}

/**
 * The backend dispatcher refused the request: fail-fast ⇒ 504, load shed ⇒ 503 (both closing
 * the connection); a failing backend, a closed balancer or target ⇒ 502 (upstream
 * `DispatcherFailed` ⇒ bad gateway).
 */
export function dispatchFailure(err: unknown): SyntheticResponse {
  const code = err instanceof ProxyError ? err.code : undefined;
  if (code === 'failfast') return { status: 504, message: messageOf(err), close: true };
  if (code === 'loadshed') return { status: 503, message: messageOf(err), close: true };
  return { status: 502, message: messageOf(err), close: true };
}

/** A `fail` backend: its message, as a 502 that closes the connection. */
export function backendFailed(message: string): SyntheticResponse {
  return { status: 502, message, close: true };
}

/** `l5d-require-id` named an identity the chosen endpoint does not have (upstream `IdentityRequired`). */
export function identityRequired(required: string, found: string | undefined): SyntheticResponse {
  const f = found === undefined ? 'None' : `Some(${JSON.stringify(found)})`;
  return { status: 502, message: `required id ${JSON.stringify(required)}; found ${f}`, close: true };
}

/** A failure-injector filter fired: the configured status and message; the connection stays. */
export function injectedFailure(status: number, message: string): SyntheticResponse {
  return { status, message, close: false };
}

/** A redirect filter fired. */
export function redirect(status: number, location: string): SyntheticResponse {
  return { status, message: 'redirected', close: false, headers: [['location', location]] };
}

/** An `internal-error` filter: an unknown filter kind or an invalid policy. */
export function invalidPolicy(message: string): SyntheticResponse {
  return { status: 500, message: `invalid client policy: ${message}`, close: true };
}

/** A route whose distribution has no backends, after the failfast timeout. */
export const NO_BACKENDS: SyntheticResponse = Object.freeze({ status: 504, message: 'service in fail-fast', close: true });

/** OUTBOUND_MAX_IN_FLIGHT reached (upstream's load shed in front of the server). */
export const LOAD_SHED: SyntheticResponse = Object.freeze({
  status: 503,
  message: 'service unavailable: the proxy is at its in-flight request limit',
  close: true,
});

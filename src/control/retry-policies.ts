// Which gRPC statuses each control-plane watch retries, as the Rust proxy decides per API, and their names.
import { status } from '@grpc/grpc-js';

/**
 * Destination Get/GetProfile and inbound WatchPort: InvalidArgument and FailedPrecondition mean
 * the request itself is wrong, so asking again cannot help; everything else (NotFound included)
 * is retried with backoff.
 */
export function destinationRetryable(code: status): boolean {
  return code !== status.INVALID_ARGUMENT && code !== status.FAILED_PRECONDITION;
}

/** Inbound server policy: the same final codes as Destination. */
export const inboundPolicyRetryable = destinationRetryable;

/**
 * OutboundPolicies.Watch: NotFound (no policy for this address) and Unimplemented (a control
 * plane older than the API) are answers, not failures: the caller synthesises a policy instead
 * of asking again.
 */
export function outboundPolicyRetryable(code: status): boolean {
  return destinationRetryable(code) && code !== status.NOT_FOUND && code !== status.UNIMPLEMENTED;
}

/** `InvalidArgument`-style name of a status code, as the Rust proxy (tonic) prints them. */
export function statusName(code: status): string {
  return STATUS_NAMES[code] ?? `Code(${code})`;
}

const STATUS_NAMES: Readonly<Record<number, string>> = {
  0: 'Ok',
  1: 'Cancelled',
  2: 'Unknown',
  3: 'InvalidArgument',
  4: 'DeadlineExceeded',
  5: 'NotFound',
  6: 'AlreadyExists',
  7: 'PermissionDenied',
  8: 'ResourceExhausted',
  9: 'FailedPrecondition',
  10: 'Aborted',
  11: 'OutOfRange',
  12: 'Unimplemented',
  13: 'Internal',
  14: 'Unavailable',
  15: 'DataLoss',
  16: 'Unauthenticated',
};

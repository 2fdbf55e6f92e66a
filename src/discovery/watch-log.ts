// How discovery clients log a control stream's failures: expected churn quietly, real errors loudly.
import { status } from '@grpc/grpc-js';
import type { Fields, Logger } from '../log/logger.js';
import { statusName } from '../control/retry-policies.js';
import type { WatchFailure } from '../control/watch.js';

/**
 * Our own stream limits and clean ends are routine (debug); other retried failures are worth an
 * info line; a watch that stops for good is a warning.
 */
export function logWatchFailure(log: Logger, failure: WatchFailure, fields: Fields): void {
  const all: Fields = {
    ...fields,
    code: statusName(failure.code),
    details: failure.details,
    retry_in_ms: failure.retryInMs === undefined ? undefined : Math.round(failure.retryInMs),
  };
  if (failure.final) log.warn('control-plane watch stopped', all);
  else if (failure.limit !== undefined || failure.code === status.OK) log.debug('control-plane stream ended; reopening', all);
  else log.info('control-plane stream failed; retrying', all);
}

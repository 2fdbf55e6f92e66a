// Errors a balancer's queue fails requests with; the HTTP layer maps them by `code`.
import { ProxyError } from '../core/errors.js';

/**
 * No endpoint became ready within the queue's failfast timeout, so the target is in
 * fail-fast. Synthetic response: 504 / gRPC DEADLINE_EXCEEDED, closing the connection.
 */
export class FailFastError extends ProxyError {
  constructor() {
    super('service in fail-fast', 'failfast', 'upstream');
  }
}

/**
 * The queue was full. Synthetic response: 503 / gRPC UNAVAILABLE, closing the connection.
 */
export class LoadShedError extends ProxyError {
  constructor() {
    super('service unavailable', 'loadshed', 'upstream');
  }
}

/** The balancer was closed (its target was dropped) while the request waited. */
export class BalancerClosedError extends ProxyError {
  constructor() {
    super('balancer closed', 'balancer-closed', 'internal');
  }
}

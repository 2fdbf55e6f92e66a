// Typed failures of outbound targets and their backends; `code` values are stable (logs, error metrics).
import { ProxyError } from '../../core/errors.js';

/** The policy controller refused the target for good (InvalidArgument / FailedPrecondition). */
export class DiscoveryRejectedError extends ProxyError {
  constructor(
    readonly target: string,
    readonly grpcCode: string,
    detail: string,
  ) {
    super(`discovery rejected ${target}: ${grpcCode}${detail === '' ? '' : `: ${detail}`}`, 'discovery rejected', 'internal');
  }
}

/** A backend the policy describes without a dispatcher (`fail`): everything sent to it fails. */
export class BackendFailedError extends ProxyError {
  constructor(message: string) {
    super(message, 'backend failed', 'internal');
  }
}

/** The target was dropped (idle eviction or proxy shutdown) while a caller still waited on it. */
export class TargetClosedError extends ProxyError {
  constructor(target: string) {
    super(`outbound target ${target} closed`, 'target closed', 'internal');
  }
}

/**
 * A target named by l5d-dst-override (ingress mode) that discovery cannot route: no policy
 * (NotFound/Unimplemented) and no profile, or a policy without HTTP routes.
 */
export class DiscoveryRequiredError extends ProxyError {
  constructor(readonly target: string) {
    super(`ingress-mode routing requires discovery: ${target}`, 'discovery required', 'internal');
  }
}

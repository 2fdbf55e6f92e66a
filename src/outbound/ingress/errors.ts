// Ingress-mode request failures, with upstream's messages; the proxy closes the client connection on them.
import { ProxyError } from '../../core/errors.js';

/** `l5d-dst-override` held an authority whose host is not a DNS name. */
export class InvalidOverrideHeaderError extends ProxyError {
  constructor() {
    super('l5d-dst-override is not a valid host:port', 'invalid override header', 'internal');
  }
}

/** A request without an override whose original destination has no HTTP policy (or none at all). */
export class PolicyRequiredError extends ProxyError {
  constructor(readonly origDst: string) {
    super(`ingress-mode fallback routing requires an HTTP policy for ${origDst}`, 'policy required', 'internal');
  }
}

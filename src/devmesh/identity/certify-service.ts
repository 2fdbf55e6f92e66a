// Identity.Certify as Linkerd's identity service answers it: checks the request, the CSR and the token, then signs.
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import type { Logger } from '../../log/logger.js';
import type { DevCa } from '../ca/dev-ca.js';
import { CsrProblem, checkCsrNames, parseCsr } from '../ca/csr.js';
import { serviceDefinition } from '../grpc/service-definition.js';
import { StatusError, statusError, unaryStatus } from '../grpc/status.js';
import type { Wire } from '../model/types.js';
import type { TokenStore } from './tokens.js';

export interface CertifyDeps {
  readonly ca: DevCa;
  readonly tokens: TokenStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Leaf lifetime (default: Linkerd's 24h). */
  readonly lifetimeMs?: number;
}

function bytes(v: unknown): Buffer {
  return v instanceof Uint8Array ? Buffer.from(v) : Buffer.alloc(0);
}

/**
 * One Certify request, in the order and with the codes of the Go identity service: a missing field
 * or unparsable CSR is INVALID_ARGUMENT; a CSR that names something else, a token nobody was
 * given, or a token of another ServiceAccount is FAILED_PRECONDITION.
 */
export async function certify(req: Wire, deps: CertifyDeps): Promise<Wire> {
  const identity = typeof req.identity === 'string' ? req.identity : '';
  const token = bytes(req.token);
  const csrDer = bytes(req.certificateSigningRequest);
  if (identity === '') throw statusError('INVALID_ARGUMENT', 'missing identity');
  if (token.length === 0) throw statusError('INVALID_ARGUMENT', 'missing token');
  if (csrDer.length === 0) throw statusError('INVALID_ARGUMENT', 'missing certificate signing request');
  let csr;
  try {
    csr = await parseCsr(csrDer);
    checkCsrNames(csr, identity);
  } catch (err) {
    if (err instanceof CsrProblem) throw statusError(err.kind === 'malformed' ? 'INVALID_ARGUMENT' : 'FAILED_PRECONDITION', err.message);
    throw err;
  }
  const tokenIdentity = await deps.tokens.identityOf(token);
  if (tokenIdentity === undefined) {
    deps.logger.info('authentication failed', { identity });
    throw statusError('FAILED_PRECONDITION', 'authentication token could not be authenticated');
  }
  if (tokenIdentity !== identity) {
    throw statusError('FAILED_PRECONDITION', `requested identity did not match provided token: requested=${identity}; found=${tokenIdentity}`);
  }
  const signed = await deps.ca.certify(csr.publicKeySpki, identity, deps.clock.now(), deps.lifetimeMs);
  deps.logger.info(`issued certificate for ${identity} until ${new Date(signed.notAfterMs).toISOString()}`);
  return {
    leafCertificate: signed.leafDer,
    intermediateCertificates: [...signed.intermediatesDer],
    validUntil: { seconds: Math.floor(signed.notAfterMs / 1000), nanos: (signed.notAfterMs % 1000) * 1e6 },
  };
}

export function addIdentityService(server: grpc.Server, deps: CertifyDeps): void {
  server.addService(serviceDefinition('io.linkerd.proxy.identity.Identity'), {
    Certify: (call: grpc.ServerUnaryCall<Wire, Wire>, callback: grpc.sendUnaryData<Wire>) => {
      certify(call.request, deps).then(
        (res) => callback(null, res),
        (err: unknown) => {
          if (err instanceof StatusError) return callback(unaryStatus(err.code, err.details));
          deps.logger.error('Certify failed', { error: messageOf(err) });
          callback(unaryStatus(grpc.status.INTERNAL, messageOf(err)));
        },
      );
    },
  });
}

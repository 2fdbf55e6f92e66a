// What makes two backends "the same" across policy updates, so their dispatcher (and its load state) is kept.
import type { FailureAccrualConfig } from '../../balance/index.js';
import type { Backend, FailureAccrual, OutboundPolicy } from '../../discovery/outbound-policy-types.js';

/**
 * Policies arrive as whole replacements with fresh objects, so identity is structural: the
 * backend's metadata, queue and dispatch (endpoint metadata included), plus the failure
 * accrual its balancer runs with. Decoded values are plain data built in a fixed key order,
 * so JSON is a faithful fingerprint.
 */
export function backendKey(backend: Backend, accrual: FailureAccrualConfig | undefined): string {
  return JSON.stringify([backend.meta, backend.queue, backend.dispatch, accrual ?? null]);
}

/**
 * The policy's HTTP failure accrual, as the balancer's consecutive-failures breaker. Opaque
 * connections never report outcomes, so a breaker on a shared dispatcher only acts on HTTP.
 * `unified` keeps its consecutive-failures dimension; the success-rate dimension is not
 * modelled by src/balance and is dropped.
 */
export function policyFailureAccrual(policy: OutboundPolicy): FailureAccrualConfig | undefined {
  const p = policy.protocol;
  switch (p.kind) {
    case 'detect':
      return toBreaker(p.http1.failureAccrual ?? p.http2.failureAccrual);
    case 'http1':
    case 'http2':
    case 'grpc':
      return toBreaker(p.failureAccrual);
    case 'opaque':
    case 'tls':
      return undefined;
  }
}

function toBreaker(fa: FailureAccrual | undefined): FailureAccrualConfig | undefined {
  if (fa === undefined) return undefined;
  const maxFailures = fa.kind === 'consecutive-failures' ? fa.maxFailures : fa.maxConsecutiveFailures;
  if (maxFailures <= 0) return undefined;
  return Object.freeze({
    kind: 'consecutive-failures',
    maxFailures,
    backoff: Object.freeze({ minMs: fa.backoff.minMs, maxMs: fa.backoff.maxMs, jitter: fa.backoff.jitter }),
  });
}

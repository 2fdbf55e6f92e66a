// The control_identity_cert_* families: expiry and time of the installed certificate, refresh outcomes.
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

export const EXPIRATION_METRIC = 'control_identity_cert_expiration_timestamp_seconds';
export const REFRESH_TIME_METRIC = 'control_identity_cert_refresh_timestamp_seconds';
export const REFRESHES_METRIC = 'control_identity_cert_refreshes_total';

/** Records what the credential store does; one per proxy, on the proxy's own registry. */
export class IdentityMetrics {
  private readonly expiration: Gauge;
  private readonly refreshedAt: Gauge;
  private readonly refreshes: Counter<'result'>;

  constructor(registry: Registry) {
    this.expiration = existing(registry, EXPIRATION_METRIC, Gauge) ?? new Gauge({
      name: EXPIRATION_METRIC,
      help: "Time when this proxy's current mTLS identity certificate expires (seconds since the Unix epoch).",
      registers: [registry],
    });
    this.refreshedAt = existing(registry, REFRESH_TIME_METRIC, Gauge) ?? new Gauge({
      name: REFRESH_TIME_METRIC,
      help: "Time when this proxy's mTLS identity certificate was last installed (seconds since the Unix epoch).",
      registers: [registry],
    });
    this.refreshes = existing(registry, REFRESHES_METRIC, Counter<'result'>) ?? new Counter({
      name: REFRESHES_METRIC,
      help: "Attempts to obtain and install this proxy's mTLS identity certificate, by outcome.",
      labelNames: ['result'] as const,
      registers: [registry],
    });
    // Both series exist from the start so that rate() over them works before the first failure.
    this.refreshes.inc({ result: 'ok' }, 0);
    this.refreshes.inc({ result: 'error' }, 0);
  }

  installed(notAfterMs: number, nowMs: number): void {
    this.expiration.set(Math.floor(notAfterMs / 1000));
    this.refreshedAt.set(nowMs / 1000);
    this.refreshes.inc({ result: 'ok' });
  }

  failed(): void {
    this.refreshes.inc({ result: 'error' });
  }
}

/** Reuses a family already on the registry (a restarted identity source), so registration can't throw. */
function existing<M>(registry: Registry, name: string, cls: abstract new (...args: never[]) => M): M | undefined {
  const m: unknown = registry.getSingleMetric(name);
  return m instanceof cls ? m : undefined;
}

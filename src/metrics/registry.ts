// Builds the proxy's one metrics bundle: a private prom-client registry plus the legacy families.

import { collectDefaultMetrics, Gauge, Registry, type OpenMetricsContentType } from 'prom-client';
import { systemClock, type Clock } from '../core/clock.js';
import { renderMetrics } from './exposition.js';
import { DEFAULT_RETAIN_IDLE_MS } from './legacy-family.js';
import { LegacyRegistry } from './legacy-registry.js';
import { TcpMetrics } from './tcp.js';

/** The labels of `proxy_build_info` (upstream: build-time constants). */
export interface BuildInfo {
  readonly version: string;
  readonly gitSha: string;
  readonly profile: string;
  readonly vendor: string;
  readonly date: string;
}

export interface MetricsOptions {
  readonly buildInfo: BuildInfo;
  /** LINKERD2_PROXY_METRICS_RETAIN_IDLE in ms. Default 10 minutes. */
  readonly retainIdleMs?: number;
  readonly clock?: Clock;
  /** process_* and nodejs_* collectors (prom-client defaults). Default true. */
  readonly processMetrics?: boolean;
}

/** Passed down from the app; stages bind their families once per target. */
export interface Metrics {
  /** prom-client registry (OpenMetrics text); never the global default registry. */
  readonly registry: Registry<OpenMetricsContentType>;
  /** Legacy families, rendered in registration order before `registry`. */
  readonly legacy: LegacyRegistry;
  readonly tcp: TcpMetrics;
  /** LINKERD2_PROXY_METRICS_RETAIN_IDLE, for families registered later. */
  readonly retainIdleMs: number;
  /** The full /metrics body. */
  render(): Promise<string>;
}

export function createMetrics(opts: MetricsOptions): Metrics {
  const clock = opts.clock ?? systemClock;
  const retainIdleMs = opts.retainIdleMs ?? DEFAULT_RETAIN_IDLE_MS;
  // OpenMetrics like the Rust proxy's prometheus-client section: counter families lose their
  // `_total` in HELP/TYPE, samples keep it, and the text ends with `# EOF`.
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const buildInfo = new Gauge({
    name: 'proxy_build_info',
    help: 'Proxy build info',
    labelNames: ['date', 'git_sha', 'profile', 'vendor', 'version'],
    registers: [registry],
  });
  const b = opts.buildInfo;
  // Key order is the exposition order; upstream derives it from struct field order.
  buildInfo.set(
    { date: b.date, git_sha: b.gitSha, profile: b.profile, vendor: b.vendor, version: b.version },
    1,
  );

  const legacy = new LegacyRegistry();
  const tcp = new TcpMetrics({ retainIdleMs });
  legacy.register(tcp);

  return {
    registry,
    legacy,
    tcp,
    retainIdleMs,
    render: () => renderMetrics(legacy, registry, clock.monotonic()),
  };
}

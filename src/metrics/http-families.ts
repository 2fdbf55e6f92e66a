// The per-endpoint HTTP families both directions share: one set per metrics bundle.
import { LegacyCounterFamily, LegacyHistogramFamily } from './legacy-family.js';
import type { Metrics } from './registry.js';

export interface HttpFamilies {
  readonly requestTotal: LegacyCounterFamily;
  readonly responseLatencyMs: LegacyHistogramFamily;
  readonly responseTotal: LegacyCounterFamily;
}

const families = new WeakMap<Metrics, HttpFamilies>();

/**
 * `request_total`, `response_latency_ms` and `response_total`, created and registered on first
 * use, ahead of the TCP families as the Rust proxy prints them. Inbound and outbound series bind
 * into these same objects: a family name may appear only once in a scrape.
 */
export function httpFamilies(metrics: Metrics): HttpFamilies {
  let f = families.get(metrics);
  if (f !== undefined) return f;
  const retainIdleMs = metrics.retainIdleMs;
  f = {
    requestTotal: new LegacyCounterFamily({ name: 'request_total', help: 'Total count of HTTP requests.', retainIdleMs }),
    responseLatencyMs: new LegacyHistogramFamily({
      name: 'response_latency_ms',
      help: "Elapsed times between a request's headers being received and its response stream completing",
      retainIdleMs,
    }),
    responseTotal: new LegacyCounterFamily({ name: 'response_total', help: 'Total count of HTTP responses.', retainIdleMs }),
  };
  for (const family of [f.requestTotal, f.responseLatencyMs, f.responseTotal]) {
    metrics.legacy.register(family, { before: metrics.tcp });
  }
  families.set(metrics, f);
  return f;
}

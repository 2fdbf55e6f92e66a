// Metrics recording per request and per connection: the per-route series trio and bare counter/histogram updates.
import { createMetrics, httpFamilies, LegacyCounterFamily } from '../../src/metrics/index.js';
import { RouteMetrics } from '../../src/inbound/http/route-metrics.js';
import { BUILD_INFO } from '../../src/version.js';
import type { MicroCase } from './harness.js';

export function metricsCases(): MicroCase[] {
  const metrics = createMetrics({ buildInfo: BUILD_INFO, processMetrics: false });
  const families = httpFamilies(metrics);
  const labels = 'direction="inbound",target_addr="10.0.0.1:8080",target_ip="10.0.0.1",target_port="8080",tls="true",client_id="client.shop.serviceaccount.identity.linkerd.cluster.local",srv_group="policy.linkerd.io",srv_kind="server",srv_name="web-http",srv_port="8080",route_group="",route_kind="default",route_name="default",authz_group="",authz_kind="default",authz_name="all-unauthenticated"';
  const allow = new LegacyCounterFamily({ name: 'bench_allow_total', help: 'bench' }).get(labels);
  const rm = new RouteMetrics(families, labels, allow);
  const counter = families.requestTotal.get(`${labels},bench="counter"`);
  const histogram = families.responseLatencyMs.get(`${labels},bench="histogram"`);
  let ms = 0;
  return [
    {
      name: 'metrics/route request: allow + request + latency + response',
      fn: () => {
        rm.allowed.inc();
        rm.countRequest();
        rm.observeLatency(200, (ms = (ms + 0.37) % 50));
        rm.countHttp(200);
        return rm;
      },
    },
    { name: 'metrics/counter inc', fn: () => counter.inc() },
    { name: 'metrics/histogram observe', fn: () => histogram.observe((ms = (ms + 0.37) % 50)) },
  ];
}

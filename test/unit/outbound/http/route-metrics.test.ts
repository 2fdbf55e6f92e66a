// Route and route-backend series: bound once per route object and backend, rendered by prom-client
// with upstream's label order, buckets and OpenMetrics counter naming.
import t from 'tap';
import type { Backend, HttpRoute } from '../../../../src/discovery/outbound-policy-types.js';
import { createMetrics } from '../../../../src/metrics/index.js';
import { OutboundRouteMetrics } from '../../../../src/outbound/http/route-metrics.js';
import { outboundHttpErrors } from '../../../../src/outbound/http/errors-metric.js';
import { META } from './helpers.js';

function bundle() {
  return createMetrics({ buildInfo: { version: 'test', gitSha: '', profile: '', vendor: '', date: '' }, processMetrics: false });
}

const ROUTE: HttpRoute = { meta: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'r1', namespace: 'test', section: undefined, port: undefined }, hosts: [], rules: [] };
const BACKEND = { meta: { ...META('web'), port: 8080 }, queue: { capacity: 1, failfastTimeoutMs: 1 }, dispatch: { kind: 'fail', message: 'x' } } as Backend;
const PARENT = { ...META('web'), port: 80 };

t.test('series are bound once per route, backend and status, and render with upstream labels', async (t) => {
  const metrics = bundle();
  const rm = new OutboundRouteMetrics(metrics, false);
  const s = rm.route(PARENT, ROUTE, 'web.test:80');
  t.equal(rm.route(PARENT, ROUTE, 'other:80'), s, 'one series per route object without hostname labels');
  t.equal(s.backend(BACKEND), s.backend(BACKEND), 'one per backend');
  t.equal(s.statuses.status(200), s.statuses.status(200), 'one per status');
  t.equal(s.statuses.error('FAIL_FAST'), s.statuses.error('FAIL_FAST'));
  s.statuses.status(200).inc();
  s.statuses.status(200).inc();
  s.statuses.error('FAIL_FAST').inc();
  s.requestDuration.observe(0.2);
  s.requestDuration.observe(20);
  s.backend(BACKEND).requests.inc();
  const text = await metrics.render();
  const parent = 'parent_group="core",parent_kind="Service",parent_namespace="test",parent_name="web",parent_port="80",parent_section_name=""';
  const route = 'route_group="gateway.networking.k8s.io",route_kind="HTTPRoute",route_namespace="test",route_name="r1"';
  t.match(text, `outbound_http_route_request_statuses_total{${parent},${route},hostname="",http_status="200",error=""} 2`);
  t.match(text, `outbound_http_route_request_statuses_total{${parent},${route},hostname="",http_status="",error="FAIL_FAST"} 1`);
  t.match(text, `outbound_http_route_request_duration_seconds_bucket{${parent},${route},hostname="",le="0.5"} 1`);
  t.match(text, `outbound_http_route_request_duration_seconds_bucket{${parent},${route},hostname="",le="10"} 1`);
  t.match(text, `outbound_http_route_request_duration_seconds_bucket{${parent},${route},hostname="",le="+Inf"} 2`);
  t.match(text, `outbound_http_route_request_duration_seconds_count{${parent},${route},hostname=""} 2`);
  t.match(text, `outbound_http_route_backend_requests_total{${parent},${route},backend_group="core",backend_kind="Service",backend_namespace="test",backend_name="web",backend_port="8080",backend_section_name=""} 1`);
  t.match(text, /# TYPE outbound_http_route_request_statuses counter\n/);
  metrics.registry.resetMetrics();
  s.statuses.status(200).inc();
  t.match(await metrics.render(), `http_status="200",error=""} 1`, 'reset keeps the bound objects working');
});

t.test('hostname labels: per DNS host of the authority, IPs and invalid names as ""', async (t) => {
  const rm = new OutboundRouteMetrics(bundle(), true);
  const a = rm.route(PARENT, ROUTE, 'Web.Test.svc:80');
  t.equal(rm.route(PARENT, ROUTE, 'web.test.svc'), a, 'port and case do not matter');
  t.not(rm.route(PARENT, ROUTE, 'other.test'), a);
  t.equal(rm.route(PARENT, ROUTE, '10.0.0.1:80'), rm.route(PARENT, ROUTE, '[::1]:80'), 'addresses share the empty hostname');
});

t.test('outbound_http_errors_total renders one legacy series per kind', async (t) => {
  const metrics = bundle();
  const e = outboundHttpErrors(metrics);
  t.equal(outboundHttpErrors(metrics), e, 'one per bundle');
  e.count('failfast');
  e.count('failfast');
  e.count('i/o');
  const text = await metrics.render();
  t.match(text, /# TYPE outbound_http_errors_total counter\noutbound_http_errors_total\{error="failfast"\} 2\noutbound_http_errors_total\{error="i\/o"\} 1\n/);
});

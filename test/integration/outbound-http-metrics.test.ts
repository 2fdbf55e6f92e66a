// Outbound HTTP metrics through the real proxy (spec §8): the legacy per-endpoint families, the
// client-policy route and route-backend families, and outbound_http_errors_total by error kind.
import t from 'tap';
import { Agent, request } from 'undici';
import { SERVICE_PATH, addUpdate, weightedAddr } from '../support/outbound-wire.js';
import { httpOrigin, serviceMesh } from './outbound-http-helpers.js';
import { closedPortOf } from '../support/net.js';

const HOST = 'web.test.svc.cluster.local';

function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

t.test('legacy endpoint families carry the outbound label set; one series per endpoint and status', async (t) => {
  const origin = await httpOrigin(t, (req, res) => {
    res.statusCode = req.url === '/fail' ? 503 : 200;
    res.end();
  });
  const mesh = await serviceMesh(t, [], {});
  mesh.dst.getSender(SERVICE_PATH).publish(addUpdate([weightedAddr('127.0.0.1', origin.port, { labels: { pod: 'web-1' } })]));
  const dispatcher = new Agent();
  t.teardown(() => dispatcher.close());
  for (const path of ['/a', '/b', '/fail', '/c']) {
    const r = await request(`http://127.0.0.1:${mesh.outboundPort}${path}`, { dispatcher, headers: { host: HOST } });
    await r.body.text();
  }
  const text = await mesh.proxy.metrics.render();
  const ep = `direction="outbound",authority="${SERVICE_PATH}",target_addr="127.0.0.1:${origin.port}",target_ip="127.0.0.1",target_port="${origin.port}",tls="no_identity",no_tls_reason="not_provided_by_service_discovery",dst_namespace="test",dst_pod="web-1",dst_service="echo"`;
  t.same(lines(text, 'request_total{'), [`request_total{${ep}} 4`]);
  t.same(lines(text, 'response_total{').sort(), [
    `response_total{${ep},status_code="200",classification="success",grpc_status="",error=""} 3`,
    `response_total{${ep},status_code="503",classification="failure",grpc_status="",error=""} 1`,
  ]);
  t.ok(lines(text, 'response_latency_ms_bucket{').some((l) => l.startsWith(`response_latency_ms_bucket{${ep},status_code="200",le="`)), 'latency by status with Linkerd buckets');
  t.match(text, new RegExp(`^response_latency_ms_count\\{${ep.replace(/[.()]/g, '\\$&')},status_code="200"\\} 3$`, 'm'));
});

t.test('route and route-backend families: parent, route and backend labels; statuses and errors', async (t) => {
  const origin = await httpOrigin(t, (req, res) => {
    res.statusCode = req.url === '/missing' ? 404 : 200;
    res.end();
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const dispatcher = new Agent();
  t.teardown(() => dispatcher.close());
  for (const path of ['/', '/missing', '/']) {
    const r = await request(`http://127.0.0.1:${mesh.outboundPort}${path}`, { dispatcher, headers: { host: HOST } });
    await r.body.text();
  }
  const text = await mesh.proxy.metrics.render();
  const parent = 'parent_group="core",parent_kind="Service",parent_namespace="test",parent_name="echo",parent_port="80",parent_section_name=""';
  const route = 'route_group="",route_kind="default",route_namespace="",route_name="http"';
  const backend = 'backend_group="core",backend_kind="Service",backend_namespace="test",backend_name="echo",backend_port="80",backend_section_name=""';
  t.same(lines(text, 'outbound_http_route_request_statuses_total{').sort(), [
    `outbound_http_route_request_statuses_total{${parent},${route},hostname="",http_status="200",error=""} 2`,
    `outbound_http_route_request_statuses_total{${parent},${route},hostname="",http_status="404",error=""} 1`,
  ]);
  t.ok(text.includes(`outbound_http_route_request_duration_seconds_count{${parent},${route},hostname=""} 3`), 'request durations per route');
  t.ok(text.includes(`outbound_http_route_request_duration_seconds_bucket{${parent},${route},hostname="",le="0.05"}`), 'upstream’s request buckets, le last');
  t.same(
    lines(text, 'outbound_http_route_request_duration_seconds_bucket{').map((l) => /le="([^"]+)"/.exec(l)?.[1]),
    ['0.05', '0.5', '1', '10', '+Inf'],
  );
  t.ok(text.includes(`outbound_http_route_backend_requests_total{${parent},${route},${backend}} 3`), 'requests per route backend');
  t.ok(text.includes(`outbound_http_route_backend_response_statuses_total{${parent},${route},${backend},http_status="404",error=""} 1`));
  t.same(
    lines(text, 'outbound_http_route_backend_response_duration_seconds_bucket{').map((l) => /le="([^"]+)"/.exec(l)?.[1]),
    ['0.025', '0.05', '0.1', '0.25', '0.5', '1', '10', '+Inf'],
    'upstream’s response buckets',
  );
  t.match(text, /^# TYPE outbound_http_route_backend_requests counter$/m, 'OpenMetrics counter naming');
  t.match(text, /^# TYPE outbound_http_route_request_duration_seconds histogram$/m);
  t.notOk(text.includes('outbound_http_route_retry_requests_total{'), 'no retry series on a route without retries');
});

t.test('hostname labels when OUTBOUND_METRICS_HOSTNAME_LABELS is on', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => res.end());
  const mesh = await serviceMesh(t, [origin.port], { env: { LINKERD2_PROXY_OUTBOUND_METRICS_HOSTNAME_LABELS: 'true' } });
  const dispatcher = new Agent();
  t.teardown(() => dispatcher.close());
  for (const host of [`${HOST}:80`, 'other.test.svc.cluster.local', '10.43.0.10']) {
    const r = await request(`http://127.0.0.1:${mesh.outboundPort}/`, { dispatcher, headers: { host } });
    await r.body.text();
  }
  const text = await mesh.proxy.metrics.render();
  const hosts = lines(text, 'outbound_http_route_request_statuses_total{').map((l) => /hostname="([^"]*)"/.exec(l)?.[1]);
  t.same(hosts.sort(), ['', 'other.test.svc.cluster.local', HOST], 'DNS names without the port; an IP is not a hostname');
});

t.test('outbound_http_errors_total by kind: failfast, i/o, identity required', async (t) => {
  const refused = await closedPortOf();
  const mesh = await serviceMesh(t, [refused]);
  const dispatcher = new Agent();
  t.teardown(() => dispatcher.close());
  const send = async (headers: Record<string, string> = {}): Promise<number> => {
    const r = await request(`http://127.0.0.1:${mesh.outboundPort}/`, { dispatcher, headers: { host: HOST, ...headers } });
    await r.body.text();
    return r.statusCode;
  };
  t.equal(await send(), 502, 'refused');
  t.equal(await send({ 'l5d-require-id': 'someone' }), 502, 'identity required');
  const text = await mesh.proxy.metrics.render();
  t.match(text, /^outbound_http_errors_total\{error="i\/o"\} 1$/m);
  t.match(text, /^outbound_http_errors_total\{error="identity required"\} 1$/m);
  t.match(text, /# TYPE outbound_http_errors_total counter/);
  const parent = 'parent_group="core",parent_kind="Service",parent_namespace="test",parent_name="echo",parent_port="80",parent_section_name=""';
  t.match(text, new RegExp(`outbound_http_route_request_statuses_total\\{${parent},[^}]*http_status="",error="UNKNOWN"\\} 2`), 'proxy errors are route errors, not statuses');

  const empty = await serviceMesh(t, [], { queue: { failfastMs: 200 } });
  const r = await request(`http://127.0.0.1:${empty.outboundPort}/`, { dispatcher, headers: { host: HOST } });
  await r.body.text();
  t.equal(r.statusCode, 504, 'no endpoints: fail-fast');
  const text2 = await empty.proxy.metrics.render();
  t.match(text2, /^outbound_http_errors_total\{error="failfast"\} 1$/m);
  t.match(text2, /outbound_http_route_request_statuses_total\{[^}]*http_status="",error="FAIL_FAST"\} 1/);
});

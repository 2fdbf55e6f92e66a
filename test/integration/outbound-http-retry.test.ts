// Client-policy retries and timeouts through the real proxy's outbound side (spec §5.5;
// control-plane-api §3 Retry/Timeouts): status conditions, limits, max_request_bytes, attempt
// timeouts, backoff, re-picked endpoints, and the l5d-retry-* / l5d-*-timeout request headers.
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { duration, type Wire } from '../support/control-plane-codec.js';
import { addUpdate, balancerBackend, httpRoute, serviceMeta, weightedAddr } from '../support/outbound-wire.js';
import { CLUSTER_KEY, keepAliveOrigin, rawClient, rawOrigin, serviceMesh, type RawOrigin } from './outbound-http-helpers.js';

const HOST = 'web.test.svc.cluster.local';

function retry(maxRetries: number, extra: Wire = {}): Wire {
  return { maxRetries, maxRequestBytes: 64 * 1024, conditions: { statusRanges: [{ start: 500, end: 599 }] }, ...extra };
}

/** An origin answering each request with the next status of `script` (then the last), echoing the attempt and body. */
async function scripted(t: Test, script: readonly number[]): Promise<RawOrigin & { requests: { line: string; headers: Map<string, string>; body: Buffer }[] }> {
  let n = 0;
  return keepAliveOrigin(t, (req) => {
    const status = script[Math.min(n, script.length - 1)]!;
    n++;
    const body = `attempt ${n}: ${req.body.toString()}`;
    return `HTTP/1.1 ${status} X\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  });
}

function agent(t: Test): Agent {
  const a = new Agent();
  t.teardown(() => a.close());
  return a;
}

async function post(port: number, dispatcher: Agent, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const res = await request(`http://127.0.0.1:${port}/`, { dispatcher, method: 'POST', body, headers: { host: HOST, ...headers } });
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
}

function metricValue(text: string, name: string, labelPart = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(labelPart)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

t.test('a retryable 503 is retried and the client gets the 200; the body is replayed as sent', async (t) => {
  const origin = await scripted(t, [503, 200]);
  const mesh = await serviceMesh(t, [origin.port], { rule: { retry: retry(2) } });
  const res = await post(mesh.outboundPort, agent(t), 'hello body');
  t.equal(res.status, 200);
  t.equal(res.body, 'attempt 2: hello body', 'the second attempt answered, with the same body');
  t.equal(origin.requests.length, 2);
  t.equal(origin.requests[0]!.body.toString(), 'hello body');
  t.equal(origin.requests[1]!.body.toString(), 'hello body');
  const text = await mesh.proxy.metrics.render();
  t.equal(metricValue(text, 'outbound_http_route_retry_requests_total'), 1, 'one retry counted');
  t.equal(metricValue(text, 'outbound_http_route_retry_successes_total'), 1, 'and it succeeded');
  t.equal(metricValue(text, 'outbound_http_route_request_statuses_total', 'http_status="200"'), 1, 'the route saw one request, answered 200');
  t.equal(metricValue(text, 'outbound_http_route_backend_response_statuses_total', 'http_status="503"'), 1, 'the backend saw the 503 attempt');
  t.equal(metricValue(text, 'outbound_http_route_backend_requests_total'), 2, 'two backend requests');
});

t.test('when the limit is reached the last 5xx is the answer', async (t) => {
  const origin = await scripted(t, [503, 502, 500, 200]);
  const mesh = await serviceMesh(t, [origin.port], { rule: { retry: retry(2) } });
  const res = await post(mesh.outboundPort, agent(t), 'x');
  t.equal(res.status, 500, 'the third (last allowed) attempt’s status');
  t.equal(res.body, 'attempt 3: x');
  t.equal(origin.requests.length, 3, 'max_retries 2 ⇒ three attempts');
  const text = await mesh.proxy.metrics.render();
  t.equal(metricValue(text, 'outbound_http_route_retry_limit_exceeded_total'), 1);
  t.equal(metricValue(text, 'outbound_http_route_retry_requests_total'), 2);
});

t.test('statuses outside the conditions are not retried', async (t) => {
  const origin = await scripted(t, [404, 200]);
  const mesh = await serviceMesh(t, [origin.port], { rule: { retry: retry(3, { conditions: { statusRanges: [{ start: 502, end: 504 }] } }) } });
  const res = await post(mesh.outboundPort, agent(t), 'x');
  t.equal(res.status, 404);
  t.equal(origin.requests.length, 1);
});

t.test('a body over max_request_bytes is sent once, never retried (Content-Length and chunked)', async (t) => {
  const origin = await scripted(t, [503, 200]);
  const mesh = await serviceMesh(t, [origin.port], { rule: { retry: retry(3, { maxRequestBytes: 16 }) } });
  const big = 'b'.repeat(64);
  const res = await post(mesh.outboundPort, agent(t), big);
  t.equal(res.status, 503, 'the single attempt’s answer');
  t.equal(origin.requests.length, 1, 'not retried');
  t.equal(origin.requests[0]!.body.toString(), big, 'the body was still forwarded whole');

  const origin2 = await scripted(t, [503, 200]);
  const mesh2 = await serviceMesh(t, [origin2.port], { rule: { retry: retry(3, { maxRequestBytes: 16 }) } });
  const c = await rawClient(t, mesh2.outboundPort);
  c.socket.write(`POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n${'c'.repeat(16)}\r\n1\r\nd\r\n0\r\n\r\n`);
  const r2 = await c.reader.response();
  t.equal(r2.status, 503, 'a chunked body that grew past the limit is not retried either');
  t.equal(origin2.requests.length, 1);
});

t.test('a chunked body within the limit is replayed byte for byte', async (t) => {
  const origin = await scripted(t, [503, 200]);
  const mesh = await serviceMesh(t, [origin.port], { rule: { retry: retry(1, { maxRequestBytes: 16 }) } });
  const c = await rawClient(t, mesh.outboundPort);
  const body = '5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nx-trailer: t\r\n\r\n';
  c.socket.write(`POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
  const res = await c.reader.response();
  t.equal(res.status, 200);
  t.equal(origin.requests.length, 2);
  t.equal(origin.requests[0]!.body.toString(), body);
  t.equal(origin.requests[1]!.body.toString(), body, 'the replay carries the same framing, extensions and trailers');
});

t.test('a response that arrives before the request body is complete is not retried', async (t) => {
  const origin = await rawOrigin(t, async (c) => {
    await c.reader.until('\r\n\r\n');
    c.socket.write('HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n');
  });
  const mesh = await serviceMesh(t, [origin.port], { rule: { retry: retry(3) } });
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 10\r\n\r\nhalf`);
  const res = await c.reader.response();
  t.equal(res.status, 503, 'the early answer is relayed');
  c.socket.write('-the-rest');
  t.equal(origin.conns.length, 1, 'no second attempt');
});

/** A Service policy whose HTTP route goes first-available to backends a then b, with failure accrual. */
function twoBackendPolicy(rule: Wire): Wire {
  const a = balancerBackend('a.test.svc.cluster.local:80', {}, 'a');
  const b = balancerBackend('b.test.svc.cluster.local:80', {}, 'b');
  const accrual = { consecutiveFailures: { maxFailures: 1, backoff: { minBackoff: duration(60_000), maxBackoff: duration(60_000), jitterRatio: 0 } } };
  const http = { routes: [httpRoute([a, b], rule)], failureAccrual: accrual };
  return {
    metadata: serviceMeta(),
    protocol: { detect: { timeout: duration(10_000), opaque: { routes: [] }, http1: http, http2: http } },
  };
}

t.test('each retry chooses again: a failing endpoint is left for the other backend', async (t) => {
  const bad = await scripted(t, [503]);
  const good = await scripted(t, [200]);
  const mesh = await serviceMesh(t, []);
  mesh.policy.outbound(CLUSTER_KEY).publish(twoBackendPolicy({ retry: retry(2) }));
  mesh.dst.getSender('a.test.svc.cluster.local:80').publish(addUpdate([weightedAddr('127.0.0.1', bad.port)]));
  mesh.dst.getSender('b.test.svc.cluster.local:80').publish(addUpdate([weightedAddr('127.0.0.1', good.port)]));
  const res = await post(mesh.outboundPort, agent(t), 'payload');
  t.equal(res.status, 200);
  t.equal(res.body, 'attempt 1: payload', 'the good endpoint answered the retry');
  t.equal(bad.requests.length, 1, 'the first attempt went to the first backend');
  t.equal(good.requests.length, 1, 'the retry went to the second, once the first was marked failing');
  const text = await mesh.proxy.metrics.render();
  t.match(text, /outbound_http_route_backend_requests_total\{[^}]*backend_name="a"[^}]*\} 1/);
  t.match(text, /outbound_http_route_backend_requests_total\{[^}]*backend_name="b"[^}]*\} 1/);
  t.match(text, /outbound_http_route_backend_response_statuses_total\{[^}]*backend_name="a"[^}]*http_status="503",error=""\} 1/);
});

t.test('the retry timeout bounds each attempt’s wait for a head, and the backoff spaces attempts', async (t) => {
  let n = 0;
  const origin = await rawOrigin(t, async (c) => {
    await c.reader.until('\r\n\r\n');
    // The first attempt never gets an answer.
    if (n++ === 0) return;
    c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  });
  const mesh = await serviceMesh(t, [origin.port], {
    rule: { retry: retry(2, { timeout: duration(150), backoff: { minBackoff: duration(100), maxBackoff: duration(100), jitterRatio: 0 } }) },
  });
  const started = Date.now();
  const res = await post(mesh.outboundPort, agent(t), '');
  const elapsed = Date.now() - started;
  t.equal(res.status, 200);
  t.equal(res.body, 'ok');
  t.equal(origin.conns.length, 2, 'the timed-out attempt was abandoned and retried on a new connection');
  t.ok(elapsed >= 240 && elapsed < 2000, `about 150ms timeout + 100ms backoff (${elapsed}ms)`);
  const text = await mesh.proxy.metrics.render();
  t.match(text, /outbound_http_route_backend_response_statuses_total\{[^}]*http_status="",error="RESPONSE_HEADERS_TIMEOUT"\} 1/);
});

t.test('the request timeout covers every attempt: 504 once it passes', async (t) => {
  const origin = await rawOrigin(t, async (c) => {
    await c.reader.until('\r\n\r\n');
  });
  const mesh = await serviceMesh(t, [origin.port], { rule: { retry: retry(1, { timeout: duration(100) }), timeouts: { request: duration(400) } } });
  const started = Date.now();
  const res = await post(mesh.outboundPort, agent(t), '');
  const elapsed = Date.now() - started;
  t.equal(res.status, 504);
  t.match(String(res.headers['l5d-proxy-error']), /request timed out after 400ms/);
  t.ok(elapsed >= 380 && elapsed < 2000, `at the request deadline (${elapsed}ms)`);
  t.equal(origin.conns.length, 2, 'the first attempt timed out and was retried; the last had no head timeout of its own');
  const text = await mesh.proxy.metrics.render();
  t.match(text, /^outbound_http_errors_total\{error="response timeout"\} 1$/m, 'counted as a response-timeout proxy error');
  t.match(text, /outbound_http_route_request_statuses_total\{[^}]*http_status="",error="REQUEST_TIMEOUT"\} 1/);
});

t.test('l5d-retry-* headers on a route that allows them: retries without a policy, and the headers are consumed', async (t) => {
  const origin = await scripted(t, [502, 503, 200]);
  const mesh = await serviceMesh(t, [origin.port], { rule: { allowL5dRequestHeaders: true } });
  const res = await post(mesh.outboundPort, agent(t), 'h', { 'l5d-retry-http': 'gateway-error', 'l5d-retry-limit': '2', 'l5d-retry-timeout': '2s' });
  t.equal(res.status, 200);
  t.equal(origin.requests.length, 3);
  for (const r of origin.requests) {
    for (const h of ['l5d-retry-http', 'l5d-retry-limit', 'l5d-retry-timeout']) t.notOk(r.headers.has(h), `${h} removed before forwarding`);
  }
});

t.test('header-only retries default to a limit of one', async (t) => {
  const origin = await scripted(t, [503, 503, 200]);
  const mesh = await serviceMesh(t, [origin.port], { rule: { allowL5dRequestHeaders: true } });
  const res = await post(mesh.outboundPort, agent(t), 'h', { 'l5d-retry-http': '5xx' });
  t.equal(res.status, 503);
  t.equal(origin.requests.length, 2);
});

t.test('l5d-retry-http overrides the policy’s conditions; l5d-retry-limit its limit', async (t) => {
  const origin = await scripted(t, [503, 503, 503, 200]);
  const mesh = await serviceMesh(t, [origin.port], { rule: { retry: retry(1, { conditions: { statusRanges: [{ start: 500, end: 500 }] } }), allowL5dRequestHeaders: true } });
  const res = await post(mesh.outboundPort, agent(t), 'h', { 'l5d-retry-http': '503', 'l5d-retry-limit': '3' });
  t.equal(res.status, 200);
  t.equal(origin.requests.length, 4);
});

t.test('on a route that does not allow them, l5d request headers are neither used nor removed', async (t) => {
  const origin = await scripted(t, [503, 200]);
  const mesh = await serviceMesh(t, [origin.port]);
  const res = await post(mesh.outboundPort, agent(t), 'h', { 'l5d-retry-http': '5xx', 'l5d-retry-limit': '3', 'l5d-timeout': '1ms' });
  t.equal(res.status, 503, 'no retry');
  t.equal(origin.requests.length, 1);
  t.equal(origin.requests[0]!.headers.get('l5d-retry-http'), '5xx', 'passed through untouched');
  t.equal(origin.requests[0]!.headers.get('l5d-timeout'), '1ms');
});

t.test('l5d-response-timeout and l5d-request-timeout on an allowing route: 504 at the deadline, headers consumed', async (t) => {
  const origin = await rawOrigin(t, async (c) => {
    const head = await c.reader.until('\r\n\r\n');
    if (/^GET \/fast/.test(head)) c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    else if (head.includes('l5d-')) c.socket.write('HTTP/1.1 500 Leaked\r\ncontent-length: 0\r\n\r\n');
  });
  const mesh = await serviceMesh(t, [origin.port], { rule: { allowL5dRequestHeaders: true } });
  const dispatcher = agent(t);
  for (const header of ['l5d-response-timeout', 'l5d-request-timeout', 'l5d-timeout']) {
    const started = Date.now();
    const res = await request(`http://127.0.0.1:${mesh.outboundPort}/slow`, { dispatcher, headers: { host: HOST, [header]: '150ms' } });
    await res.body.text();
    const elapsed = Date.now() - started;
    t.equal(res.statusCode, 504, header);
    t.ok(elapsed >= 130 && elapsed < 2000, `${header}: after about 150ms (${elapsed}ms)`);
  }
  const ok = await request(`http://127.0.0.1:${mesh.outboundPort}/fast`, { dispatcher, headers: { host: HOST, 'l5d-timeout': '5s' } });
  await ok.body.text();
  t.equal(ok.statusCode, 200, 'within the deadline the response is relayed');
});

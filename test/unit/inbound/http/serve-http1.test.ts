// The inbound HTTP/1 server against real clients (curl, undici, raw sockets) and a node:http app.
import net from 'node:net';
import t from 'tap';
import { Client, request } from 'undici';
import {
  MESHED_ID,
  PLAIN,
  SPIFFE_ID,
  closedPort,
  curl,
  httpApp,
  meshed,
  portPolicy,
  runtime,
  serverPolicy,
  startProxy,
} from './helpers/harness.js';

/** A raw client connection: write bytes, wait until the reply so far satisfies a predicate. */
async function rawClient(port: number): Promise<{ socket: net.Socket; until: (pred: (s: string) => boolean) => Promise<string> }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  let got = '';
  let closed = false;
  socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
  socket.on('close', () => (closed = true));
  await new Promise((resolve) => socket.once('connect', resolve));
  const until = async (pred: (s: string) => boolean): Promise<string> => {
    const deadline = Date.now() + 3000;
    while (!pred(got) && !closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return got;
  };
  return { socket, until };
}

t.test('curl: keep-alive on both sides, one app connection for sequential requests', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port });
  const url = `http://127.0.0.1:${proxy.port}/a`;
  const first = await curl([url, url]);
  t.equal(first.code, 0, first.stderr);
  t.equal(first.stdout, 'ok:/aok:/a');
  t.equal(proxy.accepted.length, 1, 'curl reused its connection to the proxy');
  const second = await curl([`http://127.0.0.1:${proxy.port}/b`]);
  t.equal(second.stdout, 'ok:/b');
  t.equal(proxy.accepted.length, 2);
  t.equal(app.connections(), 1, 'the pooled app connection served both client connections');
  t.equal(app.seen.length, 3);
});

t.test('undici: the app sees the request as sent, with no proxy headers added', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port });
  const client = new Client(`http://127.0.0.1:${proxy.port}`);
  t.teardown(() => client.close());
  const res = await client.request({ path: '/p?q=1', method: 'POST', body: 'payload', headers: { 'x-custom': 'v' } });
  t.equal(res.statusCode, 200);
  t.equal(await res.body.text(), 'ok:/p?q=1');
  const seen = app.seen[0]!;
  t.equal(seen.httpVersion, '1.1');
  t.equal(seen.body, 'payload');
  t.equal(seen.headers['x-custom'], 'v');
  for (const h of ['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'via', 'l5d-client-id', 'l5d-remote-ip']) {
    t.equal(seen.headers[h], undefined, `no ${h}`);
  }
});

t.test('l5d-client-id is set to a meshed client identity, replacing a forged one', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port, peer: meshed() });
  const res = await request(`http://127.0.0.1:${proxy.port}/`, { headers: { 'l5d-client-id': 'forged.example' } });
  await res.body.text();
  t.equal(res.statusCode, 200);
  t.same(app.seen[0]!.rawHeaders.filter((_, i, a) => i % 2 === 0 && a[i]!.toLowerCase() === 'l5d-client-id').length, 1);
  t.equal(app.seen[0]!.headers['l5d-client-id'], MESHED_ID);
});

t.test('l5d-client-id sent by an unmeshed client is stripped', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port, peer: PLAIN });
  const res = await request(`http://127.0.0.1:${proxy.port}/`, { headers: { 'l5d-client-id': 'forged.example' } });
  await res.body.text();
  t.equal(res.statusCode, 200);
  t.equal(app.seen[0]!.headers['l5d-client-id'], undefined);
});

t.test('no matching route: 404, l5d-proxy-error only for a meshed client', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const policy = portPolicy(serverPolicy([{ name: 'only', path: '/only' }]));
  const plain = await startProxy(t, r, { policy, appPort: app.port });
  const mesh = await startProxy(t, r, { policy, appPort: app.port, peer: meshed() });

  const a = await request(`http://127.0.0.1:${plain.port}/other`);
  t.equal(a.statusCode, 404);
  t.equal(a.headers['content-length'], '0');
  t.equal(a.headers['l5d-proxy-error'], undefined);
  t.equal(await a.body.text(), '');

  const b = await request(`http://127.0.0.1:${mesh.port}/other`);
  await b.body.text();
  t.equal(b.statusCode, 404);
  t.equal(b.headers['l5d-proxy-error'], 'no route found for request');
  t.not(b.headers.connection, 'close', 'a 404 keeps the connection');

  const ok = await request(`http://127.0.0.1:${plain.port}/only`);
  t.equal(await ok.body.text(), 'ok:/only');
  t.equal(app.seen.length, 1, 'rejected requests never reach the app');

  const text = await r.metrics.render();
  t.match(
    text,
    `inbound_http_route_not_found_total{target_addr="127.0.0.1:${app.port}",target_ip="127.0.0.1",target_port="${app.port}",srv_group="policy.linkerd.io",srv_kind="server",srv_name="web-http",srv_port="${app.port}",tls="no_identity",no_tls_reason="no_tls_from_remote"} 1`,
  );
});

t.test('unauthorized client: 403, l5d-proxy-error only for a meshed client', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const policy = portPolicy('all-authenticated');
  const plain = await startProxy(t, r, { policy, appPort: app.port });
  // A SPIFFE identity is meshed (so it is told why) but not admitted by all-authenticated.
  const spiffe = await startProxy(t, r, { policy, appPort: app.port, peer: meshed(SPIFFE_ID) });
  const dns = await startProxy(t, r, { policy, appPort: app.port, peer: meshed() });

  const a = await request(`http://127.0.0.1:${plain.port}/`);
  await a.body.text();
  t.equal(a.statusCode, 403);
  t.equal(a.headers['l5d-proxy-error'], undefined);

  const b = await request(`http://127.0.0.1:${spiffe.port}/`);
  await b.body.text();
  t.equal(b.statusCode, 403);
  t.equal(b.headers['l5d-proxy-error'], 'unauthorized request on route');

  const c = await request(`http://127.0.0.1:${dns.port}/`);
  t.equal(await c.body.text(), 'ok:/');
  t.equal(app.seen.length, 1);

  const text = await r.metrics.render();
  t.match(
    text,
    `inbound_http_authz_deny_total{target_addr="127.0.0.1:${app.port}",target_ip="127.0.0.1",target_port="${app.port}",srv_group="",srv_kind="default",srv_name="all-authenticated",srv_port="${app.port}",route_group="",route_kind="default",route_name="default",tls="no_identity",no_tls_reason="no_tls_from_remote"} 1`,
  );
  t.match(
    text,
    `inbound_http_authz_allow_total{target_addr="127.0.0.1:${app.port}",target_ip="127.0.0.1",target_port="${app.port}",srv_group="",srv_kind="default",srv_name="all-authenticated",srv_port="${app.port}",route_group="",route_kind="default",route_name="default",authz_group="",authz_kind="default",authz_name="all-authenticated",tls="true",client_id="${MESHED_ID}"} 1`,
  );
});

t.test('a policy change applies to the next request on the same connection', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const policy = portPolicy('all-unauthenticated');
  const proxy = await startProxy(t, r, { policy, appPort: app.port });
  const c = await rawClient(proxy.port);
  c.socket.write('GET /1 HTTP/1.1\r\nHost: web\r\n\r\n');
  t.match(await c.until((s) => s.includes('ok:/1')), /^HTTP\/1\.1 200 /);
  policy.set(serverPolicy([{ name: 'nobody', authorizations: [] }]));
  c.socket.write('GET /2 HTTP/1.1\r\nHost: web\r\n\r\n');
  t.match(await c.until((s) => s.includes('403 Forbidden')), /HTTP\/1\.1 403 Forbidden\r\n/);
  t.equal(proxy.accepted.length, 1, 'same client connection');
  t.equal(app.seen.length, 1);
  c.socket.destroy();
});

t.test('header modifier, redirect and rate limit from the route and server', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const policy = portPolicy(
    serverPolicy(
      [
        { name: 'mod', path: '/mod', filters: [{ kind: 'request-header-modifier', add: [['x-add', 'b']], set: [['x-set', 'new']], remove: ['x-drop'] }] },
        { name: 'moved', path: '/old', filters: [{ kind: 'redirect', scheme: undefined, authority: undefined, path: { kind: 'full', path: '/new' }, status: 302 }] },
        { name: 'rest' },
      ],
      { rateLimit: { meta: undefined, totalRps: 2, identityRps: undefined, overrides: [] } },
    ),
  );
  const proxy = await startProxy(t, r, { policy, appPort: app.port });
  const base = `http://127.0.0.1:${proxy.port}`;

  const mod = await request(`${base}/mod`, { headers: { 'x-add': 'a', 'x-set': 'old', 'x-drop': 'gone' } });
  await mod.body.text();
  const seen = app.seen[0]!;
  t.equal(seen.headers['x-add'], 'a, b', 'appended after the received value');
  t.equal(seen.headers['x-set'], 'new');
  t.equal(seen.headers['x-drop'], undefined);

  const moved = await request(`${base}/old`);
  await moved.body.text();
  t.equal(moved.statusCode, 302);
  t.equal(moved.headers.location, `http://127.0.0.1:${proxy.port}/new`);

  const third = await request(`${base}/x`);
  await third.body.text();
  t.equal(third.statusCode, 200, 'the second forwarded request in the second is allowed (the redirect did not count)');
  const fourth = await request(`${base}/x`);
  await fourth.body.text();
  t.equal(fourth.statusCode, 429);
  t.match(await r.metrics.render(), /inbound_http_local_ratelimit_total\{.*ratelimit_scope="total",tls="no_identity".*\} 1/);
});

t.test('app refuses: 502 closing the connection; the reason only for meshed clients', async (t) => {
  const r = runtime(t);
  const port = await closedPort();
  const plain = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: port });
  const mesh = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: port, peer: meshed() });

  const a = await rawClient(plain.port);
  a.socket.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
  const ra = await a.until(() => false);
  t.match(ra, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  t.match(ra, /\r\nconnection: close\r\n/);
  t.notMatch(ra, /l5d-proxy-error/);
  t.ok(a.socket.destroyed || a.socket.readableEnded, 'the proxy closed the connection');

  const b = await rawClient(mesh.port);
  b.socket.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
  const rb = await b.until(() => false);
  t.match(rb, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  t.match(rb, /\r\nl5d-proxy-error: [^\r]*ECONNREFUSED[^\r]*\r\n/);
  t.match(rb, /\r\nl5d-proxy-connection: close\r\n/);
});

t.test('metrics: request_total, response_latency_ms and response_total per route and status', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t, (req, res) => {
    res.statusCode = req.url === '/fail' ? 503 : 200;
    res.end('x');
  });
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port });
  for (const path of ['/a', '/b', '/fail']) {
    const res = await request(`http://127.0.0.1:${proxy.port}${path}`);
    await res.body.text();
  }
  const text = await r.metrics.render();
  const labels = `direction="inbound",target_addr="127.0.0.1:${app.port}",target_ip="127.0.0.1",target_port="${app.port}",tls="no_identity",no_tls_reason="no_tls_from_remote",srv_group="",srv_kind="default",srv_name="all-unauthenticated",srv_port="${app.port}",route_group="",route_kind="default",route_name="default",authz_group="",authz_kind="default",authz_name="all-unauthenticated"`;
  t.match(text, `# TYPE request_total counter\nrequest_total{${labels}} 3\n`);
  t.match(text, `response_total{${labels},status_code="200",classification="success",grpc_status="",error=""} 2\n`);
  t.match(text, `response_total{${labels},status_code="503",classification="failure",grpc_status="",error=""} 1\n`);
  t.match(text, `response_latency_ms_count{${labels},status_code="200"} 2\n`);
  t.match(text, `response_latency_ms_bucket{${labels},status_code="503",le="+Inf"} 1\n`);
  t.ok(text.indexOf('# TYPE request_total') < text.indexOf('# TYPE response_latency_ms'), 'Rust family order');
  t.ok(text.indexOf('# TYPE response_latency_ms') < text.indexOf('# TYPE response_total'));
});

// The inbound HTTP/2 server: l5d-orig-proto downgrades to HTTP/1 apps (as the Rust outbound
// sends them), plain HTTP/2 to HTTP/2 apps with trailers, gRPC rejections and app failures.
import t from 'tap';
import {
  MESHED_ID,
  SPIFFE_ID,
  closedPort,
  h2App,
  h2Request,
  httpApp,
  meshed,
  portPolicy,
  rawApp,
  runtime,
  serverPolicy,
  startProxy,
} from './helpers/harness.js';

const AUTHORITY = 'web.emojivoto.svc.cluster.local:8080';

/** What the Rust outbound sends for an upgraded HTTP/1.1 POST. */
function upgraded(path: string, origProto: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ':method': 'POST',
    ':scheme': 'http',
    ':path': path,
    ':authority': AUTHORITY,
    host: AUTHORITY,
    'l5d-orig-proto': origProto,
    'content-type': 'text/plain',
    ...extra,
  };
}

t.test('l5d-orig-proto HTTP/1.1: the app gets HTTP/1.1 without the header; the response is marked', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t, (req, res) => {
    res.setHeader('x-app', 'yes');
    res.setHeader('connection', 'keep-alive, x-hop');
    res.setHeader('x-hop', 'hop');
    res.write('echo:');
    res.end(req.body);
  });
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port, peer: meshed() });
  const res = await h2Request(t, proxy.port, upgraded('/echo?x=1', 'HTTP/1.1', { 'l5d-client-id': 'forged' }), 'hello body');
  const seen = app.seen[0]!;
  t.equal(seen.httpVersion, '1.1');
  t.equal(seen.method, 'POST');
  t.equal(seen.url, '/echo?x=1', 'origin-form');
  t.equal(seen.body, 'hello body');
  t.equal(seen.headers['l5d-orig-proto'], undefined, 'the app never sees l5d-orig-proto');
  t.equal(seen.headers.host, AUTHORITY);
  t.equal(seen.headers['l5d-client-id'], MESHED_ID);
  t.equal(seen.headers['transfer-encoding'], 'chunked', 'a body of unknown length is chunked');

  t.equal(res.headers[':status'], 200);
  t.equal(res.headers['l5d-orig-proto'], 'HTTP/1.1');
  t.equal(res.headers['x-app'], 'yes');
  t.equal(res.headers['transfer-encoding'], undefined);
  t.equal(res.headers.connection, undefined);
  t.equal(res.headers['x-hop'], undefined, 'headers named by Connection are dropped');
  t.equal(res.body, 'echo:hello body');
});

t.test('a downgraded request without Host gets one from :authority', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port });
  const headers = upgraded('/no-host', 'HTTP/1.1');
  delete headers.host;
  const res = await h2Request(t, proxy.port, headers, 'x');
  t.equal(res.headers[':status'], 200);
  t.equal(app.seen[0]!.headers.host, AUTHORITY);
  t.same(
    app.seen[0]!.rawHeaders.filter((_, i) => i % 2 === 0).filter((n) => n.toLowerCase() === 'host'),
    ['host'],
    'exactly one Host',
  );
});

t.test('downgraded requests share pooled app connections', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port });
  for (const p of ['/1', '/2', '/3']) {
    const res = await h2Request(t, proxy.port, { ...upgraded(p, 'HTTP/1.1'), 'content-length': '2' }, 'hi');
    t.equal(res.body, `ok:${p}`);
  }
  t.equal(app.connections(), 1);
  t.equal(app.seen[0]!.headers['content-length'], '2', 'a known length stays a length');
});

t.test('l5d-orig-proto HTTP/1.0: an HTTP/1.0 request line, and the HTTP/1.0 response is marked so', async (t) => {
  const r = runtime(t);
  const app = await rawApp(t, (_head, s) => {
    s.end('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nold school');
  });
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port });
  const res = await h2Request(t, proxy.port, { ...upgraded('/v10', 'HTTP/1.0'), 'content-length': '3' }, 'abc');
  t.match(app.heads[0], /^POST \/v10 HTTP\/1\.0\r\n/);
  t.match(app.heads[0], /\r\ncontent-length: 3\r\n/);
  t.notMatch(app.heads[0], /l5d-orig-proto/i);
  t.equal(res.headers[':status'], 200);
  t.equal(res.headers['l5d-orig-proto'], 'HTTP/1.0');
  t.equal(res.body, 'old school', 'an EOF-delimited body is relayed whole');
});

t.test('l5d-orig-proto with absolute-form: the app reads an absolute-form request line', async (t) => {
  const r = runtime(t);
  const app = await rawApp(t, (_head, s) => {
    s.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nabs!');
  });
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port });
  const headers = { ...upgraded('/a/b?c=d', 'HTTP/1.1; absolute-form'), ':method': 'GET' };
  const res = await h2Request(t, proxy.port, headers);
  t.match(app.heads[0], new RegExp(`^GET http://${AUTHORITY}/a/b\\?c=d HTTP/1\\.1\\r\\n`));
  t.notMatch(app.heads[0], /transfer-encoding/i, 'no body, no framing added');
  t.equal(res.headers['l5d-orig-proto'], 'HTTP/1.1');
  t.equal(res.body, 'abs!');
});

t.test('an unknown l5d-orig-proto value keeps the request HTTP/2 (and the header is dropped)', async (t) => {
  const r = runtime(t);
  const app = await h2App(t, (stream) => {
    stream.respond({ ':status': 200 });
    stream.end('h2 app');
  });
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port });
  const res = await h2Request(t, proxy.port, { ...upgraded('/x', 'HTTP/3'), ':method': 'GET' });
  t.equal(res.body, 'h2 app');
  t.equal(app.seen[0]!.headers['l5d-orig-proto'], undefined);
  t.equal(res.headers['l5d-orig-proto'], undefined);
});

t.test('plain HTTP/2 goes to an HTTP/2 app: body and trailers both ways', async (t) => {
  const r = runtime(t);
  const app = await h2App(t, (stream, _h, body) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-trailer': 'end' }));
    stream.end(`got:${body}`);
  });
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port, peer: meshed() });
  const res = await h2Request(
    t,
    proxy.port,
    { ':method': 'POST', ':path': '/pkg.Svc/Call', ':authority': AUTHORITY, 'content-type': 'application/grpc', te: 'trailers', 'l5d-client-id': 'forged' },
    'grpc-frame',
    { trailers: { 'x-req-trailer': 'sent' } },
  );
  const seen = app.seen[0]!;
  t.equal(seen.headers[':authority'], AUTHORITY);
  t.equal(seen.headers[':path'], '/pkg.Svc/Call');
  t.equal(seen.headers['l5d-client-id'], MESHED_ID);
  t.equal(seen.body, 'grpc-frame');
  t.equal(seen.trailers?.['x-req-trailer'], 'sent', 'request trailers reach the app');
  t.equal(res.headers[':status'], 200);
  t.equal(res.body, 'got:grpc-frame');
  t.equal(res.trailers?.['grpc-status'], '0');
  t.equal(res.trailers?.['x-trailer'], 'end');

  const text = await r.metrics.render();
  t.match(text, /response_total\{direction="inbound",[^}]*tls="true",client_id="[^"]+"[^}]*,status_code="200",classification="success",grpc_status="0",error=""\} 1/);
});

t.test('gRPC request not authorized: HTTP 200 with grpc-status 7, trailers-only', async (t) => {
  const r = runtime(t);
  const app = await h2App(t, (stream) => stream.respond({ ':status': 200 }, { endStream: true }));
  const policy = portPolicy('all-authenticated');
  const grpcHeaders = { ':method': 'POST', ':path': '/pkg.Svc/Call', ':authority': AUTHORITY, 'content-type': 'application/grpc' };

  const plain = await startProxy(t, r, { policy, appPort: app.port });
  const a = await h2Request(t, plain.port, grpcHeaders, '');
  t.equal(a.headers[':status'], 200);
  t.equal(a.headers['grpc-status'], '7');
  t.equal(a.headers['content-type'], 'application/grpc');
  t.equal(a.headers['content-length'], '0');
  t.equal(a.headers['grpc-message'], undefined, 'no reason for an unmeshed client');
  t.equal(a.headers['l5d-proxy-error'], undefined);

  const spiffe = await startProxy(t, r, { policy, appPort: app.port, peer: meshed(SPIFFE_ID) });
  const b = await h2Request(t, spiffe.port, grpcHeaders, '');
  t.equal(b.headers['grpc-status'], '7');
  t.equal(b.headers['grpc-message'], 'unauthorized request on route');
  t.equal(b.headers['l5d-proxy-error'], 'unauthorized request on route');

  const c = await h2Request(t, plain.port, { ...grpcHeaders, 'content-type': 'text/plain' });
  t.equal(c.headers[':status'], 403, 'non-gRPC HTTP/2 gets the HTTP status');
  t.equal(app.seen.length, 0);
});

t.test('app down: 502, gRPC 200 + grpc-status 14, downgraded 502', async (t) => {
  const r = runtime(t);
  const port = await closedPort();
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: port, peer: meshed() });
  const grpc = await h2Request(t, proxy.port, { ':method': 'POST', ':path': '/pkg.Svc/Call', ':authority': AUTHORITY, 'content-type': 'application/grpc' }, '');
  t.equal(grpc.headers[':status'], 200);
  t.equal(grpc.headers['grpc-status'], '14');
  t.match(grpc.headers['l5d-proxy-error'], /ECONNREFUSED/);
  t.equal(grpc.headers['l5d-proxy-connection'], 'close');

  const plain = await h2Request(t, proxy.port, { ':method': 'GET', ':path': '/', ':authority': AUTHORITY });
  t.equal(plain.headers[':status'], 502);
  t.equal(plain.headers.connection, undefined);

  const down = await h2Request(t, proxy.port, { ...upgraded('/', 'HTTP/1.1'), ':method': 'GET' });
  t.equal(down.headers[':status'], 502);
  t.equal(down.headers['l5d-orig-proto'], undefined, 'synthetic answers are not marked');

  const text = await r.metrics.render();
  t.match(text, /response_total\{[^}]*,status_code="200",classification="failure",grpc_status="14",error=""\} 1/);
  t.match(text, /response_total\{[^}]*,status_code="502",classification="failure",grpc_status="",error=""\} 2/);
});

t.test('HTTP/2 routes: 404 for no route; header modifier filters apply on both paths', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const policy = portPolicy(
    serverPolicy([{ name: 'mod', path: '/mod', filters: [{ kind: 'request-header-modifier', add: [], set: [['x-set', 'yes']], remove: ['x-drop'] }] }], {
      protocol: 'http2',
    }),
  );
  const proxy = await startProxy(t, r, { policy, appPort: app.port });
  const missing = await h2Request(t, proxy.port, { ...upgraded('/nope', 'HTTP/1.1'), ':method': 'GET' });
  t.equal(missing.headers[':status'], 404);
  const res = await h2Request(t, proxy.port, { ...upgraded('/mod', 'HTTP/1.1'), ':method': 'GET', 'x-drop': 'gone' });
  t.equal(res.body, 'ok:/mod');
  t.equal(app.seen[0]!.headers['x-set'], 'yes');
  t.equal(app.seen[0]!.headers['x-drop'], undefined);
});

t.test('large downgraded bodies stream both ways intact', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t, (req, res) => {
    res.setHeader('content-length', String(req.body.length));
    res.end(req.body);
  });
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port });
  const big = 'abcdefghij'.repeat(400_000);
  const res = await h2Request(t, proxy.port, upgraded('/big', 'HTTP/1.1'), big);
  t.equal(app.seen[0]!.body.length, big.length);
  t.equal(res.body.length, big.length);
  t.ok(res.body === big, 'same bytes back');
  t.equal(res.headers['content-length'], String(big.length));
});

// Outbound HTTP/1 through client policy: balancing, pooling, dispatch failures, timeouts, peer
// error headers, route selection, l5d-require-id and endpoint metrics — with curl and undici.
import http from 'node:http';
import net from 'node:net';
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { FailFastError, LoadShedError } from '../../../../src/balance/index.js';
import { closedPortOf } from '../../../support/net.js';
import {
  FakeDispatcher,
  FakeTarget,
  TcpConnector,
  balancerBackend,
  curl,
  endpoint,
  forwardBackend,
  meshedIdentity,
  parseCurl,
  pathPrefix,
  policy,
  route,
  rule,
  simpleTarget,
  startProxy,
  testRuntime,
} from './helpers.js';

interface Origin {
  readonly port: number;
  readonly name: string;
  connections: number;
  requests: http.IncomingMessage[];
}

async function origin(t: Test, name: string, handle?: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Origin> {
  const o: Origin = { port: 0, name, connections: 0, requests: [] };
  const sockets: net.Socket[] = [];
  const server = http.createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
    o.requests.push(req);
    if (handle !== undefined) return handle(req, res);
    res.setHeader('x-origin', name);
    res.end(`${name} ${req.method} ${req.url}`);
  });
  server.on('connection', (s: net.Socket) => {
    o.connections++;
    sockets.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return Object.assign(o, { port: (server.address() as net.AddressInfo).port });
}

function agent(t: Test): Agent {
  const a = new Agent({ keepAliveTimeout: 10_000, pipelining: 1, connections: 1 });
  t.teardown(() => a.close());
  return a;
}

t.test('balanced requests spread over both endpoints, and each keeps one pooled connection', async (t) => {
  const a = await origin(t, 'a');
  const b = await origin(t, 'b');
  const backend = balancerBackend('web');
  const dispatcher = new FakeDispatcher(backend, [endpoint(a.port), endpoint(b.port)]);
  const connector = new TcpConnector(t);
  const proxy = await startProxy(t, testRuntime(), connector, simpleTarget(dispatcher));

  // Two client connections, three requests each: one upstream connection per endpoint in all.
  const seen: string[] = [];
  for (let c = 0; c < 2; c++) {
    const dispatcherAgent = agent(t);
    for (let i = 0; i < 3; i++) {
      const res = await request(`http://127.0.0.1:${proxy.port}/p${i}`, { dispatcher: dispatcherAgent, headers: { host: 'web.test' } });
      seen.push(await res.body.text());
    }
  }
  t.same(seen.filter((s) => s.startsWith('a ')).length, 3, 'half the requests reached a');
  t.same(seen.filter((s) => s.startsWith('b ')).length, 3, 'half reached b');
  t.equal(a.connections, 1, 'a saw one connection (pooled)');
  t.equal(b.connections, 1, 'b saw one connection (pooled)');
  t.equal(connector.count('http1'), 2, 'the connector dialled each endpoint once, for HTTP/1');
  t.equal(proxy.accepted.length, 2);
});

t.test('a dispatcher in fail-fast answers 504 with l5d-proxy-error and closes', async (t) => {
  const backend = balancerBackend('web');
  const dispatcher = new FakeDispatcher(backend, [], () => Promise.reject(new FailFastError()));
  const proxy = await startProxy(t, testRuntime(), new TcpConnector(t), simpleTarget(dispatcher));
  const r = await curl(['-i', '-H', 'Host: web.test', `http://127.0.0.1:${proxy.port}/`]);
  const res = parseCurl(r.stdout);
  t.equal(res.status, 504);
  t.match(res.headers.get('l5d-proxy-error'), /service in fail-fast/);
  t.equal(res.headers.get('connection'), 'close');
  t.equal(res.headers.get('l5d-proxy-connection'), 'close');
  t.equal(res.headers.get('content-length'), '0');
});

t.test('load shedding answers 503', async (t) => {
  const backend = balancerBackend('web');
  const dispatcher = new FakeDispatcher(backend, [], () => Promise.reject(new LoadShedError()));
  const proxy = await startProxy(t, testRuntime(), new TcpConnector(t), simpleTarget(dispatcher));
  const res = parseCurl((await curl(['-i', '-H', 'Host: web.test', `http://127.0.0.1:${proxy.port}/`])).stdout);
  t.equal(res.status, 503);
  t.match(res.headers.get('l5d-proxy-error'), /service unavailable/);
  t.equal(res.headers.get('connection'), 'close');
});

t.test('informational headers are left out when disabled', async (t) => {
  const backend = balancerBackend('web');
  const dispatcher = new FakeDispatcher(backend, [], () => Promise.reject(new LoadShedError()));
  const rt = testRuntime({ LINKERD2_PROXY_OUTBOUND_DISABLE_INFORMATIONAL_HEADERS: 'true' });
  t.equal(rt.config.disableInformationalHeaders, true);
  const proxy = await startProxy(t, rt, new TcpConnector(t), simpleTarget(dispatcher));
  const res = parseCurl((await curl(['-i', '-H', 'Host: web.test', `http://127.0.0.1:${proxy.port}/`])).stdout);
  t.equal(res.status, 503);
  t.equal(res.headers.get('l5d-proxy-error'), undefined);
  t.equal(res.headers.get('l5d-proxy-connection'), undefined);
});

t.test('a refused connection answers 502', async (t) => {
  const port = await closedPortOf();
  const backend = balancerBackend('web');
  const dispatcher = new FakeDispatcher(backend, [endpoint(port)]);
  const proxy = await startProxy(t, testRuntime(), new TcpConnector(t), simpleTarget(dispatcher));
  const res = parseCurl((await curl(['-i', '-H', 'Host: web.test', `http://127.0.0.1:${proxy.port}/`])).stdout);
  t.equal(res.status, 502);
  t.match(res.headers.get('l5d-proxy-error'), /ECONNREFUSED/);
  t.equal(res.headers.get('connection'), 'close');
});

t.test('a fail backend answers 502 with its message', async (t) => {
  const backend = { ...balancerBackend('web'), dispatch: { kind: 'fail', message: 'backend not found' } as const };
  const dispatcher = new FakeDispatcher(backend, []);
  const proxy = await startProxy(t, testRuntime(), new TcpConnector(t), simpleTarget(dispatcher));
  const res = parseCurl((await curl(['-i', '-H', 'Host: web.test', `http://127.0.0.1:${proxy.port}/`])).stdout);
  t.equal(res.status, 502);
  t.equal(res.headers.get('l5d-proxy-error'), 'backend not found');
  t.equal(dispatcher.picks, 0, 'nothing was picked');
});

t.test('the route response timeout answers 504', async (t) => {
  const slow = await origin(t, 'slow', (_req, res) => {
    setTimeout(() => res.end('late'), 2000).unref();
  });
  const backend = balancerBackend('web');
  const dispatcher = new FakeDispatcher(backend, [endpoint(slow.port)]);
  const target = new FakeTarget(policy([route('r', [rule(backend, { timeouts: { responseMs: 150 } })])], [backend]), [dispatcher]);
  const rt = testRuntime();
  const proxy = await startProxy(t, rt, new TcpConnector(t), target);
  const started = Date.now();
  const res = parseCurl((await curl(['-i', '-H', 'Host: web.test', `http://127.0.0.1:${proxy.port}/`])).stdout);
  t.equal(res.status, 504);
  t.match(res.headers.get('l5d-proxy-error'), /timed out|timeout/);
  t.ok(Date.now() - started < 1500, 'answered at the deadline, not when the origin answered');
  const metrics = await rt.metrics.render();
  t.match(metrics, /response_total\{direction="outbound",authority="web\.test\.svc\.cluster\.local:80",target_addr="127\.0\.0\.1:\d+",target_ip="127\.0\.0\.1",target_port="\d+",tls="no_identity",no_tls_reason="not_provided_by_service_discovery",classification="failure",grpc_status="",error="timeout"\} 1/);
});

t.test('peer proxy error headers are stripped; a forward target to a meshed peer closes on l5d-proxy-connection', async (t) => {
  const peer = await origin(t, 'peer', (req, res) => {
    res.setHeader('l5d-proxy-error', 'peer says no');
    res.setHeader('l5d-proxy-connection', req.url === '/close' ? 'close' : 'keep-alive');
    res.statusCode = 502;
    res.end();
  });
  const connector = new TcpConnector(t);
  // Forward backend + identity: the close rule applies.
  const ep = endpoint(peer.port, { tlsIdentity: meshedIdentity('peer.test.serviceaccount.identity.linkerd.cluster.local') });
  const fwd = forwardBackend(ep);
  const fwdProxy = await startProxy(t, testRuntime(), connector, simpleTarget(new FakeDispatcher(fwd, [ep])));
  const a = agent(t);
  const r1 = await request(`http://127.0.0.1:${fwdProxy.port}/keep`, { dispatcher: a, headers: { host: 'peer.test' } });
  await r1.body.dump();
  t.equal(r1.statusCode, 502);
  t.equal(r1.headers['l5d-proxy-error'], undefined, 'l5d-proxy-error stripped');
  t.equal(r1.headers['l5d-proxy-connection'], undefined, 'l5d-proxy-connection stripped');
  t.not(r1.headers['connection'], 'close');

  const raw = await curl(['-i', '-H', 'Host: peer.test', `http://127.0.0.1:${fwdProxy.port}/close`]);
  const closed = parseCurl(raw.stdout);
  t.equal(closed.status, 502);
  t.equal(closed.headers.get('l5d-proxy-connection'), undefined);
  t.equal(closed.headers.get('connection'), 'close', 'the app connection is closed after this response');

  // Through a balancer the same header does not close the app's connection.
  const bal = balancerBackend('peer');
  const balProxy = await startProxy(t, testRuntime(), connector, simpleTarget(new FakeDispatcher(bal, [ep])));
  const res = parseCurl((await curl(['-i', '-H', 'Host: peer.test', `http://127.0.0.1:${balProxy.port}/close`])).stdout);
  t.equal(res.headers.get('connection'), undefined, 'balanced endpoints do not trigger the close');
  t.equal(res.headers.get('l5d-proxy-connection'), undefined);
});

t.test('routes select backends by path and header', async (t) => {
  const a = await origin(t, 'api');
  const b = await origin(t, 'canary');
  const c = await origin(t, 'default');
  const api = balancerBackend('api');
  const canary = balancerBackend('canary');
  const dflt = balancerBackend('default');
  const target = new FakeTarget(
    policy(
      [
        route('api', [rule(api, { matches: [pathPrefix('/api')] })]),
        route('canary', [rule(canary, { matches: [pathPrefix('/api', [{ kind: 'exact', name: 'x-canary', value: 'yes' }])] })]),
        route('default', [rule(dflt)]),
        route('other-host', [rule(canary)], [{ kind: 'exact', host: 'other.test' }]),
      ],
      [api, canary, dflt],
    ),
    [new FakeDispatcher(api, [endpoint(a.port)]), new FakeDispatcher(canary, [endpoint(b.port)]), new FakeDispatcher(dflt, [endpoint(c.port)])],
  );
  const proxy = await startProxy(t, testRuntime(), new TcpConnector(t), target);
  const get = async (path: string, headers: Record<string, string>): Promise<string> => {
    const res = await request(`http://127.0.0.1:${proxy.port}${path}`, { headers: { host: 'web.test', ...headers } });
    return res.body.text();
  };
  t.equal(await get('/api/users', {}), 'api GET /api/users');
  t.equal(await get('/api/users', { 'x-canary': 'yes' }), 'canary GET /api/users', 'more header matches win');
  t.equal(await get('/apiary', {}), 'default GET /apiary', 'prefixes match whole segments');
  t.equal(await get('/', { host: 'other.test' }), 'canary GET /', 'an exact host match beats routes without hosts');
});

t.test('no matching route answers 404 without closing', async (t) => {
  const backend = balancerBackend('web');
  const dispatcher = new FakeDispatcher(backend, []);
  const target = new FakeTarget(policy([route('only', [rule(backend, { matches: [pathPrefix('/only')] })])], [backend]), [dispatcher]);
  const proxy = await startProxy(t, testRuntime(), new TcpConnector(t), target);
  const a = agent(t);
  for (let i = 0; i < 2; i++) {
    const res = await request(`http://127.0.0.1:${proxy.port}/elsewhere`, { dispatcher: a });
    await res.body.dump();
    t.equal(res.statusCode, 404);
    t.equal(res.headers['l5d-proxy-error'], 'no route');
  }
  t.equal(proxy.accepted.length, 1, 'both answers went over one connection');
});

t.test('l5d-require-id: a mismatch answers 502 without contacting the endpoint; a match is forwarded without the header', async (t) => {
  const o = await origin(t, 'o', (req, res) => res.end(JSON.stringify(req.headers)));
  const id = 'web.test.serviceaccount.identity.linkerd.cluster.local';
  const backend = balancerBackend('web');
  const dispatcher = new FakeDispatcher(backend, [endpoint(o.port, { tlsIdentity: meshedIdentity(id) })]);
  const connector = new TcpConnector(t);
  const proxy = await startProxy(t, testRuntime(), connector, simpleTarget(dispatcher));

  const bad = parseCurl((await curl(['-i', '-H', 'Host: web.test', '-H', 'l5d-require-id: other.identity', `http://127.0.0.1:${proxy.port}/`])).stdout);
  t.equal(bad.status, 502);
  t.match(bad.headers.get('l5d-proxy-error'), /required id "other\.identity"; found Some\("web\.test/);
  t.equal(o.requests.length, 0, 'the endpoint was not contacted');
  t.equal(connector.sessions.length, 0);

  const good = await request(`http://127.0.0.1:${proxy.port}/`, { headers: { host: 'web.test', 'l5d-require-id': id } });
  t.equal(good.statusCode, 200);
  const seen = JSON.parse(await good.body.text()) as Record<string, string>;
  t.equal(seen['l5d-require-id'], undefined, 'the header is consumed');
  t.equal(seen['host'], 'web.test');
});

t.test('l5d-require-id fails for an endpoint without TLS', async (t) => {
  const o = await origin(t, 'o');
  const backend = balancerBackend('web');
  const proxy = await startProxy(t, testRuntime(), new TcpConnector(t), simpleTarget(new FakeDispatcher(backend, [endpoint(o.port)])));
  const res = parseCurl((await curl(['-i', '-H', 'Host: web.test', '-H', 'l5d-require-id: x.y', `http://127.0.0.1:${proxy.port}/`])).stdout);
  t.equal(res.status, 502);
  t.match(res.headers.get('l5d-proxy-error'), /required id "x\.y"; found None/);
});

t.test('header modifier and failure-injection filters', async (t) => {
  const o = await origin(t, 'o', (req, res) => {
    res.setHeader('x-drop', 'gone');
    res.end(JSON.stringify(req.headers));
  });
  const backend = balancerBackend('web');
  const dispatcher = new FakeDispatcher(backend, [endpoint(o.port)]);
  const target = new FakeTarget(
    policy(
      [
        route('fail', [
          rule(backend, {
            matches: [pathPrefix('/fail')],
            filters: [{ kind: 'failure-injector', status: 418, message: 'injected', ratio: { numerator: 1, denominator: 1 } }],
          }),
        ]),
        route('mod', [
          rule(backend, {
            filters: [
              { kind: 'request-header-modifier', add: [['x-add', 'two']], set: [['x-set', 'new']], remove: ['x-remove'] },
              { kind: 'response-header-modifier', add: [['x-resp', 'yes']], set: [], remove: ['x-drop'] },
            ],
          }),
        ]),
      ],
      [backend],
    ),
    [dispatcher],
  );
  const proxy = await startProxy(t, testRuntime(), new TcpConnector(t), target);
  const failed = await request(`http://127.0.0.1:${proxy.port}/fail`);
  await failed.body.dump();
  t.equal(failed.statusCode, 418);
  t.equal(failed.headers['l5d-proxy-error'], 'injected');

  const res = await request(`http://127.0.0.1:${proxy.port}/mod`, { headers: { 'x-add': 'one', 'x-set': 'old', 'x-remove': 'bye' } });
  const seen = JSON.parse(await res.body.text()) as Record<string, string>;
  t.equal(seen['x-add'], 'one, two');
  t.equal(seen['x-set'], 'new');
  t.equal(seen['x-remove'], undefined);
  t.equal(res.headers['x-resp'], 'yes');
  t.equal(res.headers['x-drop'], undefined);
});

t.test('endpoint metrics: request_total, response_latency_ms and response_total with dst labels', async (t) => {
  const o = await origin(t, 'o', (req, res) => {
    res.statusCode = req.url === '/err' ? 500 : 200;
    res.end();
  });
  const backend = balancerBackend('web');
  const dispatcher = new FakeDispatcher(backend, [endpoint(o.port, { metricLabels: { service: 'web', namespace: 'test' } })]);
  const rt = testRuntime();
  const proxy = await startProxy(t, rt, new TcpConnector(t), simpleTarget(dispatcher));
  const a = agent(t);
  for (const path of ['/', '/', '/err']) {
    const res = await request(`http://127.0.0.1:${proxy.port}${path}`, { dispatcher: a, headers: { host: 'web.test' } });
    await res.body.dump();
  }
  // The last request's end is reported just after its response completes.
  await new Promise((r) => setTimeout(r, 20));
  const text = await rt.metrics.render();
  const base = `direction="outbound",authority="web.test.svc.cluster.local:80",target_addr="127.0.0.1:${o.port}",target_ip="127.0.0.1",target_port="${o.port}",tls="no_identity",no_tls_reason="not_provided_by_service_discovery",dst_namespace="test",dst_service="web"`;
  t.ok(text.includes(`# TYPE request_total counter\nrequest_total{${base}} 3\n`), 'request_total');
  t.ok(text.includes(`response_latency_ms_count{${base},status_code="200"} 2\n`), 'latency by status');
  t.ok(text.includes(`response_latency_ms_bucket{${base},status_code="500",le="+Inf"} 1\n`));
  t.ok(text.includes(`response_total{${base},status_code="200",classification="success",grpc_status="",error=""} 2\n`));
  t.ok(text.includes(`response_total{${base},status_code="500",classification="failure",grpc_status="",error=""} 1\n`));
  t.ok(text.includes(`tcp_open_total{direction="outbound",peer="dst",authority="web.test.svc.cluster.local:80",target_addr="127.0.0.1:${o.port}"`), 'connect-side transport metrics');
});

t.test('a request waiting for an endpoint gives up when its connection closes', async (t) => {
  const backend = balancerBackend('web');
  let aborted = false;
  const dispatcher = new FakeDispatcher(backend, [], (_d, signal) =>
    new Promise((_resolve, reject) => {
      signal?.addEventListener('abort', () => {
        aborted = true;
        reject(new Error('aborted'));
      });
    }),
  );
  const proxy = await startProxy(t, testRuntime(), new TcpConnector(t), simpleTarget(dispatcher));
  const s = net.connect(proxy.port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  s.write('GET / HTTP/1.1\r\nhost: web.test\r\n\r\n');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(dispatcher.picks, 1);
  t.notOk(aborted);
  // The engine does not read a client socket while routing, so it is the proxy side that closes
  // it here (as shutdown does); the waiting pick must not outlive the connection.
  proxy.accepted[0]!.destroy();
  await new Promise((r) => setTimeout(r, 50));
  t.ok(aborted, 'the pick was aborted');
  s.destroy();
});

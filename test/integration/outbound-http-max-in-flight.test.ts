// OUTBOUND_MAX_IN_FLIGHT through the real proxy (spec §5.5, §4.7): requests beyond the limit, across
// connections, are shed with a closing 503; a slot is held until the response head is sent.
import type http from 'node:http';
import t from 'tap';
import { Agent, request } from 'undici';
import { curl, eventually, httpOrigin, parseCurlOutput, serviceMesh } from './outbound-http-helpers.js';

const HOST = 'web.test.svc.cluster.local';

t.test('with a limit of 2, a third concurrent request (another connection) gets a closing 503', async (t) => {
  const held: http.ServerResponse[] = [];
  const origin = await httpOrigin(t, (req, res) => {
    if (req.url === '/slow') held.push(res);
    else res.end('fast');
  });
  const mesh = await serviceMesh(t, [origin.port], { env: { LINKERD2_PROXY_OUTBOUND_MAX_IN_FLIGHT: '2' } });
  const dispatcher = new Agent({ connections: 4 });
  t.teardown(() => dispatcher.close());
  const slow = [0, 1].map(() => request(`http://127.0.0.1:${mesh.outboundPort}/slow`, { dispatcher, headers: { host: HOST } }));
  t.ok(await eventually(() => held.length === 2), 'two requests are in flight at the origin');

  const shed = await curl(['-i', '-H', `Host: ${HOST}`, `http://127.0.0.1:${mesh.outboundPort}/third`]);
  const res = parseCurlOutput(shed.stdout);
  t.equal(res.status, 503, 'over the limit: load shed');
  t.equal(res.headers.get('connection'), 'close', 'the connection is closed');
  t.match(res.headers.get('l5d-proxy-error') ?? '', /in-flight request limit/, 'l5d-proxy-error says why');

  // A response head frees the slot even while its body is still streaming.
  held[0]!.writeHead(200, { 'content-type': 'text/plain' });
  held[0]!.write('partial');
  const first = await slow[0]!;
  t.equal(first.statusCode, 200);
  const next = await request(`http://127.0.0.1:${mesh.outboundPort}/fast`, { dispatcher, headers: { host: HOST } });
  t.equal(next.statusCode, 200, 'a slot was released at the response head');
  t.equal(await next.body.text(), 'fast');

  held[0]!.end(' done');
  t.equal(await first.body.text(), 'partial done');
  held[1]!.end('second');
  t.equal(await (await slow[1]!).body.text(), 'second');
  const after = await request(`http://127.0.0.1:${mesh.outboundPort}/fast`, { dispatcher, headers: { host: HOST } });
  t.equal(after.statusCode, 200);
  await after.body.text();

  const text = await mesh.proxy.metrics.render();
  t.match(text, /^outbound_http_errors_total\{error="loadshed"\} 1$/m, 'the shed request counted as a loadshed proxy error');
});

t.test('local answers and upstream failures release their slots too', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => {
    res.statusCode = 500;
    res.end();
  });
  const mesh = await serviceMesh(t, [origin.port], { env: { LINKERD2_PROXY_OUTBOUND_MAX_IN_FLIGHT: '1' } });
  const dispatcher = new Agent();
  t.teardown(() => dispatcher.close());
  for (let i = 0; i < 5; i++) {
    const r = await request(`http://127.0.0.1:${mesh.outboundPort}/`, { dispatcher, headers: { host: HOST, 'l5d-require-id': 'nobody' } });
    await r.body.text();
    t.equal(r.statusCode, 502, `request ${i}: the identity check answers, and the slot is free again`);
  }
  const r = await request(`http://127.0.0.1:${mesh.outboundPort}/`, { dispatcher, headers: { host: HOST } });
  await r.body.text();
  t.equal(r.statusCode, 500, 'the origin’s own answer still gets through');
});

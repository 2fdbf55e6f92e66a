// `demo-app get --via`: an app sending through its proxy names the Service in l5d-dst-override and keeps the URL's Host.
import http from 'node:http';
import type net from 'node:net';
import t from 'tap';
import { parseVia, runDemoAppCli } from '../../../src/demo/terminus.js';

t.test('parseVia', async (t) => {
  t.same(parseVia('127.18.2.2:4140'), { host: '127.18.2.2', port: 4140 });
  t.same(parseVia('[::1]:4140'), { host: '::1', port: 4140 });
  for (const bad of ['127.18.2.2', '127.18.2.2:0', '127.18.2.2:70000', ':4140', 'a:b']) t.equal(parseVia(bad), undefined, bad);
});

t.test('the request goes to the proxy, with the Service as Host and in l5d-dst-override', async (t) => {
  const seen: { url?: string; host?: string; override?: string }[] = [];
  const proxy = http.createServer((req, res) => {
    seen.push({ url: req.url!, host: req.headers.host!, override: req.headers['l5d-dst-override'] as string });
    res.end(JSON.stringify({ requestUID: 'x', payload: 'hello-from-proxy' }));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => proxy.close());
  const port = (proxy.address() as net.AddressInfo).port;
  let out = '';
  const code = await runDemoAppCli(['get', 'http://legacy-app.mixed-env.svc.cluster.local/a?b=1', '--via', `127.0.0.1:${port}`, '--count', '2'], (s) => (out += s), () => undefined);
  t.equal(code, 0);
  t.same(out.trim().split('\n').map((l) => JSON.parse(l) as unknown), [{ status: 200, payload: 'hello-from-proxy' }, { status: 200, payload: 'hello-from-proxy' }]);
  t.same(seen[0], { url: '/a?b=1', host: 'legacy-app.mixed-env.svc.cluster.local', override: 'legacy-app.mixed-env.svc.cluster.local:80' });
  out = '';
  await runDemoAppCli(['get', 'http://web.ns.svc.cluster.local:8080/', '--via', `127.0.0.1:${port}`], (s) => (out += s), () => undefined);
  t.equal(seen[2]?.override, 'web.ns.svc.cluster.local:8080', "the URL's port when it has one");
});

t.test('a proxy that is not there is a result, not a crash; a bad --via is a usage error', async (t) => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  let out = '';
  t.equal(await runDemoAppCli(['get', 'http://svc/', '--via', `127.0.0.1:${port}`], (s) => (out += s), () => undefined), 0);
  t.same(JSON.parse(out), { status: 0, payload: '', error: 'ECONNREFUSED' });
  let err = '';
  t.equal(await runDemoAppCli(['get', 'http://svc/', '--via', 'nowhere'], () => undefined, (s) => (err += s)), 64);
  t.match(err, /--via needs HOST:PORT/);
});

import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { startAdminServer, type AdminServerOptions } from '../../../src/admin/server.js';
import { createRootLogger } from '../../../src/log/root-logger.js';
import { createMetrics } from '../../../src/metrics/registry.js';

const run = promisify(execFile);

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

interface Harness {
  port: number;
  host: string;
  logs: string[];
  ready: { value: boolean };
  shutdowns: { count: number };
  listen: net.Server;
  close(): Promise<void>;
  send(method: string, path: string, opts?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply>;
}

async function startHarness(
  t: Test,
  overrides: Partial<AdminServerOptions> & { host?: string; pauseOnConnect?: boolean; logFilter?: string } = {},
): Promise<Harness> {
  const host = overrides.host ?? '127.0.0.1';
  const listen = net.createServer({ pauseOnConnect: overrides.pauseOnConnect ?? true });
  listen.listen(0, host);
  await once(listen, 'listening');
  const port = (listen.address() as net.AddressInfo).port;
  const logs: string[] = [];
  const root = createRootLogger({
    filter: overrides.logFilter ?? 'warn,linkerd=info',
    format: 'plain',
    write: (l) => logs.push(l),
  });
  const ready = { value: false };
  const shutdowns = { count: 0 };
  const metrics = createMetrics({
    buildInfo: { version: 'v1', gitSha: 'sha', profile: 'release', vendor: 'test', date: 'today' },
  });
  const admin = startAdminServer({
    listen,
    metrics,
    readiness: { isReady: () => ready.value },
    logger: root.child('admin'),
    logLevel: root.levelControl(),
    env: { LINKERD2_PROXY_LOG: 'warn', HOME: '/root', EMPTY: '', UNSET: undefined },
    shutdown: { enabled: false, trigger: () => shutdowns.count++ },
    onConnection: (s) => metrics.tcp.bind({ direction: 'inbound', peer: 'src', target_port: String(port) }).track(s),
    ...overrides,
  });
  t.teardown(() => admin.close());
  const send: Harness['send'] = (method, path, opts = {}) =>
    new Promise((resolve, reject) => {
      const req = request({ host, port, method, path, headers: opts.headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString() });
        });
      });
      req.on('error', reject);
      req.end(opts.body);
    });
  return { port, host, logs, ready, shutdowns, listen, close: () => admin.close(), send };
}

t.test('/live answers any method', async (t) => {
  const h = await startHarness(t);
  for (const method of ['GET', 'POST', 'DELETE']) {
    const r = await h.send(method, '/live');
    t.equal(r.status, 200, method);
    t.equal(r.headers['content-type'], 'text/plain');
    t.equal(r.text, 'live\n');
  }
});

t.test('/ready is 503 without a content-type until ready, then 200', async (t) => {
  const h = await startHarness(t);
  const before = await h.send('GET', '/ready');
  t.equal(before.status, 503);
  t.equal(before.text, 'not ready\n');
  t.equal(before.headers['content-type'], undefined);
  h.ready.value = true;
  const after = await h.send('GET', '/ready');
  t.equal(after.status, 200);
  t.equal(after.text, 'ready\n');
  t.equal(after.headers['content-type'], 'text/plain');
});

t.test('/metrics: text/plain, legacy first, prom-client last, admin connections counted', async (t) => {
  const h = await startHarness(t);
  const r = await h.send('GET', '/metrics');
  t.equal(r.status, 200);
  t.equal(r.headers['content-type'], 'text/plain');
  t.equal(r.headers['content-encoding'], undefined);
  t.ok(r.text.startsWith('# HELP tcp_open_total'), 'legacy families first');
  t.match(r.text, `tcp_open_connections{direction="inbound",peer="src",target_port="${h.port}"} 1\n`);
  t.ok(r.text.endsWith('# EOF\n'));
});

t.test('/metrics is gzipped when Accept-Encoding mentions gzip', async (t) => {
  const h = await startHarness(t);
  const r = await h.send('GET', '/metrics', { headers: { 'accept-encoding': 'br, gzip;q=0.5' } });
  t.equal(r.status, 200);
  t.equal(r.headers['content-encoding'], 'gzip');
  t.equal(r.headers['content-type'], 'text/plain');
  const text = gunzipSync(r.body).toString();
  t.ok(text.startsWith('# HELP tcp_open_total'));
  t.ok(text.endsWith('# EOF\n'));
});

t.test('curl --compressed reads gzipped /metrics', async (t) => {
  const h = await startHarness(t);
  const { stdout } = await run('curl', ['-sS', '--compressed', '-D', '-', `http://127.0.0.1:${h.port}/metrics`]);
  const [head = '', body = ''] = stdout.split('\r\n\r\n');
  t.match(head, /^HTTP\/1\.1 200 OK/);
  t.match(head, /\r\ncontent-encoding: gzip/i);
  t.match(head, /\r\ncontent-type: text\/plain\r?/i);
  t.ok(body.startsWith('# HELP tcp_open_total'), 'curl decoded the body');
  t.ok(body.endsWith('# EOF\n'));
});

t.test('/proxy-log-level GET, PUT, errors and other methods', async (t) => {
  const h = await startHarness(t);
  const get = await h.send('GET', '/proxy-log-level');
  t.equal(get.status, 200);
  t.equal(get.text, '_access_log=off,linkerd=info,warn');

  const put = await h.send('PUT', '/proxy-log-level', { body: 'linkerd=debug,info' });
  t.equal(put.status, 204);
  t.equal(put.text, '');
  t.equal((await h.send('GET', '/proxy-log-level')).text, '_access_log=off,linkerd=debug,info');
  t.match(h.logs.at(-1), /INFO ThreadId\(01\) linkerd::log: set new log level level=linkerd=debug,info\n$/);

  const bad = await h.send('PUT', '/proxy-log-level', { body: 'linkerd=shouty' });
  t.equal(bad.status, 400);
  t.equal(
    bad.text,
    '`linkerd=shouty`: error parsing level filter: expected one of "off", "error", "warn", "info", "debug", "trace", or a number 0-5',
  );
  t.match(h.logs.at(-1), /WARN ThreadId\(01\) linkerd::admin: Setting log level failed error=`linkerd=shouty`/);
  t.equal((await h.send('GET', '/proxy-log-level')).text, '_access_log=off,linkerd=debug,info', 'unchanged');

  const notUtf8 = await h.send('PUT', '/proxy-log-level', { body: Buffer.from([0xff, 0xfe]) });
  t.equal(notUtf8.status, 400);
  t.equal(notUtf8.text, 'request body is not valid UTF-8');

  const huge = await h.send('PUT', '/proxy-log-level', { body: 'a'.repeat(100_000) });
  t.equal(huge.status, 413);

  const del = await h.send('DELETE', '/proxy-log-level');
  t.equal(del.status, 405);
  const allow = del.rawHeaders.filter((_, i, a) => i % 2 === 1 && a[i - 1]?.toLowerCase() === 'allow');
  t.strictSame(allow, ['GET', 'PUT'], 'two Allow headers');
});

t.test('/proxy-log-level is 404 when logging is disabled', async (t) => {
  const h = await startHarness(t, { logLevel: undefined });
  const r = await h.send('GET', '/proxy-log-level');
  t.equal(r.status, 404);
  t.equal(r.text, '');
});

t.test('/env.json', async (t) => {
  const h = await startHarness(t);
  const all = await h.send('GET', '/env.json');
  t.equal(all.status, 200);
  t.equal(all.headers['content-type'], 'application/json');
  t.strictSame(JSON.parse(all.text), { LINKERD2_PROXY_LOG: 'warn', HOME: '/root', EMPTY: '' });

  const some = await h.send('GET', '/env.json?HOME&UNSET&MISSING&EMPTY', { headers: { accept: 'application/json' } });
  t.equal(some.status, 200);
  t.equal(some.text, '{"HOME":"/root","UNSET":null,"MISSING":null,"EMPTY":""}');

  const kv = await h.send('GET', '/env.json?HOME=1');
  t.equal(kv.status, 400);
  t.equal(kv.headers['content-type'], 'application/json');
  t.equal(kv.text, '{"error":"env.json query parameters may not contain key-value pairs","status":400}');

  for (const accept of ['application/*', 'text/html, */*;q=0.1', 'application/json; charset=utf-8']) {
    t.equal((await h.send('GET', '/env.json', { headers: { accept } })).status, 200, accept);
  }
  const html = await h.send('GET', '/env.json', { headers: { accept: 'text/html' } });
  t.equal(html.status, 406);
  t.equal(html.text, 'application/json');
  t.equal(html.headers['content-type'], undefined);

  t.equal((await h.send('POST', '/env.json')).status, 405);
  t.equal((await h.send('HEAD', '/env.json')).status, 405);
});

t.test('/shutdown: POST only, 404 unless enabled, then 200 and the trigger', async (t) => {
  const disabled = await startHarness(t);
  t.equal((await disabled.send('GET', '/shutdown')).status, 405);
  const off = await disabled.send('POST', '/shutdown');
  t.equal(off.status, 404);
  t.equal(off.headers['content-type'], 'text/plain');
  t.equal(off.text, 'shutdown endpoint is not enabled\n');
  t.equal(disabled.shutdowns.count, 0);

  let triggered = 0;
  const enabled = await startHarness(t, { shutdown: { enabled: true, trigger: () => triggered++ } });
  t.equal((await enabled.send('PUT', '/shutdown')).status, 405);
  t.equal(triggered, 0);
  const on = await enabled.send('POST', '/shutdown');
  t.equal(on.status, 200);
  t.equal(on.headers['content-type'], 'text/plain');
  t.equal(on.text, 'shutdown\n');
  t.equal(triggered, 1);
});

t.test('unknown paths are 404 with an empty body; queries do not change the route', async (t) => {
  const h = await startHarness(t);
  const r = await h.send('GET', '/nope');
  t.equal(r.status, 404);
  t.equal(r.text, '');
  t.equal((await h.send('GET', '/live?x=1')).status, 200);
  t.equal((await h.send('GET', '/live/')).status, 404);
});

t.test('absolute-form targets and requests without Host are served', async (t) => {
  const h = await startHarness(t, { pauseOnConnect: false });
  const sock = net.connect(h.port, '127.0.0.1');
  await once(sock, 'connect');
  sock.end('GET http://admin.example/live HTTP/1.1\r\nconnection: close\r\n\r\n');
  let raw = '';
  sock.on('data', (c: Buffer) => (raw += c.toString()));
  await once(sock, 'close');
  t.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
  t.match(raw, /\r\ncontent-length: 5\r\n/i, 'fixed-length bodies, not chunked');
  t.ok(raw.endsWith('\r\n\r\nlive\n'));
});

t.test('close() stops accepting, closes idle keep-alive connections and the listener', async (t) => {
  const h = await startHarness(t);
  const sock = net.connect(h.port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write('GET /live HTTP/1.1\r\nhost: x\r\n\r\n');
  await once(sock, 'data');
  const closed = once(sock, 'close');
  await h.close();
  await closed;
  t.equal(h.listen.listening, false);
  await t.rejects(h.send('GET', '/live'), { code: 'ECONNREFUSED' });
  await h.close();
});

// Non-loopback clients need a second network: a namespace joined to ours by a veth pair.
const notRoot = process.getuid?.() !== 0 ? 'needs root to create a network namespace' : false;
t.test('non-loopback clients get 403 from the localhost-only endpoints', { skip: notRoot }, async (t) => {
  const id = `${process.pid % 10000}`;
  const ns = `l2pts-admin-${id}`;
  const [hostIf, nsIf] = [`l2a${id}`, `l2b${id}`];
  const octet = 1 + (process.pid % 250);
  const [hostIp, nsIp] = [`10.213.${octet}.1`, `10.213.${octet}.2`];
  const ip = (...args: string[]) => run('ip', args);
  await ip('netns', 'add', ns);
  t.teardown(async () => {
    await ip('netns', 'del', ns).catch(() => undefined);
    await ip('link', 'del', hostIf).catch(() => undefined);
  });
  await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
  await ip('link', 'set', nsIf, 'netns', ns);
  await ip('addr', 'add', `${hostIp}/30`, 'dev', hostIf);
  await ip('link', 'set', hostIf, 'up');
  await ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsIf);
  await ip('netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');

  let triggered = 0;
  const h = await startHarness(t, { host: hostIp, shutdown: { enabled: true, trigger: () => triggered++ } });
  const curl = async (method: string, path: string): Promise<string> => {
    const { stdout } = await ip('netns', 'exec', ns, 'curl', '-sS', '-X', method, '-w', ' %{http_code}', `http://${hostIp}:${h.port}${path}`);
    return stdout;
  };
  t.equal(await curl('GET', '/live'), 'live\n 200', 'reachable from the namespace');
  t.equal(await curl('GET', '/proxy-log-level'), 'Requests are only permitted from localhost. 403');
  t.equal(await curl('PUT', '/proxy-log-level'), 'Requests are only permitted from localhost. 403');
  t.equal(await curl('POST', '/shutdown'), 'Requests are only permitted from localhost. 403');
  t.equal(await curl('GET', '/shutdown'), ' 405', 'method is checked before the client address');
  t.equal(triggered, 0);
  t.equal((await h.send('POST', '/shutdown')).status, 403, 'our own address on that interface is not loopback either');
  t.equal(triggered, 0);
});

// The l5d-orig-proto upgrade: HTTP/1 requests to h2-hinted endpoints cross one shared HTTP/2
// connection and come back as HTTP/1 (spec §4.4, §5.7), against a node:http2 stand-in peer.
import http2 from 'node:http2';
import net from 'node:net';
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import {
  FakeDispatcher,
  TcpConnector,
  balancerBackend,
  curl,
  endpoint,
  h2Origin,
  parseCurl,
  readRequestHead,
  simpleTarget,
  startProxy,
  testRuntime,
} from './helpers.js';

const { HTTP2_HEADER_STATUS } = http2.constants;

interface Seen {
  headers: http2.IncomingHttpHeaders;
  body: string;
}

async function h2Peer(t: Test, respond?: (s: http2.ServerHttp2Stream, seen: Seen) => void) {
  const seen: Seen[] = [];
  const peer = await h2Origin(t, (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const s = { headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      if (respond !== undefined) return respond(stream, s);
      stream.respond({ [HTTP2_HEADER_STATUS]: 200, 'l5d-orig-proto': 'HTTP/1.1', 'x-peer': 'yes' });
      stream.end(`hello ${String(headers[':path'])}`);
    });
  });
  return { ...peer, seen };
}

async function h2Proxy(t: Test, port: number) {
  const backend = balancerBackend('web');
  const connector = new TcpConnector(t);
  const dispatcher = new FakeDispatcher(backend, [endpoint(port, { protocolHint: 'h2' })]);
  const proxy = await startProxy(t, testRuntime(), connector, simpleTarget(dispatcher));
  return { proxy, connector };
}

t.test('an HTTP/1.1 request is upgraded with l5d-orig-proto and its response comes back as HTTP/1.1', async (t) => {
  const peer = await h2Peer(t);
  const { proxy, connector } = await h2Proxy(t, peer.port);
  const r = await curl(['-i', '-H', 'Host: web.test:80', '-H', 'x-app: 1', '-d', 'payload', `http://127.0.0.1:${proxy.port}/echo?q=1`]);
  const res = parseCurl(r.stdout);
  t.equal(res.version, '1.1');
  t.equal(res.status, 200);
  t.equal(res.body, 'hello /echo?q=1');
  t.equal(res.headers.get('x-peer'), 'yes');
  t.equal(res.headers.get('l5d-orig-proto'), undefined, 'the client never sees l5d-orig-proto');
  t.equal(res.headers.get('transfer-encoding'), 'chunked', 'no length from the peer: chunked');

  const s = peer.seen[0]!;
  t.equal(s.headers['l5d-orig-proto'], 'HTTP/1.1');
  t.equal(s.headers[':method'], 'POST');
  t.equal(s.headers[':path'], '/echo?q=1');
  t.equal(s.headers[':authority'], 'web.test:80');
  t.equal(s.headers[':scheme'], 'http');
  t.equal(s.headers['x-app'], '1');
  t.equal(s.headers['content-length'], '7');
  t.equal(s.body, 'payload');
  t.same(connector.sessions.map((x) => x.kind), ['http2']);
});

t.test('absolute-form requests say so; chunked request bodies lose their framing', async (t) => {
  const peer = await h2Peer(t);
  const { proxy } = await h2Proxy(t, peer.port);
  const r = await curl(['-i', '-x', `http://127.0.0.1:${proxy.port}`, '-H', 'Transfer-Encoding: chunked', '-d', 'abc', 'http://web.test:8080/abs']);
  const res = parseCurl(r.stdout);
  t.equal(res.status, 200, r.stderr);
  const s = peer.seen[0]!;
  t.equal(s.headers['l5d-orig-proto'], 'HTTP/1.1; absolute-form');
  t.equal(s.headers[':authority'], 'web.test:8080');
  t.equal(s.headers[':path'], '/abs');
  t.equal(s.headers['transfer-encoding'], undefined);
  t.equal(s.body, 'abc');
});

t.test('HTTP/1.0 requests are upgraded as HTTP/1.0 and answered in HTTP/1.0', async (t) => {
  const peer = await h2Peer(t, (stream) => {
    stream.respond({ [HTTP2_HEADER_STATUS]: 200, 'l5d-orig-proto': 'HTTP/1.0', 'content-length': '2' });
    stream.end('ok');
  });
  const { proxy } = await h2Proxy(t, peer.port);
  const res = parseCurl((await curl(['-i', '--http1.0', '-H', 'Host: web.test', `http://127.0.0.1:${proxy.port}/old`])).stdout);
  t.equal(res.version, '1.0');
  t.equal(res.status, 200);
  t.equal(res.body, 'ok');
  t.equal(res.headers.get('content-length'), '2');
  t.equal(peer.seen[0]!.headers['l5d-orig-proto'], 'HTTP/1.0');
});

t.test('requests share one HTTP/2 connection; a new one replaces it after GOAWAY', async (t) => {
  const peer = await h2Peer(t);
  const { proxy, connector } = await h2Proxy(t, peer.port);
  const agent = new Agent({ connections: 4 });
  t.teardown(() => agent.close());
  const bodies = await Promise.all(
    [1, 2, 3, 4, 5, 6].map(async (i) => {
      const res = await request(`http://127.0.0.1:${proxy.port}/n${i}`, { dispatcher: agent, headers: { host: 'web.test' } });
      return res.body.text();
    }),
  );
  t.same(bodies.sort(), [1, 2, 3, 4, 5, 6].map((i) => `hello /n${i}`));
  t.equal(peer.sessions.length, 1, 'one HTTP/2 connection carried every request');

  peer.sessions[0]!.goaway();
  await new Promise((r) => setTimeout(r, 50));
  const res = await request(`http://127.0.0.1:${proxy.port}/after`, { dispatcher: agent, headers: { host: 'web.test' } });
  t.equal(await res.body.text(), 'hello /after');
  t.equal(peer.sessions.length, 2, 'reconnected after GOAWAY');
  t.equal(connector.count('http2'), 2);
});

t.test('a reset stream answers 502 with the HTTP/2 reason', async (t) => {
  const peer = await h2Peer(t, (stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
  const { proxy } = await h2Proxy(t, peer.port);
  for (let i = 0; i < 2; i++) {
    const res = parseCurl((await curl(['-i', '-H', 'Host: web.test', `http://127.0.0.1:${proxy.port}/reset`])).stdout);
    t.equal(res.status, 502);
    t.match(res.headers.get('l5d-proxy-error'), /upgraded connection failed with HTTP\/2 reset: refused stream before processing any application logic/);
    t.equal(res.headers.get('connection'), 'close');
  }
  t.equal(peer.seen.length, 2, 'reset requests are not replayed');
});

t.test('a reset after the response head resets the client connection', async (t) => {
  const peer = await h2Peer(t, (stream) => {
    stream.respond({ [HTTP2_HEADER_STATUS]: 200 });
    stream.write('partial');
    // destroy() resets at once; close() would first end the stream cleanly.
    setTimeout(() => stream.destroy(new Error('peer failed')), 30);
  });
  const { proxy } = await h2Proxy(t, peer.port);
  const r = await curl(['-i', '-H', 'Host: web.test', `http://127.0.0.1:${proxy.port}/`]);
  t.not(r.code, 0, 'curl sees a broken response');
  t.match(r.stdout, /^HTTP\/1\.1 200/);
  t.match(r.stdout, /partial/, 'what arrived before the reset was relayed');
});

t.test('bodyless and length-delimited responses keep their framing', async (t) => {
  const peer = await h2Peer(t, (stream, seen) => {
    if (seen.headers[':path'] === '/empty') {
      stream.respond({ [HTTP2_HEADER_STATUS]: 204 }, { endStream: true });
      return;
    }
    if (seen.headers[':method'] === 'HEAD') {
      stream.respond({ [HTTP2_HEADER_STATUS]: 200, 'content-length': '100' }, { endStream: true });
      return;
    }
    stream.respond({ [HTTP2_HEADER_STATUS]: 200, 'content-length': '5', 'set-cookie': ['a=1', 'b=2'] });
    stream.end('fixed');
  });
  const { proxy } = await h2Proxy(t, peer.port);
  const agent = new Agent({ connections: 1 });
  t.teardown(() => agent.close());
  const empty = await request(`http://127.0.0.1:${proxy.port}/empty`, { dispatcher: agent, headers: { host: 'web.test' } });
  await empty.body.dump();
  t.equal(empty.statusCode, 204);
  t.equal(empty.headers['transfer-encoding'], undefined);
  const head = await request(`http://127.0.0.1:${proxy.port}/h`, { method: 'HEAD', dispatcher: agent, headers: { host: 'web.test' } });
  await head.body.dump();
  t.equal(head.headers['content-length'], '100', 'HEAD keeps the peer content-length');
  const fixed = await request(`http://127.0.0.1:${proxy.port}/fixed`, { dispatcher: agent, headers: { host: 'web.test' } });
  t.equal(await fixed.body.text(), 'fixed');
  t.equal(fixed.headers['content-length'], '5');
  t.same(fixed.headers['set-cookie'], ['a=1', 'b=2'], 'repeated fields stay separate');
  t.equal(peer.sessions.length, 1);
});

t.test('upgrade requests are not upgraded: they take a dedicated HTTP/1 connection', async (t) => {
  // One listener that answers the HTTP/1 upgrade; the h2 side is never reached.
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    void readRequestHead(s).then((head) => {
      s.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: chatproto\r\nconnection: upgrade\r\n\r\n');
      s.write(`got ${head.split('\r\n')[0]!}`);
      s.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const { proxy, connector } = await h2Proxy(t, (server.address() as net.AddressInfo).port);
  const c = net.connect(proxy.port, '127.0.0.1');
  t.teardown(() => c.destroy());
  let text = '';
  c.on('data', (d: Buffer) => (text += d.toString('latin1')));
  c.write('GET /chat HTTP/1.1\r\nhost: web.test\r\nconnection: upgrade\r\nupgrade: chatproto\r\n\r\n');
  await new Promise((r) => c.once('end', r));
  t.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  t.match(text, /got GET \/chat HTTP\/1\.1$/);
  t.same(connector.sessions.map((s) => s.kind), ['http1']);
});

t.test('a local h2-hinted endpoint is not upgraded', async (t) => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    void readRequestHead(s).then((head) => {
      const proto = /l5d-orig-proto/i.test(head) ? 'yes' : 'no';
      s.end(`HTTP/1.1 200 OK\r\ncontent-length: ${proto.length}\r\n\r\n${proto}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const backend = balancerBackend('web');
  const connector = new TcpConnector(t);
  const dispatcher = new FakeDispatcher(backend, [endpoint((server.address() as net.AddressInfo).port, { protocolHint: 'h2' })]);
  const proxy = await startProxy(t, testRuntime({}, ['127.0.0.1']), connector, simpleTarget(dispatcher));
  const res = await request(`http://127.0.0.1:${proxy.port}/`, { headers: { host: 'web.test' } });
  t.equal(await res.body.text(), 'no');
  t.same(connector.sessions.map((s) => s.kind), ['http1']);
});

t.test('pipelined requests, one with a chunked body, cross the same bridge in order', async (t) => {
  const peer = await h2Peer(t, (stream, seen) => {
    const path = String(seen.headers[':path']);
    stream.respond({ [HTTP2_HEADER_STATUS]: 200, 'content-length': String(path.length + seen.body.length) });
    stream.end(`${path}${seen.body}`);
  });
  const { proxy } = await h2Proxy(t, peer.port);
  const c = net.connect(proxy.port, '127.0.0.1');
  t.teardown(() => c.destroy());
  let text = '';
  c.on('data', (d: Buffer) => (text += d.toString('latin1')));
  await new Promise((r) => c.once('connect', r));
  let reqs = '';
  for (let i = 0; i < 10; i++) reqs += `GET /r${i} HTTP/1.1\r\nhost: web.test\r\n\r\n`;
  reqs += 'POST /last HTTP/1.1\r\nhost: web.test\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
  c.write(reqs);
  await new Promise((r) => c.once('end', r));
  const bodies = text.split(/HTTP\/1\.1 200 OK\r\n[^]*?\r\n\r\n/).filter((b) => b !== '');
  t.same(bodies, [...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `/r${i}`), '/lastabc']);
  t.equal(peer.sessions.length, 1);
});

t.test('an HTTP/2 connection without streams is closed after the idle timeout, then reopened on demand', async (t) => {
  const peer = await h2Peer(t);
  const backend = balancerBackend('web');
  const connector = new TcpConnector(t);
  const dispatcher = new FakeDispatcher(backend, [endpoint(peer.port, { protocolHint: 'h2' })]);
  const rt = testRuntime({
    LINKERD2_PROXY_OUTBOUND_HTTP1_CONNECTION_POOL_IDLE_TIMEOUT: '100ms',
    LINKERD2_PROXY_OUTBOUND_DISCOVERY_IDLE_TIMEOUT: '150ms',
  });
  const proxy = await startProxy(t, rt, connector, simpleTarget(dispatcher));
  const get = async (): Promise<string> => {
    const res = await request(`http://127.0.0.1:${proxy.port}/idle`, { headers: { host: 'web.test' } });
    return res.body.text();
  };
  t.equal(await get(), 'hello /idle');
  const first = peer.sessions[0]!;
  await new Promise((r) => setTimeout(r, 400));
  t.ok(first.closed || first.destroyed, 'the idle session was closed');
  t.equal(await get(), 'hello /idle');
  t.equal(peer.sessions.length, 2);
});

t.test('Expect: 100-continue is answered by the bridge as the body starts out (the peer relays no 100)', async (t) => {
  const peer = await h2Peer(t, (stream, seen) => {
    stream.respond({ [HTTP2_HEADER_STATUS]: 200, 'l5d-orig-proto': 'HTTP/1.1' });
    stream.end(`got ${seen.body.length} expect=${String(seen.headers.expect)}`);
  });
  const { proxy } = await h2Proxy(t, peer.port);
  const started = Date.now();
  // curl would wait 30 s for a 100 before sending the body anyway.
  const r = await curl(['-i', '-v', '--expect100-timeout', '30', '-H', 'Host: web.test', '-H', 'Expect: 100-continue', '-d', 'x'.repeat(5000), `http://127.0.0.1:${proxy.port}/up`]);
  t.ok(Date.now() - started < 5000, 'no wait for curl’s own expect timeout');
  t.match(r.stderr, /< HTTP\/1.1 100 Continue/);
  t.equal(r.stderr.split('100 Continue').length - 1, 1, 'exactly one 100');
  const res = parseCurl(r.stdout);
  t.equal(res.body, 'got 5000 expect=100-continue', 'the body followed and Expect reached the peer');
});

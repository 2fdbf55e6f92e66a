import type net from 'node:net';
import t from 'tap';
import { RawClient, rawOrigin, readHead, startProxy, waitFor } from './helpers/harness.js';

/** After the head: echoes every chunk back prefixed, and ends when the peer ends. */
function echo(s: net.Socket, rest: Buffer): void {
  if (rest.length > 0) s.write(`echo:${rest.toString()}`);
  s.on('data', (c: Buffer) => s.write(`echo:${c.toString()}`));
  s.on('end', () => s.end('bye'));
}

t.test('Upgrade: 101 is relayed and the sockets are spliced', async (t) => {
  let forwardedHead = '';
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(({ head, rest }) => {
      forwardedHead = head;
      // The 101 and the first server-sent bytes arrive in one read.
      s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: chatproto\r\n\r\nserver-first;');
      echo(s, rest);
    });
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: chatproto\r\n\r\n');
  const head = await c.until((s) => s.includes('server-first;'));
  t.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: chatproto\r\ndate: [^\r]+\r\n\r\nserver-first;$/);
  t.match(forwardedHead, /\r\nupgrade: chatproto\r\n/, 'header names lower-cased on the way to the server');
  t.match(forwardedHead, /\r\nconnection: Upgrade\r\n/, 'connection headers kept for a real upgrade');
  c.write('ping');
  await c.until((s) => s.endsWith('echo:ping'));
  c.socket.end();
  const text = await c.untilClosed();
  t.match(text, /bye$/, 'half-close propagated through the tunnel');
  await Promise.all(proxy.served);
  t.same(proxy.pool.stats(), { idle: 0, active: 0, pending: 0 }, 'the upstream connection never returns to the pool');
});

t.test('an upgrade request answered without 101 stays plain HTTP', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno'));
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  const text = await c.until((s) => s.endsWith('no'));
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  t.equal(c.closed, false);
});

t.test('a 101 to a request that did not ask for an upgrade is refused', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() => s.write('HTTP/1.1 101 Switching Protocols\r\n\r\n'));
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AA\r\n\r\n');
  t.match(await c.untilClosed(), /^HTTP\/1\.1 502 /);
});

t.test('CONNECT: the 2xx loses its framing headers and the tunnel carries early data', async (t) => {
  let forwardedHead = '';
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(({ head, rest }) => {
      forwardedHead = head;
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Tunnel: yes\r\n\r\n');
      echo(s, rest);
    });
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  // Early data right behind the head, before the 200 arrives (a TLS ClientHello, say).
  c.write('CONNECT test:443 HTTP/1.1\r\nHost: test:443\r\n\r\nearly');
  const text = await c.until((s) => s.endsWith('echo:early'));
  t.match(forwardedHead, /^CONNECT test:443 HTTP\/1\.1\r\n/);
  t.match(text, /^HTTP\/1\.1 200 OK\r\nx-tunnel: yes\r\ndate: [^\r]+\r\n\r\necho:early$/, 'no content-length on a CONNECT 2xx');
  c.write('more');
  await c.until((s) => s.endsWith('echo:more'));
  c.socket.end();
  t.match(await c.untilClosed(), /bye$/);
  await waitFor(() => origin.sockets[0]!.readableEnded);
});

t.test('a refused CONNECT is an ordinary response', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() => s.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope'));
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('CONNECT test:443 HTTP/1.1\r\nHost: test:443\r\n\r\n');
  t.match(await c.until((s) => s.endsWith('nope')), /^HTTP\/1\.1 403 Forbidden\r\ncontent-length: 4\r\ndate: [^\r]+\r\n\r\nnope$/);
});

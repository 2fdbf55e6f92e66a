// The engine's retry and timeout mechanics: discarded attempts, the kept body replayed on a new
// connection, what makes a request unreplayable, attempt/response/request deadlines.
import type net from 'node:net';
import t from 'tap';
import type { ForwardRetry, Http1Outcome, RouteDecision } from '../../../../src/http/h1/handler.js';
import type { RequestHead, ResponseHead } from '../../../../src/http/h1/head.js';
import { RawClient, rawOrigin, readHead, startProxy, waitFor, type Proxy } from './helpers/harness.js';

interface Script {
  /** Statuses asked about, in order. */
  readonly seen: number[];
  timeouts: number;
}

/** Retry hooks that retry `retries` times (any status ≥ 500) through `next()`. */
function hooks(script: Script, opts: { retries: number; maxRequestBytes?: number; attemptTimeoutMs?: number; next: () => RouteDecision | Promise<RouteDecision> }): ForwardRetry {
  let left = opts.retries;
  return {
    maxRequestBytes: opts.maxRequestBytes ?? 1024,
    attemptTimeoutMs: opts.attemptTimeoutMs,
    retryResponse(res: ResponseHead, _req: RequestHead) {
      script.seen.push(res.status);
      if (res.status < 500 || left === 0) return undefined;
      left--;
      return opts.next();
    },
    retryTimeout() {
      script.timeouts++;
      if (left === 0) return undefined;
      left--;
      return opts.next();
    },
  };
}

/**
 * An origin answering the n-th request (over all connections, several per connection) with
 * statuses[n], echoing the Content-Length body it read (chunked bodies are answered at once).
 */
async function statusOrigin(t: Parameters<typeof rawOrigin>[0], statuses: readonly number[]) {
  const bodies: string[] = [];
  let n = 0;
  const origin = await rawOrigin(t, (s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        const i = buf.indexOf('\r\n\r\n');
        if (i === -1) return;
        const head = buf.subarray(0, i).toString('latin1');
        const cl = /content-length: (\d+)/i.exec(head);
        const want = cl === null ? 0 : Number(cl[1]);
        const chunked = /transfer-encoding: chunked/i.test(head);
        const end = chunked ? buf.indexOf('0\r\n\r\n', i + 4) : i + 4 + want;
        if (chunked ? end === -1 : buf.length < end) return;
        const body = buf.subarray(i + 4, chunked ? end + 5 : end).toString('latin1');
        buf = buf.subarray(chunked ? end + 5 : end);
        bodies.push(body);
        const status = statuses[Math.min(n++, statuses.length - 1)]!;
        const text = `#${n} ${body}`;
        s.write(`HTTP/1.1 ${status} X\r\ncontent-length: ${text.length}\r\n\r\n${text}`);
      }
    });
  });
  return { ...origin, bodies };
}

function tcpTo(port: number) {
  return () => import('../../../../src/transport/connect.js').then((m) => m.connectTcp({ host: '127.0.0.1', port, family: 4 }, { timeoutMs: 1000 }));
}

async function retryingProxy(t: Parameters<typeof startProxy>[0], port: number, retry: (p: () => Proxy) => ForwardRetry, extra: { outcomes?: Http1Outcome[]; responseTimeoutMs?: number; requestTimeoutMs?: number } = {}) {
  const outcomes = extra.outcomes ?? [];
  // The hooks are built before the proxy exists; they only look it up once requests flow.
  const proxy: Proxy = await startProxy(t, port, {
    forward: {
      retry: retry(() => proxy),
      ...(extra.responseTimeoutMs !== undefined && { responseTimeoutMs: extra.responseTimeoutMs }),
      ...(extra.requestTimeoutMs !== undefined && { requestTimeoutMs: extra.requestTimeoutMs }),
    },
    hooks: { onRequestEnd: (_r, _s, _d, o) => outcomes.push(o) },
  });
  return proxy;
}

t.test('a retried response is discarded and the kept body is replayed on a new connection', async (t) => {
  const origin = await statusOrigin(t, [503, 200]);
  const script: Script = { seen: [], timeouts: 0 };
  let h: ForwardRetry | undefined;
  // Each attempt's decision carries the hooks that judge its own response.
  const next = (): RouteDecision => ({ kind: 'forward', pool: proxy.pool, target: { key: 'retry', connect: tcpTo(origin.port) }, retry: h! });
  const proxy = await retryingProxy(t, origin.port, () => (h = hooks(script, { retries: 2, next })));
  const c = await RawClient.open(t, proxy.port);
  c.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
  const text = await c.until((s) => s.includes('#2 hello'));
  t.match(text, /^HTTP\/1\.1 200 X\r\n/, 'only the second attempt’s response reached the client');
  t.notOk(text.includes('503'), 'nothing of the first');
  t.same(origin.bodies, ['hello', 'hello'], 'the body went out twice');
  t.same(script.seen, [503, 200]);
  t.equal(origin.connections(), 2, 'the discarded attempt’s connection was not reused');
  await waitFor(() => origin.sockets[0]!.destroyed || origin.sockets[0]!.readableEnded);
});

t.test('a retry decision may answer locally, or leave the response as it is', async (t) => {
  const origin = await statusOrigin(t, [503]);
  const script: Script = { seen: [], timeouts: 0 };
  const proxy = await retryingProxy(t, origin.port, () =>
    hooks(script, { retries: 1, next: () => Promise.resolve({ kind: 'respond', response: { status: 504, message: 'gave up', close: true } }) }),
  );
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(await c.untilClosed(), /^HTTP\/1\.1 504 /);

  const kept = await retryingProxy(t, origin.port, () => hooks({ seen: [], timeouts: 0 }, { retries: 0, next: () => Promise.reject(new Error('unused')) }));
  const c2 = await RawClient.open(t, kept.port);
  c2.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(await c2.until((s) => s.includes('#')), /^HTTP\/1\.1 503 X\r\n/, 'no retry left: the 503 is relayed');
});

t.test('bodies over the limit, declared or streamed, and early responses are never offered for a retry', async (t) => {
  const origin = await statusOrigin(t, [503]);
  const script: Script = { seen: [], timeouts: 0 };
  const proxy = await retryingProxy(t, origin.port, () => hooks(script, { retries: 3, maxRequestBytes: 4, next: () => Promise.reject(new Error('must not retry')) }));
  const c = await RawClient.open(t, proxy.port);
  c.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
  t.match(await c.until((s) => s.includes('#')), /^HTTP\/1\.1 503 /);
  const c2 = await RawClient.open(t, proxy.port);
  c2.write('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
  t.match(await c2.until((s) => s.includes('#')), /^HTTP\/1\.1 503 /);
  t.same(script.seen, [], 'the hooks were never asked');

  const early = await rawOrigin(t, (s) => {
    void readHead(s).then(() => s.write('HTTP/1.1 503 Early\r\ncontent-length: 0\r\n\r\n'));
  });
  const script2: Script = { seen: [], timeouts: 0 };
  const p2 = await retryingProxy(t, early.port, () => hooks(script2, { retries: 3, next: () => Promise.reject(new Error('must not retry')) }));
  const c3 = await RawClient.open(t, p2.port);
  c3.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc');
  t.match(await c3.until((s) => s.includes('\r\n\r\n')), /^HTTP\/1\.1 503 Early/);
  t.same(script2.seen, [], 'a response before the whole body was sent is final');
});

t.test('the attempt timeout: retried when the hooks say so, else 504 (response-headers-timeout)', async (t) => {
  let n = 0;
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() => {
      if (n++ > 0) s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
  });
  const script: Script = { seen: [], timeouts: 0 };
  const outcomes: Http1Outcome[] = [];
  const proxyRef: Proxy = await retryingProxy(
    t,
    origin.port,
    () => hooks(script, { retries: 1, attemptTimeoutMs: 100, next: () => ({ kind: 'forward', pool: proxyRef.pool, target: { key: `127.0.0.1:${origin.port}`, connect: tcpTo(origin.port) } }) }),
    { outcomes },
  );
  const c = await RawClient.open(t, proxyRef.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(await c.until((s) => s.includes('ok')), /^HTTP\/1\.1 200 OK/);
  t.equal(script.timeouts, 1);
  t.same(outcomes, ['ok']);

  const silent = await rawOrigin(t, (s) => s.resume());
  const outcomes2: Http1Outcome[] = [];
  const p2 = await retryingProxy(t, silent.port, () => hooks({ seen: [], timeouts: 0 }, { retries: 0, attemptTimeoutMs: 100, next: () => Promise.reject(new Error('unused')) }), { outcomes: outcomes2 });
  const c2 = await RawClient.open(t, p2.port);
  c2.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(await c2.untilClosed(), /^HTTP\/1\.1 504 /);
  t.same(outcomes2, ['response-headers-timeout']);
});

t.test('the response timeout runs from the end of the request body and covers the response body', async (t) => {
  let upstream: net.Socket | undefined;
  const origin = await rawOrigin(t, (s) => {
    upstream = s;
    void readHead(s).then(() => undefined);
  });
  const outcomes: Http1Outcome[] = [];
  const proxy = await startProxy(t, origin.port, { forward: { responseTimeoutMs: 200 }, hooks: { onRequestEnd: (_r, _s, _d, o) => outcomes.push(o) } });
  const c = await RawClient.open(t, proxy.port);
  c.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab');
  // A slow upload: longer than the timeout, which has not started yet.
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(c.text().includes('504'), 'no timeout while the request body is still coming');
  c.write('cd');
  await waitFor(() => upstream !== undefined);
  upstream!.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nstart');
  await c.until((s) => s.includes('start'));
  await c.untilClosed();
  t.ok(c.error !== undefined || c.closed, 'the client is cut off when the body does not finish in time');
  t.same(outcomes, ['response-timeout']);
});

t.test('the request timeout spans every attempt and the wait between them', async (t) => {
  const origin = await statusOrigin(t, [503]);
  const outcomes: Http1Outcome[] = [];
  const proxy = await retryingProxy(
    t,
    origin.port,
    () => hooks({ seen: [], timeouts: 0 }, { retries: 1, next: () => new Promise<RouteDecision>(() => undefined) }),
    { outcomes, requestTimeoutMs: 200 },
  );
  const started = Date.now();
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const text = await c.untilClosed();
  t.match(text, /^HTTP\/1\.1 504 /);
  t.ok(Date.now() - started >= 180, 'at the request deadline');
  t.same(outcomes, ['request-timeout']);
});

t.test('a client leaving while a retry is pending: the late decision is ignored', async (t) => {
  const origin = await statusOrigin(t, [503, 200]);
  let release: ((d: RouteDecision) => void) | undefined;
  const outcomes: Http1Outcome[] = [];
  const proxyRef: Proxy = await retryingProxy(
    t,
    origin.port,
    () => hooks({ seen: [], timeouts: 0 }, { retries: 1, next: () => new Promise<RouteDecision>((r) => (release = r)) }),
    { outcomes },
  );
  const c = await RawClient.open(t, proxyRef.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await waitFor(() => release !== undefined);
  c.socket.resetAndDestroy();
  await waitFor(() => outcomes.length === 1);
  release!({ kind: 'forward', pool: proxyRef.pool, target: { key: 'late', connect: () => Promise.reject(new Error('must not connect')) } });
  await new Promise((r) => setTimeout(r, 50));
  t.same(outcomes, ['client-error']);
  t.equal(origin.connections(), 1, 'no second attempt');
  t.same(proxyRef.pool.stats(), { idle: 0, active: 0, pending: 0 });
});

t.test('interim responses reach the client once, even when the attempt that sent them is retried', async (t) => {
  let n = 0;
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() => {
      const first = n++ === 0;
      s.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 ${first ? 503 : 200} X\r\ncontent-length: 1\r\n\r\n${first ? 'a' : 'b'}`);
    });
  });
  const proxyRef: Proxy = await retryingProxy(t, origin.port, () =>
    hooks({ seen: [], timeouts: 0 }, { retries: 1, next: () => ({ kind: 'forward', pool: proxyRef.pool, target: { key: `127.0.0.1:${origin.port}`, connect: tcpTo(origin.port) } }) }),
  );
  const c = await RawClient.open(t, proxyRef.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const text = await c.until((s) => s.endsWith('b'));
  t.equal(text.split('100 Continue').length - 1, 1, 'one 100 Continue');
  t.match(text, /HTTP\/1\.1 200 X\r\ncontent-length: 1\r\ndate: [^\r]+\r\n\r\nb$/);
});

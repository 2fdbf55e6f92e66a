// serveDirect over real TLS: mTLS + ALPN transport.l5d.io/v1, the header names the port, bytes flow exactly; refusals close.
import t from 'tap';
import type { Test } from 'tap';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { loadConfig } from '../../../src/config/index.js';
import type { Credentials } from '../../../src/identity/types.js';
import type { Fields, Level, Logger } from '../../../src/log/logger.js';
import { silentLogger } from '../../../src/log/logger.js';
import { createMetrics, type Metrics } from '../../../src/metrics/index.js';
import { DENY_POLICY, compileServerPolicy, type CompiledServerPolicy } from '../../../src/policy/inbound/index.js';
import { connectMtls } from '../../../src/tls/client.js';
import { socketAddr } from '../../../src/transport/index.js';
import { TRANSPORT_HEADER_ALPN, encodeTransportHeader } from '../../../src/transport/transport-header.js';
import type { InboundConnection, InboundRuntime, PortPolicies, PortPolicy } from '../../../src/inbound/context.js';
import { DIRECT_NO_ALPN, DIRECT_NO_IDENTITY, serveDirect, type DirectOutcome, type DirectProtocol } from '../../../src/inbound/direct.js';
import { defaultPortPolicies } from '../../../src/inbound/tcp-authz.js';
import { forwardToApp } from '../../../src/inbound/tcp-forward.js';
import { TestPki } from '../../support/pki.js';
import { TEST_SERVER_NAME, TEST_SPIFFE_ID, testCredentials, testProxyEnv } from '../../support/proxy-env.js';
import { echoServer } from '../../support/net.js';

const CLIENT_ID = 'web.ns1.serviceaccount.identity.linkerd.cluster.local';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds: serverCreds } = testCredentials(pki);
const clientLeaf = pki.leaf(ca, { dns: [CLIENT_ID] });
const clientCreds: Credentials = {
  serverId: CLIENT_ID,
  serverName: CLIENT_ID,
  certChainPem: clientLeaf.chainPem,
  keyPem: clientLeaf.keyPem,
  trustAnchorsPem: ca.certPem,
  notBeforeMs: Date.now() - 60_000,
  notAfterMs: Date.now() + 86_400_000,
  generation: 1,
};

interface LogLine {
  readonly level: Level;
  readonly message: string;
  readonly fields: Fields | undefined;
}

function captureLogger(lines: LogLine[]): Logger {
  const at = (level: Level) => (message: string, fields?: Fields) => void lines.push({ level, message, fields });
  const log: Logger = {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    enabled: () => true,
    child: () => log,
  };
  return log;
}

interface Forwarded {
  readonly conn: InboundConnection;
  readonly protocol: DirectProtocol;
  readonly initial: Buffer;
}

interface Direct {
  readonly port: number;
  readonly rt: InboundRuntime;
  readonly metrics: Metrics;
  readonly logs: LogLine[];
  readonly forwarded: Forwarded[];
  readonly policyPorts: number[];
  /** The outcome of the first connection the listener accepts. */
  readonly outcome: Promise<DirectOutcome>;
}

interface DirectOptions {
  readonly env?: Record<string, string>;
  readonly policy?: (port: number) => CompiledServerPolicy;
  /** The whole per-port policy (for tests that change it); wins over `policy`. */
  readonly portPolicy?: PortPolicy;
  /** Replaces the default forward (opaque ⇒ forwardToApp; HTTP ⇒ left to the test). */
  readonly forward?: (f: Forwarded) => void;
}

/** A paused, half-open listener whose every connection goes to serveDirect, as the inbound listener's do. */
async function startDirect(t: Test, opts: DirectOptions = {}): Promise<Direct> {
  const config = loadConfig(testProxyEnv(ca.certPem, opts.env ?? {})).config.inbound;
  const metrics = createMetrics({ buildInfo: { version: 't', gitSha: 't', profile: 't', vendor: 't', date: 't' }, processMetrics: false });
  const logs: LogLine[] = [];
  const forwarded: Forwarded[] = [];
  const policyPorts: number[] = [];
  const sockets = new Set<net.Socket>();
  const keep = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const defaults = defaultPortPolicies(config);
  const compiled = opts.policy ?? defaults;
  const policies: PortPolicies = {
    get(port) {
      policyPorts.push(port);
      return opts.portPolicy ?? { current: () => compiled(port), subscribe: () => () => undefined };
    },
    close: () => undefined,
  };
  let resolveOutcome!: (o: DirectOutcome) => void;
  const outcome = new Promise<DirectOutcome>((r) => (resolveOutcome = r));
  // Built once the listener's port (the inbound port) is known.
  const ready: { rt?: InboundRuntime } = {};
  let first = true;
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => {
    keep(socket);
    const rt = ready.rt;
    if (rt === undefined) throw new Error('runtime not ready');
    const result = serveDirect(socket, socketAddr('127.0.0.1', rt.inboundPort), rt, {
      policies,
      forward: (conn, protocol, initial) => {
        keep(conn.stream);
        const f = { conn, protocol, initial };
        forwarded.push(f);
        if (opts.forward !== undefined) {
          opts.forward(f);
          return;
        }
        if (protocol !== 'opaque') throw new Error(`unexpected ${protocol}`);
        void forwardToApp(conn.stream, conn.target, { config, inboundPort: rt.inboundPort, log: silentLogger, onConnected: keep });
      },
    });
    if (first) {
      first = false;
      void result.then(resolveOutcome);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const rt: InboundRuntime = {
    config,
    inboundPort: port,
    metrics,
    log: captureLogger(logs),
    credentials: () => serverCreds,
    track: () => undefined,
  };
  ready.rt = rt;
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port, rt, metrics, logs, forwarded, policyPorts, outcome };
}

async function tcp(t: Test, port: number): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  s.on('error', () => undefined);
  t.teardown(() => s.destroy());
  await once(s, 'connect');
  s.setNoDelay(true);
  return s;
}

/** Our own mesh client: mTLS with the client certificate, offering the transport ALPN (unless told not to). */
async function dialMtls(t: Test, port: number, alpn: readonly string[] | null = [TRANSPORT_HEADER_ALPN]): Promise<tls.TLSSocket> {
  const raw = await tcp(t, port);
  const s = await connectMtls(raw, clientCreds, {
    serverName: TEST_SERVER_NAME,
    expectedServerId: TEST_SPIFFE_ID,
    timeoutMs: 5000,
    ...(alpn !== null ? { alpn } : {}),
  });
  s.on('error', () => undefined);
  t.teardown(() => s.destroy());
  return s;
}

/** Everything `s` yields until its peer ends (or it closes). */
function readAll(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    const done = (): void => resolve(Buffer.concat(chunks));
    s.once('end', done);
    s.once('close', done);
  });
}

/**
 * How the peer ended `s`: 'reset' (ECONNRESET), 'end' (FIN or close_notify) or 'closed'. Our
 * sockets are half-open, so a FIN alone never closes them: the first sign is enough.
 */
function closeReason(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNRESET' ? 'reset' : `error:${e.code ?? e.message}`));
    s.on('end', () => resolve('end'));
    s.on('close', () => resolve('closed'));
    s.resume();
  });
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function closedWith(t: Test, d: Direct, reason: RegExp): Promise<void> {
  const o = await d.outcome;
  t.equal(o.kind, 'closed');
  t.match(o.kind === 'closed' ? o.reason : '', reason);
  t.ok(d.logs.some((l) => l.message === 'Connection closed' && typeof l.fields?.['error'] === 'string' && reason.test(l.fields['error'])), 'the reason is logged');
  t.equal(d.forwarded.length, 0, 'nothing forwarded');
}

t.test('opaque: mTLS + header for port P reaches the echo server on 127.0.0.1:P, bytes exact both ways', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const d = await startDirect(t);
  const s = await dialMtls(t, d.port);
  t.equal(s.alpnProtocol, TRANSPORT_HEADER_ALPN, 'the server selected the transport ALPN');
  const echoed = readAll(s);
  // The header and the first application bytes share one write (one TLS record), as a Rust client may send them.
  s.write(Buffer.concat([encodeTransportHeader({ port: echo.port }), Buffer.from('hello ')]));
  s.write('direct');
  s.end();
  t.equal((await echoed).toString(), 'hello direct');
  const o = await d.outcome;
  t.match(o, { kind: 'forwarded', protocol: 'opaque', target: { host: '127.0.0.1', port: echo.port }, header: { port: echo.port } });
  t.equal(d.forwarded.length, 1);
  const f = d.forwarded[0];
  t.equal(f?.initial.length, 0, 'initial is empty: the rest stayed in the stream');
  t.equal(f?.conn.clientId, CLIENT_ID);
  t.same(f?.conn.tls, { kind: 'established', clientId: CLIENT_ID });
  t.equal(f?.conn.clientIp, '127.0.0.1');
  t.same(d.policyPorts, [echo.port], "the header port's policy is used");
  const text = await d.metrics.render();
  t.match(text, `inbound_tcp_transport_header_connections_total{session_protocol="",target_port="${echo.port}",target_name="",client_id="${CLIENT_ID}"} 1`);
  t.match(text, new RegExp(`inbound_tcp_authz_allow_total\\{[^}]*target_port="${echo.port}"[^}]*client_id="${CLIENT_ID}"[^}]*\\} 1`));
  t.match(text, new RegExp(`tcp_open_total\\{direction="inbound",peer="src",target_addr="127.0.0.1:${echo.port}"[^}]*tls="true",client_id="${CLIENT_ID}"`));
});

t.test('a megabyte sent in the same write as the header arrives once, in order', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const d = await startDirect(t);
  const s = await dialMtls(t, d.port);
  const payload = randomBytes(1024 * 1024);
  const echoed = readAll(s);
  s.end(Buffer.concat([encodeTransportHeader({ port: echo.port }), payload]));
  const got = await echoed;
  t.equal(got.length, payload.length);
  t.equal(sha(got), sha(payload));
});

t.test('a FIN right behind the header (no payload) reaches the app as EOF, and its EOF comes back', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const d = await startDirect(t);
  const s = await dialMtls(t, d.port);
  const echoed = readAll(s);
  const ended = once(s, 'end');
  s.end(encodeTransportHeader({ port: echo.port }));
  await ended;
  t.equal((await echoed).length, 0);
  t.match(await d.outcome, { kind: 'forwarded', protocol: 'opaque' });
});

t.test('a header sent one byte per write (one TLS record each) still works', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const d = await startDirect(t);
  const s = await dialMtls(t, d.port);
  const echoed = readAll(s);
  const header = encodeTransportHeader({ port: echo.port });
  for (const byte of header) {
    s.write(Buffer.from([byte]));
    await sleep(2);
  }
  s.end('after the slow header');
  t.equal((await echoed).toString(), 'after the slow header');
  t.match(await d.outcome, { kind: 'forwarded', protocol: 'opaque' });
});

t.test('no client certificate ⇒ closed: direct connections must be mutually authenticated', async (t) => {
  const d = await startDirect(t);
  const raw = await tcp(t, d.port);
  const s = tls.connect({
    socket: raw,
    servername: TEST_SERVER_NAME,
    ca: ca.certPem,
    checkServerIdentity: () => undefined,
    ALPNProtocols: [TRANSPORT_HEADER_ALPN],
    minVersion: 'TLSv1.3',
  });
  s.on('error', () => undefined);
  t.teardown(() => s.destroy());
  await once(s, 'secureConnect');
  const closed = closeReason(s);
  s.write(encodeTransportHeader({ port: 1234 }));
  await closedWith(t, d, new RegExp(`^${DIRECT_NO_IDENTITY}$`));
  await closed;
});

t.test('mTLS without the transport ALPN ⇒ closed: transport header negotiation required', async (t) => {
  const d = await startDirect(t);
  const s = await dialMtls(t, d.port, null);
  t.notOk(s.alpnProtocol, 'nothing negotiated');
  const closed = closeReason(s);
  await closedWith(t, d, new RegExp(`^${DIRECT_NO_ALPN}$`));
  await closed;
});

t.test('plaintext ⇒ closed', async (t) => {
  const d = await startDirect(t);
  const s = await tcp(t, d.port);
  const closed = closeReason(s);
  s.write(Buffer.concat([encodeTransportHeader({ port: 1234 }), Buffer.from('GET / HTTP/1.1\r\n\r\n')]));
  await closedWith(t, d, /mutually authenticated \(no TLS\)/);
  await closed;
});

t.test('a ClientHello for another server name ⇒ closed, not passed through', async (t) => {
  const d = await startDirect(t);
  const raw = await tcp(t, d.port);
  const s = tls.connect({ socket: raw, servername: 'other.ns.svc.cluster.local', ca: ca.certPem, ALPNProtocols: [TRANSPORT_HEADER_ALPN] });
  s.on('error', () => undefined);
  t.teardown(() => s.destroy());
  const closed = closeReason(s);
  await closedWith(t, d, /mutually authenticated \(TLS for other\.ns\.svc\.cluster\.local\)/);
  await closed;
});

t.test('a truncated header followed by EOF ⇒ closed', async (t) => {
  const d = await startDirect(t);
  const s = await dialMtls(t, d.port);
  const closed = closeReason(s);
  s.end(encodeTransportHeader({ port: 8080, name: 'web.ns.svc.cluster.local' }).subarray(0, 20));
  await closedWith(t, d, /closed after 20 of the 27/);
  await closed;

  const d2 = await startDirect(t);
  const s2 = await dialMtls(t, d2.port);
  const closed2 = closeReason(s2);
  const whole = encodeTransportHeader({ port: 8080, name: 'web.ns.svc.cluster.local' });
  s2.end(whole.subarray(0, whole.length - 3));
  await closedWith(t, d2, new RegExp(`closed after ${whole.length - 30} of ${whole.length - 27} transport header message bytes`));
  await closed2;
});

t.test('an oversized length ⇒ closed at once, without waiting for the message', async (t) => {
  const d = await startDirect(t);
  const s = await dialMtls(t, d.port);
  const closed = closeReason(s);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(70_000);
  s.write(Buffer.concat([Buffer.from('transport.l5d.io/v1\r\n\r\n'), len]));
  await closedWith(t, d, /length 70000 exceeds/);
  await closed;
});

t.test('a wrong preface ⇒ closed', async (t) => {
  const d = await startDirect(t);
  const s = await dialMtls(t, d.port);
  const closed = closeReason(s);
  s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await closedWith(t, d, /preface/);
  await closed;
});

t.test('no header within the detect timeout ⇒ closed', async (t) => {
  const d = await startDirect(t, { env: { LINKERD2_PROXY_INBOUND_DETECT_TIMEOUT: '500ms' } });
  const s = await dialMtls(t, d.port);
  const started = Date.now();
  const closed = closeReason(s);
  await closedWith(t, d, /reading the transport header timed out after 500ms/);
  await closed;
  t.ok(Date.now() - started >= 400, `closed after ${Date.now() - started}ms`);
});

t.test('TCP authorization denies ⇒ the connection is reset and counted', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const deny = compileServerPolicy(DENY_POLICY);
  const d = await startDirect(t, { policy: () => deny });
  const s = await dialMtls(t, d.port);
  const closed = closeReason(s);
  s.write(Buffer.concat([encodeTransportHeader({ port: echo.port }), Buffer.from('must not arrive')]));
  t.same(await d.outcome, { kind: 'denied', target: { host: '127.0.0.1', port: echo.port, family: 4 } });
  t.equal(await closed, 'reset');
  t.equal(d.forwarded.length, 0);
  t.ok(d.logs.some((l) => l.message === 'Connection denied'));
  t.match(await d.metrics.render(), new RegExp(`inbound_tcp_authz_deny_total\\{[^}]*target_port="${echo.port}"[^}]*\\} 1`));
});

t.test('an opaque connection is re-authorized when its policy changes: now denied ⇒ reset and counted', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const config = loadConfig(testProxyEnv(ca.certPem)).config.inbound;
  let current = defaultPortPolicies(config)(echo.port);
  const listeners = new Set<(p: CompiledServerPolicy) => void>();
  const portPolicy: PortPolicy = {
    current: () => current,
    subscribe: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  const d = await startDirect(t, { portPolicy });
  const s = await dialMtls(t, d.port);
  const closed = closeReason(s);
  const first = new Promise<string>((r) => s.once('data', (c: Buffer) => r(c.toString())));
  s.write(Buffer.concat([encodeTransportHeader({ port: echo.port }), Buffer.from('still allowed')]));
  t.equal(await first, 'still allowed');
  t.equal(listeners.size, 1, 'the connection watches its policy');
  current = compileServerPolicy(DENY_POLICY);
  for (const fn of [...listeners]) fn(current);
  t.equal(await closed, 'reset');
  t.equal(listeners.size, 0, 'and stops watching once closed');
  t.ok(d.logs.some((l) => l.message === 'Connection terminated due to policy change'));
  t.match(await d.metrics.render(), new RegExp(`inbound_tcp_authz_terminate_total\\{[^}]*target_port="${echo.port}"[^}]*client_id="${CLIENT_ID}"[^}]*\\} 1`));
});

for (const [protocol, request, label] of [
  ['http1', 'GET /hello HTTP/1.1\r\nHost: web.ns.svc.cluster.local\r\n\r\n', 'http/1'],
  ['http2', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'http/2'],
] as const) {
  t.test(`session_protocol ${protocol} ⇒ forward(…, '${protocol}') with the request bytes intact and no TCP authz`, async (t) => {
    const d = await startDirect(t, {
      forward: ({ conn, initial }) => {
        // The test's HTTP "server": collect the request, answer, close.
        const chunks: Buffer[] = [initial];
        conn.stream.on('data', (c: Buffer) => {
          chunks.push(c);
          if (Buffer.concat(chunks).length >= request.length) conn.stream.end(`got:${Buffer.concat(chunks).toString('latin1')}`);
        });
      },
    });
    const s = await dialMtls(t, d.port);
    const answer = readAll(s);
    s.write(Buffer.concat([encodeTransportHeader({ port: 8080, sessionProtocol: protocol }), Buffer.from(request)]));
    t.equal((await answer).toString('latin1'), `got:${request}`, 'the stream starts exactly at the request');
    const o = await d.outcome;
    t.match(o, { kind: 'forwarded', protocol, target: { host: '127.0.0.1', port: 8080 } });
    const f = d.forwarded[0];
    t.equal(f?.protocol, protocol);
    t.equal(f?.initial.length, 0);
    t.equal(f?.conn.target.port, 8080);
    t.equal(f?.conn.clientId, CLIENT_ID);
    const text = await d.metrics.render();
    t.match(text, `inbound_tcp_transport_header_connections_total{session_protocol="${label}",target_port="8080",target_name="",client_id="${CLIENT_ID}"} 1`);
    t.notMatch(text, /inbound_tcp_authz_allow_total\{/, 'HTTP is authorized per request, not here');
  });
}

t.test('a header with a name (gateway) ⇒ closed with the reason, counted with its target_name', async (t) => {
  const d = await startDirect(t);
  const s = await dialMtls(t, d.port);
  const closed = closeReason(s);
  s.write(encodeTransportHeader({ port: 8080, name: 'web.ns.svc.cluster.local' }));
  await closedWith(t, d, /gateway connection to web\.ns\.svc\.cluster\.local:8080 refused: this proxy is not a gateway/);
  await closed;
  t.match(await d.metrics.render(), `target_port="8080",target_name="web.ns.svc.cluster.local",client_id="${CLIENT_ID}"} 1`);

  const g = await startDirect(t, { env: { LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES: 'svc.cluster.local.' } });
  const s2 = await dialMtls(t, g.port);
  const closed2 = closeReason(s2);
  s2.write(encodeTransportHeader({ port: 8080, name: 'web.ns.svc.cluster.local' }));
  await closedWith(t, g, /gateway forwarding is not supported/);
  await closed2;
});

t.test('a header naming the inbound port itself ⇒ closed (no loop)', async (t) => {
  const d = await startDirect(t);
  const s = await dialMtls(t, d.port);
  const closed = closeReason(s);
  s.write(encodeTransportHeader({ port: d.port }));
  await closedWith(t, d, new RegExp(`inbound connection must not target port ${d.port}`));
  await closed;
});

// The inbound side dials the app at the connection's original destination (IP and port), as upstream
// does: apps on one port but different loopback IPs (machines of a local mesh) are each reached on
// their own IP, and a decoy on 127.0.0.1:<same port> never sees a connection.
import t, { type Test } from 'tap';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { startProxy, type RunningProxy } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { fixedOrigDst, socketAddr, type SocketAddr } from '../../src/transport/index.js';
import { staticIdentity } from '../../src/identity/static-identity.js';
import { connectMtls } from '../../src/tls/client.js';
import { encodeTransportHeader, TRANSPORT_HEADER_ALPN, type SessionProtocol } from '../../src/transport/transport-header.js';
import type { Credentials } from '../../src/identity/types.js';
import { TestPki } from '../support/pki.js';
import { TEST_SERVER_NAME, TEST_SPIFFE_ID, testCredentials, testProxyEnv } from '../support/proxy-env.js';

/** Two "machines" and the address the old proxy would have dialled instead. */
const HOSTS = ['127.0.0.2', '127.0.0.3'] as const;
const DECOY = '127.0.0.1';
const CLIENT_ID = 'client.default.serviceaccount.identity.linkerd.cluster.local';

interface Trio {
  readonly port: number;
  /** Connections accepted per listening IP (HOSTS and DECOY). */
  readonly accepted: Map<string, number>;
}

function listenOn(server: net.Server, host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = (): void => resolve(false);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(true);
    });
  });
}

/**
 * Servers on one port P for each of HOSTS and for DECOY, each made by `make(ip)`; retries with
 * another P when one of the addresses has it taken.
 */
async function listenTrio(t: Test, make: (ip: string) => net.Server): Promise<Trio> {
  const accepted = new Map<string, number>();
  for (let attempt = 0; attempt < 20; attempt++) {
    const servers: net.Server[] = [];
    let port = 0;
    let ok = true;
    for (const ip of [...HOSTS, DECOY]) {
      const s = make(ip);
      s.on('connection', () => accepted.set(ip, (accepted.get(ip) ?? 0) + 1));
      if (!(await listenOn(s, ip, port))) {
        ok = false;
        break;
      }
      servers.push(s);
      port = (s.address() as net.AddressInfo).port;
    }
    if (ok) {
      t.teardown(() => {
        for (const s of servers) s.close();
      });
      return { port, accepted };
    }
    for (const s of servers) s.close();
  }
  throw new Error('no port free on 127.0.0.1, 127.0.0.2 and 127.0.0.3 at once');
}

/** Opaque app: answers `<its ip>:<what it read>` and closes when the client does. */
function namingEcho(ip: string): net.Server {
  return net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.on('data', (c: Buffer) => s.write(`${ip}:${c.toString()}`));
    s.on('end', () => s.end());
  });
}

/** HTTP/1 app answering with its IP. */
function namingHttp1(ip: string): net.Server {
  return http.createServer((req, res) => {
    req.resume();
    res.end(`http1 from ${ip}`);
  });
}

/** HTTP/2 (prior knowledge) app answering with its IP. */
function namingH2(ip: string): net.Server {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.end(`h2 from ${ip}`);
  });
  return server;
}

interface Harness {
  readonly proxy: RunningProxy;
  /** The original destination the next accepted connection gets. */
  dst: SocketAddr;
  readonly ca: ReturnType<typeof testCredentials>['ca'];
  readonly clientCreds: Credentials;
}

async function harness(t: Test): Promise<Harness> {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const { ca, creds } = testCredentials(pki);
  const leaf = pki.leaf(ca, { dns: [CLIENT_ID] });
  const clientCreds: Credentials = { ...creds, serverId: CLIENT_ID, certChainPem: leaf.chainPem, keyPem: leaf.keyPem, generation: 2 };
  // Idle pooled app connections would otherwise hold shutdown for the default grace period.
  const { config } = loadConfig(testProxyEnv(ca.certPem, { LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: '300ms' }));
  const h: { proxy?: RunningProxy; dst: SocketAddr } = { dst: socketAddr(DECOY, 9) };
  const proxy = await startProxy(config, { identity: staticIdentity(creds), origDst: fixedOrigDst(() => h.dst), discovery: false });
  t.teardown(() => proxy.shutdown());
  await proxy.ready();
  return Object.assign(h, { proxy, ca, clientCreds });
}

/** Plain TCP to the inbound listener: writes `payload`, half-closes, resolves with everything read. */
async function opaqueRoundTrip(port: number, payload: string): Promise<string> {
  const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  s.on('error', () => undefined);
  await once(s, 'connect');
  s.end(payload);
  let got = '';
  s.on('data', (c: Buffer) => (got += c.toString()));
  await once(s, 'close');
  return got;
}

function http1Get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // A new connection per request: each one is accepted (and given its original destination) anew.
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

async function h2Get(port: number): Promise<string> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  try {
    const stream = session.request({ ':path': '/' });
    let body = '';
    stream.on('data', (c: Buffer) => (body += c.toString()));
    await once(stream, 'end');
    return body;
  } finally {
    session.close();
  }
}

/** A meshed client's direct connection: mTLS + ALPN transport.l5d.io/v1, then a header naming `port`. */
async function directSession(h: Harness, port: number, sessionProtocol?: SessionProtocol) {
  const tcp = net.connect(h.proxy.inboundAddr.port, '127.0.0.1');
  tcp.on('error', () => undefined);
  await once(tcp, 'connect');
  const session = await connectMtls(tcp, h.clientCreds, { serverName: TEST_SERVER_NAME, expectedServerId: TEST_SPIFFE_ID, alpn: [TRANSPORT_HEADER_ALPN], timeoutMs: 2000 });
  session.on('error', () => undefined);
  session.write(encodeTransportHeader({ port, ...(sessionProtocol !== undefined ? { sessionProtocol } : {}) }));
  return session;
}

async function readAll(s: net.Socket): Promise<string> {
  let got = '';
  s.on('data', (c: Buffer) => (got += c.toString()));
  await once(s, 'close');
  return got;
}

/** Loopback addresses beyond 127.0.0.1 exist on Linux (127/8 is routed to lo); elsewhere they may not. */
async function extraLoopbackUsable(): Promise<boolean> {
  const s = net.createServer();
  const ok = await listenOn(s, HOSTS[1], 0);
  if (ok) s.close();
  return ok;
}

const skip = (await extraLoopbackUsable()) ? false : '127.0.0.3 is not a local address on this system (Linux routes 127/8 to lo)';

t.test('inbound dials the original destination IP, not 127.0.0.1', { skip }, async (t) => {
  const h = await harness(t);
  const inbound = h.proxy.inboundAddr.port;

  t.test('opaque TCP', async (t) => {
    const apps = await listenTrio(t, namingEcho);
    for (const ip of [...HOSTS, ...HOSTS]) {
      h.dst = socketAddr(ip, apps.port);
      // Not an HTTP request line (a brace is no token character): detection forwards it opaquely.
      t.equal(await opaqueRoundTrip(inbound, '{"hi":1}'), `${ip}:{"hi":1}`, `reached the app on ${ip}:${apps.port}`);
    }
    t.equal(apps.accepted.get(DECOY), undefined, 'nothing connected to 127.0.0.1 on that port');
    const text = await h.proxy.metrics.render();
    t.match(text, new RegExp(`^tcp_open_total\\{direction="inbound",peer="src",target_addr="127.0.0.2:${apps.port}",target_ip="127.0.0.2",`, 'm'), 'labelled with the original destination');
  });

  t.test('HTTP/1: one pool per app address', async (t) => {
    const apps = await listenTrio(t, namingHttp1);
    for (const ip of [...HOSTS, ...HOSTS]) {
      h.dst = socketAddr(ip, apps.port);
      t.equal(await http1Get(inbound), `http1 from ${ip}`, `reached the app on ${ip}:${apps.port}`);
    }
    t.equal(apps.accepted.get(DECOY), undefined, 'nothing connected to 127.0.0.1 on that port');
    t.equal(apps.accepted.get(HOSTS[0]), 1, 'the pooled connection to 127.0.0.2 was reused');
  });

  t.test('HTTP/2: one session per app address', async (t) => {
    const apps = await listenTrio(t, namingH2);
    for (const ip of [...HOSTS, ...HOSTS]) {
      h.dst = socketAddr(ip, apps.port);
      t.equal(await h2Get(inbound), `h2 from ${ip}`, `reached the app on ${ip}:${apps.port}`);
    }
    t.equal(apps.accepted.get(DECOY), undefined, 'nothing connected to 127.0.0.1 on that port');
  });

  t.test('direct connection: the header port on the IP this connection was for', async (t) => {
    const echo = await listenTrio(t, namingEcho);
    const web = await listenTrio(t, namingHttp1);
    for (const ip of HOSTS) {
      h.dst = socketAddr(ip, inbound);
      const opaque = await directSession(h, echo.port);
      opaque.end('over the direct path');
      t.equal(await readAll(opaque), `${ip}:over the direct path`, `opaque: reached ${ip}:${echo.port}`);

      h.dst = socketAddr(ip, inbound);
      const h1 = await directSession(h, web.port, 'http1');
      h1.write('GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n');
      t.match(await readAll(h1), new RegExp(`^HTTP/1\\.1 200 [\\s\\S]*http1 from ${ip.replace(/\./g, '\\.')}$`), `http1: reached ${ip}:${web.port}`);
    }
    t.equal(echo.accepted.get(DECOY), undefined, 'no opaque connection to 127.0.0.1');
    t.equal(web.accepted.get(DECOY), undefined, 'no HTTP connection to 127.0.0.1');
  });

  t.test('the inbound port itself is still refused as a target', async (t) => {
    h.dst = socketAddr(HOSTS[0], inbound);
    const s = await directSession(h, inbound);
    t.equal(await readAll(s), '', 'closed without a byte');
  });
});

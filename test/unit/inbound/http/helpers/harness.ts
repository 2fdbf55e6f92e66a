// Loopback fixtures for the inbound HTTP tests: a runtime, policies, a "proxy" listener that hands
// its sockets to the inbound HTTP servers, apps (node:http, node:http2, raw) and clients.
import { execFile } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { Test } from 'tap';
import { loadConfig } from '../../../../../src/config/index.js';
import type { InboundConnection, InboundRuntime, PortPolicy } from '../../../../../src/inbound/context.js';
import { createInboundHttp, detectHttp, type InboundHttp } from '../../../../../src/inbound/http/index.js';
import { silentLogger } from '../../../../../src/log/logger.js';
import { createMetrics, type Metrics, type TlsAccept } from '../../../../../src/metrics/index.js';
import {
  compiledPolicy,
  defaultMeta,
  defaultServerPolicy,
  type Authorization,
  type CompiledServerPolicy,
  type DefaultPolicy,
  type HttpFilter,
  type HttpRouteMatch,
  type LocalRateLimit,
  type ServerPolicy,
} from '../../../../../src/policy/inbound/index.js';
import { normalizeMappedIPv4 } from '../../../../../src/transport/index.js';
import { K8S_ENV, withEnv } from '../../../config/fixtures.js';

const buildInfo = { version: 'v0.0.0-test', gitSha: 'test', profile: 'test', vendor: 'test', date: '2026-01-01' };

/** A meshed peer's identity (DNS, as Linkerd proxies present). */
export const MESHED_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
/** A SPIFFE identity: `all-authenticated` does not admit it (suffixes apply to DNS ids only). */
export const SPIFFE_ID = 'spiffe://root.linkerd.cluster.local/ns/x/sa/y';

export interface Runtime {
  readonly rt: InboundRuntime;
  readonly metrics: Metrics;
  readonly http: InboundHttp;
}

export function runtime(t: Test, env: Record<string, string | undefined> = {}): Runtime {
  const config = loadConfig(withEnv(K8S_ENV, env)).config;
  const metrics = createMetrics({ buildInfo, processMetrics: false });
  const rt: InboundRuntime = {
    config: config.inbound,
    inboundPort: 4143,
    metrics,
    log: silentLogger,
    credentials: () => undefined,
    track: () => undefined,
  };
  const h = createInboundHttp(rt);
  t.teardown(() => h.close());
  return { rt, metrics, http: h };
}

/** A PortPolicy whose value the test swaps. */
export class StubPortPolicy implements PortPolicy {
  private readonly listeners = new Set<(p: CompiledServerPolicy) => void>();
  constructor(private policy: CompiledServerPolicy) {}
  current(): CompiledServerPolicy {
    return this.policy;
  }
  set(policy: ServerPolicy): void {
    this.policy = compiledPolicy(policy);
    for (const l of this.listeners) l(this.policy);
  }
  subscribe(listener: (p: CompiledServerPolicy) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function defaultPolicy(name: DefaultPolicy): ServerPolicy {
  return defaultServerPolicy(name, { detectTimeoutMs: 10_000, clusterNetworks: [] });
}

export function portPolicy(p: ServerPolicy | DefaultPolicy): StubPortPolicy {
  return new StubPortPolicy(compiledPolicy(typeof p === 'string' ? defaultPolicy(p) : p));
}

export const ANY_CLIENT: Authorization = {
  meta: { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name: 'anyone' },
  networks: [
    { net: { family: 4, addr: '0.0.0.0', prefixLen: 0 }, except: [] },
    { net: { family: 6, addr: '::', prefixLen: 0 }, except: [] },
  ],
  authentication: { kind: 'unauthenticated' },
};

export interface RouteSpec {
  readonly name: string;
  /** Exact path, or undefined for every path. */
  readonly path?: string;
  readonly filters?: readonly HttpFilter[];
  /** Default: one authorization admitting everybody. */
  readonly authorizations?: readonly Authorization[];
}

/** A discovered-looking Server (kind `server`) with HTTP routes on the given protocol. */
export function serverPolicy(
  routes: readonly RouteSpec[],
  opts: { protocol?: 'http1' | 'http2' | 'detect'; rateLimit?: LocalRateLimit } = {},
): ServerPolicy {
  const httpRoutes = routes.map((r) => {
    const match: HttpRouteMatch = {
      path: r.path === undefined ? undefined : { kind: 'exact', path: r.path },
      headers: [],
      queryParams: [],
      method: undefined,
    };
    return {
      meta: { group: 'policy.linkerd.io', kind: 'httproute', name: r.name },
      hosts: [],
      rules: [{ matches: [match], filters: r.filters ?? [] }],
      authorizations: r.authorizations ?? [ANY_CLIENT],
    };
  });
  const kind = opts.protocol ?? 'http1';
  return {
    meta: { group: 'policy.linkerd.io', kind: 'server', name: 'web-http' },
    protocol:
      kind === 'detect'
        ? { kind: 'detect', timeoutMs: 10_000, tcpAuthorizations: [ANY_CLIENT], httpRoutes }
        : { kind, routes: httpRoutes },
    localRateLimit: opts.rateLimit,
  };
}

export { defaultMeta };

export type Peer =
  | { readonly kind: 'plain' }
  | { readonly kind: 'meshed'; readonly id: string };

export const PLAIN: Peer = { kind: 'plain' };
export const meshed = (id: string = MESHED_ID): Peer => ({ kind: 'meshed', id });

export interface ProxyOptions {
  readonly policy: PortPolicy;
  /** The app's port: the connection's original destination. */
  readonly appPort: number;
  readonly peer?: Peer;
  /** 'detect' (default): HTTP detection picks the server; or force one. */
  readonly mode?: 'detect' | 'http1' | 'h2';
  /** Terminate TLS first (as the accept path does for mesh TLS); detection then runs on the session. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export interface Proxy {
  readonly port: number;
  readonly served: Promise<void>[];
  readonly accepted: net.Socket[];
}

/**
 * A listener standing in for the inbound accept path: each accepted socket becomes an
 * InboundConnection (TLS state simulated from `peer`) served by the runtime's InboundHttp.
 */
export async function startProxy(t: Test, r: Runtime, opts: ProxyOptions): Promise<Proxy> {
  const served: Promise<void>[] = [];
  const accepted: net.Socket[] = [];
  const peer = opts.peer ?? PLAIN;
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (raw) => {
    accepted.push(raw);
    raw.on('error', () => undefined);
    if (opts.tls === undefined) return serve(raw, raw);
    const session = new tls.TLSSocket(raw, { isServer: true, key: opts.tls.key, cert: opts.tls.cert });
    session.on('error', () => undefined);
    session.once('secure', () => serve(raw, session));
  });
  function serve(raw: net.Socket, socket: net.Socket): void {
    const tlsState: TlsAccept = peer.kind === 'meshed' ? { kind: 'established', clientId: peer.id } : { kind: 'none', reason: 'no_tls_from_remote' };
    const conn: InboundConnection = {
      stream: socket,
      socket: raw,
      target: { host: '127.0.0.1', port: opts.appPort, family: 4 },
      clientIp: normalizeMappedIPv4(socket.remoteAddress ?? ''),
      tls: tlsState,
      clientId: peer.kind === 'meshed' ? peer.id : undefined,
      policy: opts.policy,
    };
    const mode = opts.mode ?? 'detect';
    if (mode === 'http1') {
      served.push(r.http.serveHttp1(conn));
      return;
    }
    if (mode === 'h2') {
      served.push(r.http.serveH2(conn));
      return;
    }
    served.push(
      detectHttp(socket, { timeoutMs: 2000 }).then((d) => {
        if (d.kind === 'h2') return r.http.serveH2(conn);
        if (d.kind === 'http1' || d.kind === 'timeout') return r.http.serveHttp1(conn);
        socket.destroy();
        return undefined;
      }),
    );
  }
  t.teardown(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });
  const port = await listen(server);
  return { port, served, accepted };
}

export async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** What an app saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: string;
}

export interface HttpApp {
  readonly port: number;
  readonly seen: SeenRequest[];
  /** TCP connections the app accepted. */
  connections(): number;
}

/** A node:http app answering every request with `respond` (default: 200 "ok:<url>"). */
export async function httpApp(
  t: Test,
  respond?: (req: SeenRequest, res: http.ServerResponse) => void,
): Promise<HttpApp> {
  const seen: SeenRequest[] = [];
  const sockets: net.Socket[] = [];
  const server = http.createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const s: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        httpVersion: req.httpVersion,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
      };
      seen.push(s);
      if (respond !== undefined) respond(s, res);
      else res.end(`ok:${s.url}`);
    });
  });
  server.on('connection', (s: net.Socket) => sockets.push(s));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = await listen(server);
  return { port, seen, connections: () => sockets.length };
}

/** A raw TCP app: `onRequest` gets the request head text and writes the response itself. */
export async function rawApp(t: Test, onRequest: (head: string, socket: net.Socket, rest: Buffer) => void): Promise<{ port: number; heads: string[] }> {
  const heads: string[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const i = buf.indexOf('\r\n\r\n');
      if (i === -1) return;
      s.off('data', onData);
      const head = buf.subarray(0, i + 4).toString('latin1');
      heads.push(head);
      onRequest(head, s, buf.subarray(i + 4));
    };
    s.on('data', onData);
  });
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = await listen(server);
  return { port, heads };
}

export interface H2App {
  readonly port: number;
  readonly seen: { headers: http2.IncomingHttpHeaders; body: string; trailers: http2.IncomingHttpHeaders | undefined }[];
}

/** A node:http2 (prior knowledge) app; `respond` writes the response on the stream. */
export async function h2App(
  t: Test,
  respond: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: string) => void,
): Promise<H2App> {
  const seen: H2App['seen'] = [];
  const server = http2.createServer();
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s) => sessions.push(s));
  server.on('stream', (stream, headers) => {
    let body = '';
    let trailers: http2.IncomingHttpHeaders | undefined;
    stream.setEncoding('latin1');
    stream.on('data', (c: string) => (body += c));
    stream.on('trailers', (tr) => (trailers = tr));
    stream.on('end', () => {
      seen.push({ headers, body, trailers });
      respond(stream, headers, body);
    });
  });
  t.teardown(() => {
    for (const s of sessions) s.destroy();
    server.close();
  });
  const port = await listen(server);
  return { port, seen };
}

export interface H2Result {
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: string;
  readonly trailers: http2.IncomingHttpHeaders | undefined;
}

/** One HTTP/2 request (prior knowledge) on a fresh session to the proxy. */
export async function h2Request(
  t: Test,
  port: number,
  headers: http2.OutgoingHttpHeaders,
  body?: string,
  opts: { trailers?: http2.OutgoingHttpHeaders } = {},
): Promise<H2Result> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  t.teardown(() => session.destroy());
  return new Promise((resolve, reject) => {
    const endStream = body === undefined && opts.trailers === undefined;
    const req = session.request(headers, { endStream, waitForTrailers: opts.trailers !== undefined });
    if (opts.trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(opts.trailers!));
    let resHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    let text = '';
    req.setEncoding('latin1');
    req.on('response', (h) => (resHeaders = h));
    req.on('trailers', (tr: http2.IncomingHttpHeaders) => {
      trailers = tr;
    });
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      session.close();
      resolve({ headers: resHeaders, body: text, trailers });
    });
    req.on('error', reject);
    if (!endStream) req.end(body ?? '');
  });
}

export function curl(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ stdout, stderr, code });
    });
  });
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The legacy part of /metrics. */
export async function scrape(m: Metrics): Promise<string> {
  return m.render();
}

/** Lines of the scrape for one family (samples only). */
export function samples(text: string, family: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${family}{`) || l.startsWith(`${family} `));
}

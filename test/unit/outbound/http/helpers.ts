// Fakes for outbound HTTP tests: a runtime, endpoints, a TCP-only connector, dispatchers, targets,
// policies, and a proxy listener serving connections with OutboundHttp1 — all on 127.0.0.1.
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import net from 'node:net';
import type { Test } from 'tap';
import { DEFAULT_PEAK_EWMA, Endpoint } from '../../../../src/balance/index.js';
import { systemClock } from '../../../../src/core/clock.js';
import { loadConfig } from '../../../../src/config/index.js';
import type { OutboundConfig } from '../../../../src/config/types.js';
import type { DestinationEndpoint, PolicyMeta } from '../../../../src/discovery/destination-types.js';
import type {
  Backend,
  HttpRoute,
  HttpRouteMatch,
  HttpRule,
  OutboundHttpFilter,
  OutboundPolicy,
  RouteTimeouts,
} from '../../../../src/discovery/outbound-policy-types.js';
import type { Credentials } from '../../../../src/identity/types.js';
import { createMetrics, type Metrics, type TlsConnect } from '../../../../src/metrics/index.js';
import type {
  BackendDispatcher,
  EndpointConnection,
  EndpointConnector,
  EndpointSession,
  OutboundRuntime,
  OutboundTarget,
} from '../../../../src/outbound/context.js';
import { OutboundHttp1, type OutboundHttp1Options } from '../../../../src/outbound/http/index.js';
import { socketAddr } from '../../../../src/transport/addr.js';
import { bareEndpoint } from '../../../../src/discovery/outbound-fallback.js';
import { TestPki } from '../../../support/pki.js';
import { testProxyEnv } from '../../../support/proxy-env.js';

import { CaptureLogger } from '../../../support/capture-logger.js';
export { CaptureLogger };

let pkiPem: string | undefined;

export function outboundConfig(env: Record<string, string> = {}): OutboundConfig {
  pkiPem ??= new TestPki().root().certPem;
  return loadConfig(testProxyEnv(pkiPem, env)).config.outbound;
}

export interface TestRuntime extends OutboundRuntime {
  readonly log: CaptureLogger;
  readonly metrics: Metrics;
}

export function testRuntime(env: Record<string, string> = {}, localIps: readonly string[] = [], creds?: Credentials): TestRuntime {
  return {
    config: outboundConfig(env),
    localIps: new Set(localIps),
    metrics: createMetrics({ buildInfo: { version: 'test', gitSha: '', profile: '', vendor: '', date: '' }, processMetrics: false }),
    log: new CaptureLogger(),
    credentials: () => creds,
    track: () => undefined,
  };
}

export const META = (name: string, kind = 'Service'): PolicyMeta => ({
  group: 'core',
  kind,
  name,
  namespace: 'test',
  section: undefined,
  port: undefined,
});

export function endpoint(port: number, extra: Partial<DestinationEndpoint> = {}): DestinationEndpoint {
  return { ...bareEndpoint(socketAddr('127.0.0.1', port)), weight: 1, ...extra };
}

export function meshedIdentity(name: string): DestinationEndpoint['tlsIdentity'] {
  return { kind: 'dns', name, serverName: name };
}

/** Plain TCP to the endpoint's address; reports TLS as the connector would label it. */
export class TcpConnector implements EndpointConnector {
  readonly sessions: { endpoint: string; kind: EndpointSession['kind'] }[] = [];
  readonly sockets: net.Socket[] = [];

  constructor(t: Test) {
    t.teardown(() => {
      for (const s of this.sockets) s.destroy();
    });
  }

  connect(ep: DestinationEndpoint, session: EndpointSession): Promise<EndpointConnection> {
    this.sessions.push({ endpoint: ep.key, kind: session.kind });
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: ep.addr.host, port: ep.addr.port });
      this.sockets.push(s);
      s.once('connect', () => {
        s.off('error', reject);
        s.on('error', () => undefined);
        const tls: TlsConnect =
          ep.tlsIdentity === undefined ? { kind: 'none', reason: 'not_provided_by_service_discovery' } : { kind: 'established', serverId: ep.tlsIdentity.name };
        resolve({ socket: s, tcp: s, tls });
      });
      s.once('error', reject);
    });
  }

  count(kind: EndpointSession['kind']): number {
    return this.sessions.filter((s) => s.kind === kind).length;
  }
}

/** Wraps endpoint values as balancer endpoints (load tracking and outcomes are real). */
export function balanced(ep: DestinationEndpoint): Endpoint<DestinationEndpoint> {
  return new Endpoint(ep.key, ep, {
    clock: systemClock,
    random: Math.random,
    peakEwma: DEFAULT_PEAK_EWMA,
    failureAccrual: undefined,
    connected: true,
    readinessChanged: () => undefined,
  });
}

/** Round-robin over fixed endpoints, or a scripted failure; counts picks. */
export class FakeDispatcher implements BackendDispatcher {
  picks = 0;
  private next = 0;
  readonly endpoints: Endpoint<DestinationEndpoint>[];

  constructor(
    readonly backend: Backend,
    endpoints: readonly DestinationEndpoint[],
    private readonly behaviour: (d: FakeDispatcher, signal?: AbortSignal) => Endpoint<DestinationEndpoint> | Promise<Endpoint<DestinationEndpoint>> = (d) => d.roundRobin(),
  ) {
    this.endpoints = endpoints.map(balanced);
  }

  roundRobin(): Endpoint<DestinationEndpoint> {
    const ep = this.endpoints[this.next++ % this.endpoints.length];
    if (ep === undefined) throw new Error('no endpoints');
    return ep;
  }

  pick(signal?: AbortSignal): Endpoint<DestinationEndpoint> | Promise<Endpoint<DestinationEndpoint>> {
    this.picks++;
    return this.behaviour(this, signal);
  }
}

export function balancerBackend(name: string, path = `${name}.test.svc.cluster.local:80`): Backend {
  return {
    meta: META(name),
    queue: { capacity: 100, failfastTimeoutMs: 3000 },
    dispatch: { kind: 'balancer', path, load: { kind: 'peak-ewma', defaultRttMs: 30, decayMs: 10_000 } },
  };
}

export function forwardBackend(ep: DestinationEndpoint): Backend {
  return { meta: META('forward', 'default'), queue: { capacity: 100, failfastTimeoutMs: 3000 }, dispatch: { kind: 'forward', endpoint: ep } };
}

export const NO_TIMEOUTS: RouteTimeouts = { responseMs: undefined, requestMs: undefined, idleMs: undefined };

export function rule(backend: Backend, opts: { matches?: HttpRouteMatch[]; filters?: OutboundHttpFilter[]; timeouts?: Partial<RouteTimeouts> } = {}): HttpRule {
  return {
    matches: opts.matches ?? [],
    filters: opts.filters ?? [],
    distribution: { kind: 'first-available', backends: [{ backend, filters: [] }] },
    timeouts: { ...NO_TIMEOUTS, ...opts.timeouts },
    retry: undefined,
    allowL5dRequestHeaders: false,
  };
}

export function pathPrefix(prefix: string, headers: HttpRouteMatch['headers'] = []): HttpRouteMatch {
  return { path: { kind: 'prefix', prefix }, headers, queryParams: [], method: undefined };
}

export function route(name: string, rules: HttpRule[], hosts: HttpRoute['hosts'] = []): HttpRoute {
  return { meta: META(name, 'HTTPRoute'), hosts, rules };
}

export function policy(routes: HttpRoute[], backends: Backend[]): OutboundPolicy {
  const http = { routes, failureAccrual: undefined };
  return {
    meta: META('web'),
    protocol: { kind: 'detect', timeoutMs: 1000, opaque: { route: undefined }, http1: http, http2: http },
    backends,
  };
}

/** A target whose policy is fixed and whose backends map to the given dispatchers. */
export class FakeTarget implements OutboundTarget {
  readonly origDst = socketAddr('10.0.0.1', 80);
  holds = 0;
  private readonly dispatchers = new Map<Backend, BackendDispatcher>();

  constructor(
    public policy: OutboundPolicy,
    dispatchers: readonly BackendDispatcher[],
  ) {
    for (const d of dispatchers) this.dispatchers.set(d.backend, d);
  }

  ready(): Promise<OutboundPolicy> {
    return Promise.resolve(this.policy);
  }
  current(): OutboundPolicy {
    return this.policy;
  }
  subscribe(): () => void {
    return () => undefined;
  }
  backend(b: Backend): BackendDispatcher {
    const d = this.dispatchers.get(b);
    if (d === undefined) throw new Error(`no dispatcher for backend ${b.meta.name}`);
    return d;
  }
  hold(): () => void {
    this.holds++;
    return () => void this.holds--;
  }
}

/** A single-backend target: every request goes to `backend` through `dispatcher`. */
export function simpleTarget(dispatcher: FakeDispatcher): FakeTarget {
  return new FakeTarget(policy([route('all', [rule(dispatcher.backend)])], [dispatcher.backend]), [dispatcher]);
}

export interface TestProxy {
  readonly port: number;
  readonly http: OutboundHttp1;
  readonly accepted: net.Socket[];
}

/** A listener whose connections OutboundHttp1 serves for `target`. */
export async function startProxy(
  t: Test,
  rt: OutboundRuntime,
  connector: EndpointConnector,
  target: OutboundTarget,
  opts: OutboundHttp1Options = {},
): Promise<TestProxy> {
  const outbound = new OutboundHttp1(rt, connector, opts);
  const accepted: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    accepted.push(s);
    s.on('error', () => undefined);
    void outbound.serve(s, target, Buffer.alloc(0));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of accepted) s.destroy();
    outbound.close();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, http: outbound, accepted };
}

/** A plaintext HTTP/2 (h2c prior knowledge) origin standing in for a peer proxy's inbound. */
export async function h2Origin(t: Test, onStream: (s: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders) => void): Promise<{ port: number; sessions: http2.ServerHttp2Session[] }> {
  const server = http2.createServer();
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s) => {
    sessions.push(s);
    s.on('error', () => undefined);
  });
  server.on('stream', (s, h) => {
    s.on('error', () => undefined);
    onStream(s, h);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sessions) s.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, sessions };
}

export interface CurlResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ stdout, stderr, code });
    });
  });
}

/** Splits `curl -i` output into the final response's head lines and body. */
export function parseCurl(out: string): { status: number; version: string; headers: Map<string, string>; body: string } {
  // Skip interim heads (100 Continue).
  let rest = out;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    const head = rest.slice(0, end);
    const m = /^HTTP\/(\S+) (\d{3})/.exec(head);
    if (m !== null && m[2]!.startsWith('1') && rest.slice(end + 4).startsWith('HTTP/')) {
      rest = rest.slice(end + 4);
      continue;
    }
    const lines = head.split('\r\n');
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
    }
    return { status: Number(m?.[2] ?? 0), version: m?.[1] ?? '', headers, body: rest.slice(end + 4) };
  }
}

/** Resolves with the next request head (latin1) a raw socket receives, plus any bytes after it. */
export function readRequestHead(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const i = buf.indexOf('\r\n\r\n');
      if (i === -1) return;
      s.off('data', onData);
      resolve(buf.subarray(0, i + 4).toString('latin1'));
    };
    s.on('data', onData);
  });
}

// Loopback fixtures for forwarder tests: origins, a proxy running serveHttp1, raw clients, curl.
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { Test } from 'tap';
import { serveHttp1 } from '../../../../../src/http/h1/forwarder.js';
import type { ForwardDecision, Http1Handler, RouteDecision, ServeHttp1Options } from '../../../../../src/http/h1/handler.js';
import type { RequestHead } from '../../../../../src/http/h1/head.js';
import { Http1Pool, type Http1PoolOptions, type UpstreamTarget } from '../../../../../src/http/h1/pool.js';
import { socketAddr } from '../../../../../src/transport/addr.js';
import { connectTcp } from '../../../../../src/transport/connect.js';

export interface Origin {
  readonly port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  readonly sockets: net.Socket[];
}

function track(t: Test, server: net.Server, sockets: net.Socket[]): void {
  server.on('connection', (s: net.Socket) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

export async function httpOrigin(
  t: Test,
  listener: (req: http.IncomingMessage, res: http.ServerResponse) => unknown,
): Promise<Origin> {
  const server = http.createServer({ keepAliveTimeout: 10_000, requireHostHeader: false }, (req, res) => {
    void Promise.resolve(listener(req, res)).catch((err: unknown) => res.destroy(err as Error));
  });
  const sockets: net.Socket[] = [];
  track(t, server, sockets);
  const port = await listen(server);
  return { port, sockets, connections: () => sockets.length };
}

export async function rawOrigin(t: Test, onConnection: (s: net.Socket) => void): Promise<Origin> {
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  const sockets: net.Socket[] = [];
  track(t, server, sockets);
  const port = await listen(server);
  return { port, sockets, connections: () => sockets.length };
}

export interface ProxyOptions {
  readonly serve?: ServeHttp1Options;
  readonly pool?: Http1PoolOptions;
  /** Overrides for the forward decision (built once, as a pipeline would). */
  readonly forward?: Partial<Omit<ForwardDecision, 'kind' | 'pool' | 'target'>>;
  /** Return a decision to answer or route differently; undefined forwards to the origin. */
  readonly decide?: (req: RequestHead) => RouteDecision | Promise<RouteDecision> | undefined;
  readonly hooks?: Partial<Pick<Http1Handler, 'onRequestStart' | 'onResponseHead' | 'onRequestEnd' | 'onBadRequest'>>;
}

export interface Proxy {
  readonly port: number;
  readonly pool: Http1Pool;
  /** Upstream sockets the pool opened. */
  readonly upstream: net.Socket[];
  /** Client connections the proxy accepted. */
  readonly accepted: net.Socket[];
  /** serveHttp1 results, one per accepted connection. */
  readonly served: Promise<void>[];
}

export async function startProxy(t: Test, originPort: number, opts: ProxyOptions = {}): Promise<Proxy> {
  const pool = new Http1Pool(opts.pool);
  const upstream: net.Socket[] = [];
  const target: UpstreamTarget = {
    key: `127.0.0.1:${originPort}`,
    connect: async () => {
      const s = await connectTcp(socketAddr('127.0.0.1', originPort), { timeoutMs: 2000 });
      upstream.push(s);
      return s;
    },
  };
  const forward: ForwardDecision = { kind: 'forward', pool, target, ...opts.forward };
  const handler: Http1Handler = {
    route: (req) => opts.decide?.(req) ?? forward,
    ...opts.hooks,
  };
  const accepted: net.Socket[] = [];
  const served: Promise<void>[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    accepted.push(s);
    served.push(serveHttp1(s, Buffer.alloc(0), handler, opts.serve));
  });
  t.teardown(() => {
    for (const s of [...accepted, ...upstream]) s.destroy();
    pool.close();
    server.close();
  });
  const port = await listen(server);
  return { port, pool, upstream, accepted, served };
}

/** A raw client connection with a buffer of everything received. */
export class RawClient {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  ended = false;
  closed = false;
  error: Error | undefined;
  private waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    this.socket.on('data', (c: Buffer) => {
      this.received = Buffer.concat([this.received, c]);
      this.wake();
    });
    this.socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    this.socket.on('error', (e) => {
      this.error = e;
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async open(t: Test, port: number): Promise<RawClient> {
    const c = new RawClient(port);
    t.teardown(() => c.socket.destroy());
    await new Promise((resolve) => c.socket.once('connect', resolve));
    return c;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until pred holds for the received text (latin1), or the peer ends the connection. */
  async until(pred: (s: string) => boolean, ms = 3000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!pred(this.text())) {
      if (this.ended || this.closed) break;
      if (Date.now() > deadline) throw new Error(`timed out waiting; received ${JSON.stringify(this.text())}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.text();
  }

  /** Waits for the peer's FIN (or a reset). */
  async untilClosed(ms = 3000): Promise<string> {
    return this.until(() => this.ended || this.closed, ms);
  }

  text(): string {
    return this.received.toString('latin1');
  }

  write(s: string | Buffer): void {
    this.socket.write(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  }
}

/** Resolves with the HTTP request head (latin1) an origin socket receives first. */
export function readHead(s: net.Socket): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const i = buf.indexOf('\r\n\r\n');
      if (i === -1) return;
      s.off('data', onData);
      resolve({ head: buf.subarray(0, i + 4).toString('latin1'), rest: buf.subarray(i + 4) });
    };
    s.on('data', onData);
  });
}

export function curl(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ stdout, stderr, code });
    });
  });
}

/** Reads a whole node:http message body. */
export async function bodyOf(m: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of m) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function waitFor(pred: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (pred()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(check, 5);
    };
    check();
  });
}

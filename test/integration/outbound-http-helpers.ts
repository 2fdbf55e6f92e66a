// Shared pieces of the outbound HTTP integration tests: a meshed proxy with one Service, raw and
// node:http origins, a byte reader for sockets, and curl.
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { Test } from 'tap';
import { socketAddr, type SocketAddr } from '../../src/transport/index.js';
import type { Wire } from '../support/control-plane-codec.js';
import { meshedProxy, type MeshedProxy, type MeshedProxyOptions } from '../support/meshed-proxy.js';
import { SERVICE_PATH, addUpdate, balancerBackend, servicePolicy, weightedAddr, type AddrOpts, type QueueOpts } from '../support/outbound-wire.js';
import { TestPki } from '../support/pki.js';
import { testCredentials } from '../support/proxy-env.js';

/** A Service's ClusterIP: never dialled; the proxy balances over the endpoints discovery names. */
export const CLUSTER_IP: SocketAddr = socketAddr('10.43.0.10', 80);
export const CLUSTER_KEY = '10.43.0.10:80';

let shared: { pki: TestPki; ca: ReturnType<typeof testCredentials>['ca']; creds: ReturnType<typeof testCredentials>['creds'] } | undefined;

/** One PKI per test file (removed when the process exits). */
export function testPki(t: Test): NonNullable<typeof shared> {
  if (shared === undefined) {
    const pki = new TestPki();
    const { ca, creds } = testCredentials(pki);
    shared = { pki, ca, creds };
    t.teardown(() => {
      pki.cleanup();
      shared = undefined;
    });
  }
  return shared;
}

export interface ServiceMeshOptions {
  readonly env?: Record<string, string>;
  /** Fields of the HTTP rule (timeouts, retry, allowL5dRequestHeaders …). */
  readonly rule?: Wire;
  readonly addr?: AddrOpts;
  /** The backend's queue (capacity, failfast timeout). */
  readonly queue?: QueueOpts;
  readonly proxy?: Partial<MeshedProxyOptions>;
}

/** A proxy whose outbound connections all go to CLUSTER_IP, a Service balanced over `ports`. */
export async function serviceMesh(t: Test, ports: readonly number[], opts: ServiceMeshOptions = {}): Promise<MeshedProxy> {
  const { ca, creds } = testPki(t);
  const mesh = await meshedProxy(t, {
    trustAnchorsPem: ca.certPem,
    creds,
    outbound: () => CLUSTER_IP,
    ...(opts.env !== undefined ? { env: opts.env } : {}),
    ...opts.proxy,
  });
  mesh.policy.outbound(CLUSTER_KEY).publish(servicePolicy([balancerBackend(SERVICE_PATH, opts.queue ?? {})], opts.rule ?? {}));
  mesh.dst.getSender(SERVICE_PATH).publish(addUpdate(ports.map((p) => weightedAddr('127.0.0.1', p, opts.addr ?? {}))));
  return mesh;
}

/** Pulls bytes off a socket on demand: heads, exact counts, or everything until EOF. */
export class SocketReader {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private waiter: (() => void) | undefined;
  error: Error | undefined;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = this.buf.length === 0 ? c : Buffer.concat([this.buf, c]);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (e) => {
      this.error = e;
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  get buffered(): number {
    return this.buf.length;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    await new Promise<void>((r) => (this.waiter = r));
    return true;
  }

  /** Everything up to and including `delim`; rejects on EOF first. */
  async until(delim: string): Promise<string> {
    for (;;) {
      const i = this.buf.indexOf(delim, 0, 'latin1');
      if (i !== -1) {
        const out = this.buf.subarray(0, i + delim.length).toString('latin1');
        this.buf = this.buf.subarray(i + delim.length);
        return out;
      }
      if (!(await this.more())) throw new Error(`EOF before ${JSON.stringify(delim)}; had ${JSON.stringify(this.buf.toString('latin1'))}`);
    }
  }

  async bytes(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (!(await this.more())) throw new Error(`EOF after ${this.buf.length} of ${n} bytes`);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Everything until the peer closes. */
  async rest(): Promise<Buffer> {
    while (await this.more());
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }

  /** True when the peer closed (FIN or reset) within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.ended && Date.now() < deadline) {
      await Promise.race([this.more(), new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())))]);
    }
    return this.ended;
  }

  /** One response: head, then the body by content-length, chunked framing (raw), or nothing. */
  async response(opts: { head?: boolean } = {}): Promise<RawMessage> {
    const head = await this.until('\r\n\r\n');
    const msg = parseHead(head);
    if (opts.head === true || msg.status === 204 || msg.status === 304 || (msg.status >= 100 && msg.status < 200)) return { ...msg, body: Buffer.alloc(0) };
    const cl = msg.headers.get('content-length');
    if (cl !== undefined) return { ...msg, body: await this.bytes(Number(cl)) };
    if (msg.headers.get('transfer-encoding')?.toLowerCase() === 'chunked') return { ...msg, body: await this.chunked() };
    return { ...msg, body: await this.rest() };
  }

  /** A chunked body, raw (framing and trailers included). */
  async chunked(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const line = await this.until('\r\n');
      parts.push(Buffer.from(line, 'latin1'));
      const size = parseInt(line, 16);
      if (size === 0) {
        for (;;) {
          const t = await this.until('\r\n');
          parts.push(Buffer.from(t, 'latin1'));
          if (t === '\r\n') return Buffer.concat(parts);
        }
      }
      parts.push(await this.bytes(size + 2));
    }
  }
}

export interface RawMessage {
  /** The start line. */
  readonly line: string;
  readonly status: number;
  /** The head's bytes exactly as received. */
  readonly raw: string;
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: Map<string, string>;
  /** Header names as received, in order. */
  readonly names: string[];
  readonly body: Buffer;
}

export function parseHead(raw: string): Omit<RawMessage, 'body'> {
  const lines = raw.split('\r\n');
  const line = lines[0]!;
  const headers = new Map<string, string>();
  const names: string[] = [];
  for (const l of lines.slice(1)) {
    if (l === '') continue;
    const i = l.indexOf(':');
    const name = l.slice(0, i);
    names.push(name);
    const k = name.toLowerCase();
    const v = l.slice(i + 1).trim();
    headers.set(k, headers.has(k) ? `${headers.get(k)!}, ${v}` : v);
  }
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(line);
  return { line, status: m === null ? 0 : Number(m[1]), raw, headers, names };
}

/** A connection from a raw origin: its reader and socket. */
export interface OriginConn {
  readonly socket: net.Socket;
  readonly reader: SocketReader;
  /** Index of this connection on its server. */
  readonly index: number;
}

export interface RawOrigin {
  readonly port: number;
  readonly conns: OriginConn[];
  /** Resolves with the next connection accepted (or one already accepted and not yet taken). */
  next(): Promise<OriginConn>;
  close(): void;
}

/** A net server whose connections the test drives byte by byte. */
export async function rawOrigin(t: Test, onConn?: (c: OriginConn) => void | Promise<void>): Promise<RawOrigin> {
  const conns: OriginConn[] = [];
  const waiting: ((c: OriginConn) => void)[] = [];
  const queue: OriginConn[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    const c: OriginConn = { socket, reader: new SocketReader(socket), index: conns.length };
    conns.push(c);
    if (onConn !== undefined) {
      void Promise.resolve(onConn(c)).catch(() => socket.destroy());
      return;
    }
    const w = waiting.shift();
    if (w !== undefined) w(c);
    else queue.push(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = (): void => {
    server.close();
    for (const c of conns) c.socket.destroy();
  };
  t.teardown(close);
  return {
    port: (server.address() as net.AddressInfo).port,
    conns,
    next: () => {
      const q = queue.shift();
      return q !== undefined ? Promise.resolve(q) : new Promise((r) => waiting.push(r));
    },
    close,
  };
}

/** Serves a raw origin's requests one after another: `answer` reads the request and writes the response. */
export function keepAliveOrigin(t: Test, answer: (req: RawMessage & { body: Buffer }, c: OriginConn) => string | Buffer | Promise<string | Buffer>): Promise<RawOrigin & { requests: (RawMessage & { conn: number })[] }> {
  const requests: (RawMessage & { conn: number })[] = [];
  return rawOrigin(t, async (c) => {
    for (;;) {
      let head: string;
      try {
        head = await c.reader.until('\r\n\r\n');
      } catch {
        c.socket.end();
        return;
      }
      const m = parseHead(head);
      const cl = m.headers.get('content-length');
      const body =
        cl !== undefined ? await c.reader.bytes(Number(cl)) : m.headers.get('transfer-encoding')?.toLowerCase() === 'chunked' ? await c.reader.chunked() : Buffer.alloc(0);
      const req = { ...m, body, conn: c.index };
      requests.push(req);
      c.socket.write(await answer(req, c));
    }
  }).then((o) => Object.assign(o, { requests }));
}

/** A raw client connection to the proxy's outbound listener. */
export async function rawClient(t: Test, port: number): Promise<{ socket: net.Socket; reader: SocketReader }> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  t.teardown(() => socket.destroy());
  const reader = new SocketReader(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, reader };
}

export interface HttpOrigin {
  readonly port: number;
  readonly server: http.Server;
  close(): void;
}

/** A node:http server on 127.0.0.1:0, closed (with its sockets) at teardown. */
export async function httpOrigin(t: Test, handler: http.RequestListener, opts: http.ServerOptions = {}): Promise<HttpOrigin> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer(opts, handler);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = (): void => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  t.teardown(close);
  return { port: (server.address() as net.AddressInfo).port, server, close };
}

export interface CurlResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs curl; never rejects (the exit code is in the result). */
export function curl(args: readonly string[], input?: Buffer): Promise<CurlResult> {
  return new Promise((resolve) => {
    const child = execFile('curl', ['-sS', ...args], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** `curl -i` output: the last response head (after any 100 Continue) and the body. */
export function parseCurlOutput(out: Buffer): RawMessage {
  let rest = out;
  for (;;) {
    const i = rest.indexOf('\r\n\r\n');
    if (i === -1) throw new Error(`no head in curl output ${JSON.stringify(out.toString('latin1').slice(0, 200))}`);
    const head = parseHead(rest.subarray(0, i + 4).toString('latin1'));
    rest = rest.subarray(i + 4);
    if (head.status >= 100 && head.status < 200 && head.status !== 101) continue;
    return { ...head, body: rest };
  }
}

/** Polls `cond` every 10 ms until true or `ms` elapsed. */
export async function eventually(cond: () => boolean | Promise<boolean>, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

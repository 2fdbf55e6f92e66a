// A Destination service (Get / GetProfile) for tests, plus the stream plumbing fake-policy.ts shares.
import * as grpc from '@grpc/grpc-js';
import { serviceDefinition, wireString } from './control-plane-codec.js';
import type { Wire } from './control-plane-codec.js';

export interface FakeTls {
  /** Server certificate PEM, leaf first, then intermediates. */
  readonly certChainPem: string;
  readonly keyPem: string;
  /** When set, clients must present a certificate chaining to this CA (mTLS, as in a real mesh). */
  readonly clientCaPem?: string;
}

export interface Rejection {
  readonly code: grpc.status;
  readonly details: string;
}

type Call<Res> = grpc.ServerWritableStream<Wire, Res>;

function rejectCall<Res>(call: Call<Res>, r: Rejection): void {
  call.emit('error', { code: r.code, details: r.details });
}

/** The test's handle on every stream opened for one key (an authority, a path, a port, a target). */
export class StreamSender<Res extends Wire = Wire> {
  /** Written to each new stream at once: what a control plane knows when the call arrives. */
  initial: Res[] = [];
  /** New calls for this key fail at once with this status while it is set. */
  rejectWith: Rejection | undefined;
  /** How many calls have arrived for this key, ever. */
  opened = 0;
  private readonly open = new Set<Call<Res>>();
  private readonly waiters: { n: number; resolve: () => void }[] = [];

  constructor(readonly key: string) {}

  get openStreams(): number {
    return this.open.size;
  }

  /** Writes to every open stream (an incremental update). */
  push(...messages: Res[]): void {
    for (const call of this.open) for (const m of messages) call.write(m);
  }

  /** A full-state replacement: later calls start from `message` too, open ones receive it now. */
  publish(message: Res): void {
    this.initial = [message];
    this.push(message);
  }

  /** Finishes every open stream with OK. */
  end(): void {
    for (const call of this.take()) call.end();
  }

  /** Finishes every open stream with this status. */
  fail(code: grpc.status, details = grpc.status[code] ?? 'failed'): void {
    for (const call of this.take()) rejectCall(call, { code, details });
  }

  /** Resolves once `n` calls in total have arrived for this key. */
  waitForStreams(n = 1): Promise<void> {
    if (this.opened >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Takes over a new server-streaming call. */
  attach(call: Call<Res>): void {
    this.opened++;
    for (const w of this.waiters.filter((w) => this.opened >= w.n)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
    if (this.rejectWith) return rejectCall(call, this.rejectWith);
    this.open.add(call);
    call.on('cancelled', () => this.open.delete(call));
    for (const m of this.initial) call.write(m);
  }

  /** Answers a unary call: the latest `initial` message, or the rejection. */
  answer(callback: grpc.sendUnaryData<Res>): void {
    this.opened++;
    const latest = this.initial[this.initial.length - 1];
    if (this.rejectWith) callback(Object.assign(new Error(this.rejectWith.details), this.rejectWith));
    else if (latest === undefined) callback({ code: grpc.status.NOT_FOUND, details: `fake has nothing for ${this.key}` });
    else callback(null, latest);
  }

  /** Ends every open stream UNAVAILABLE, which is what a client sees when its server goes away. */
  cut(): void {
    this.fail(grpc.status.UNAVAILABLE, 'control plane going away');
  }

  private take(): Call<Res>[] {
    const calls = [...this.open];
    this.open.clear();
    return calls;
  }
}

/** Senders by key. Calls may arrive before the test asks for a key; they share one sender. */
export class SenderTable<Res extends Wire = Wire> {
  /** Calls for keys the test never asked about fail with this; unset, they stay open and silent. */
  unknown: Rejection | undefined;
  private readonly senders = new Map<string, { sender: StreamSender<Res>; configured: boolean }>();

  sender(key: string): StreamSender<Res> {
    const entry = this.entry(key);
    entry.configured = true;
    return entry.sender;
  }

  serve(key: string, call: Call<Res>): void {
    const entry = this.entry(key);
    if (!entry.configured && this.unknown) {
      entry.sender.opened++;
      return rejectCall(call, this.unknown);
    }
    entry.sender.attach(call);
  }

  serveUnary(key: string, callback: grpc.sendUnaryData<Res>): void {
    const entry = this.entry(key);
    if (!entry.configured && this.unknown) callback(Object.assign(new Error(this.unknown.details), this.unknown));
    else entry.sender.answer(callback);
  }

  cutAll(): void {
    for (const { sender } of this.senders.values()) sender.cut();
  }

  private entry(key: string): { sender: StreamSender<Res>; configured: boolean } {
    let entry = this.senders.get(key);
    if (!entry) {
      entry = { sender: new StreamSender<Res>(key), configured: false };
      this.senders.set(key, entry);
    }
    return entry;
  }
}

/** Requests as the fake received them, with a way to wait for more. */
export class RequestLog<T> {
  readonly items: T[] = [];
  private readonly waiters: { n: number; resolve: () => void }[] = [];

  add(item: T): void {
    this.items.push(item);
    for (const w of this.waiters.filter((w) => this.items.length >= w.n)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  waitFor(n: number): Promise<void> {
    if (this.items.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

/** The client certificate's subjectAltName text (e.g. `DNS:a.b, URI:spiffe://x`) on a TLS call. */
export function peerSan(call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'getAuthContext'>): string | undefined {
  return call.getAuthContext().sslPeerCertificate?.subjectaltname;
}

/** Lifecycle shared by the control-plane fakes: a grpc-js server on 127.0.0.1 that can restart on its port. */
export abstract class FakeControlPlaneServer {
  readonly host = '127.0.0.1';
  port = 0;
  private server: grpc.Server | undefined;

  protected constructor(private readonly tls: FakeTls | undefined) {}

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Adds this fake's services to a fresh grpc-js server. */
  protected abstract register(server: grpc.Server): void;

  /** Ends every open stream UNAVAILABLE before the server goes down. */
  protected abstract cutStreams(): void;

  protected async listen(port: number): Promise<void> {
    const server = new grpc.Server();
    this.register(server);
    const creds = this.tls
      ? grpc.ServerCredentials.createSsl(
          this.tls.clientCaPem === undefined ? null : Buffer.from(this.tls.clientCaPem),
          [{ cert_chain: Buffer.from(this.tls.certChainPem), private_key: Buffer.from(this.tls.keyPem) }],
          this.tls.clientCaPem !== undefined,
        )
      : grpc.ServerCredentials.createInsecure();
    // Right after a shutdown the old listener may still hold the port for a moment.
    for (let attempt = 0; ; attempt++) {
      try {
        this.port = await new Promise<number>((resolve, reject) => {
          server.bindAsync(`${this.host}:${port}`, creds, (err, bound) => (err ? reject(err) : resolve(bound)));
        });
        break;
      } catch (err) {
        if (attempt >= 50 || !/EADDRINUSE|address in use/i.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    this.server = server;
  }

  /**
   * Goes away and comes back on the same port: open streams end UNAVAILABLE, connections close,
   * and new calls (after the client reconnects) reach the same senders.
   */
  async restart(): Promise<void> {
    await this.shutdown();
    await this.listen(this.port);
  }

  async stop(): Promise<void> {
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Statuses first, then a graceful close so they are flushed; a hard stop would turn them
    // into RST_STREAM(CANCEL), which clients report as CANCELLED.
    this.cutStreams();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 250);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

export interface DestinationRequest {
  readonly method: 'Get' | 'GetProfile';
  readonly scheme: string;
  readonly path: string;
  readonly contextToken: string;
  readonly metadata: grpc.Metadata;
  readonly peerSan: string | undefined;
}

/**
 * `io.linkerd.proxy.destination.Destination` driven by the test: `getSender(authority)` feeds
 * `Get` streams for that exact path, `profileSender(path)` feeds `GetProfile`.
 */
export class FakeDestination extends FakeControlPlaneServer {
  readonly log = new RequestLog<DestinationRequest>();
  /** Get streams by requested path. */
  readonly gets = new SenderTable();
  /** GetProfile streams by requested path. */
  readonly profiles = new SenderTable();

  static async start(opts: { tls?: FakeTls } = {}): Promise<FakeDestination> {
    const fake = new FakeDestination(opts.tls);
    await fake.listen(0);
    return fake;
  }

  get requests(): readonly DestinationRequest[] {
    return this.log.items;
  }

  getSender(authority: string): StreamSender {
    return this.gets.sender(authority);
  }

  profileSender(path: string): StreamSender {
    return this.profiles.sender(path);
  }

  protected override register(server: grpc.Server): void {
    const table = (method: DestinationRequest['method']) => (method === 'Get' ? this.gets : this.profiles);
    const handler = (method: DestinationRequest['method']) => (call: Call<Wire>) => {
      const req = call.request;
      const path = wireString(req.path);
      this.log.add({
        method,
        scheme: wireString(req.scheme),
        path,
        contextToken: wireString(req.contextToken),
        metadata: call.metadata,
        peerSan: peerSan(call),
      });
      table(method).serve(path, call);
    };
    server.addService(serviceDefinition('io.linkerd.proxy.destination.Destination'), {
      Get: handler('Get'),
      GetProfile: handler('GetProfile'),
    });
  }

  protected override cutStreams(): void {
    this.gets.cutAll();
    this.profiles.cutAll();
  }
}

// A SPIFFE Workload API (FetchX509SVID only) on a unix socket, driven by the test: push, fail or drop.
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { protoType } from '../../src/proto/load.js';

export interface FakeSvid {
  readonly spiffeId: string;
  /** concatenated DER, leaf first */
  readonly x509Svid: Uint8Array;
  /** PKCS#8 DER */
  readonly x509SvidKey: Uint8Array;
  readonly bundle?: Uint8Array;
}

export interface FakeSvidResponse {
  readonly svids: readonly FakeSvid[];
  readonly crl?: readonly Uint8Array[];
  readonly federatedBundles?: Readonly<Record<string, Uint8Array>>;
}

/** One FetchX509SVID call as the server saw it. */
export interface RecordedCall {
  readonly metadata: grpc.Metadata;
  readonly stream: grpc.ServerWritableStream<Buffer, FakeSvidResponse>;
  ended: boolean;
}

export interface FakeWorkloadApiOptions {
  /** Behave like the real agent: a call without `workload.spiffe.io: true` fails InvalidArgument (default true). */
  readonly requireHeader?: boolean;
  /** Sent to every new call as soon as it arrives. */
  readonly initial?: FakeSvidResponse;
}

export class FakeWorkloadApi {
  readonly calls: RecordedCall[] = [];
  /** What each new call gets first (updated by `push`, so a reconnecting client sees the latest). */
  latest: FakeSvidResponse | undefined;
  private readonly waiters: { n: number; resolve: () => void }[] = [];

  private constructor(
    private readonly server: grpc.Server,
    private readonly dir: string,
    readonly socketPath: string,
  ) {}

  static async start(opts: FakeWorkloadApiOptions = {}): Promise<FakeWorkloadApi> {
    const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-spire-'));
    const socketPath = path.join(dir, 'agent.sock');
    const server = new grpc.Server();
    const api = new FakeWorkloadApi(server, dir, socketPath);
    api.latest = opts.initial;
    const requestType = protoType('X509SVIDRequest');
    const responseType = protoType('X509SVIDResponse');
    const definition: grpc.ServiceDefinition = {
      FetchX509SVID: {
        path: '/SpiffeWorkloadAPI/FetchX509SVID',
        requestStream: false,
        responseStream: true,
        requestSerialize: (v: unknown) => Buffer.from(requestType.encode(requestType.fromObject(v as object)).finish()),
        requestDeserialize: (b: Buffer) => requestType.decode(b),
        responseSerialize: (v: FakeSvidResponse) => Buffer.from(responseType.encode(responseType.fromObject(v)).finish()),
        responseDeserialize: (b: Buffer) => responseType.decode(b),
      },
    };
    server.addService(definition, {
      FetchX509SVID: (stream: grpc.ServerWritableStream<Buffer, FakeSvidResponse>) => {
        const call: RecordedCall = { metadata: stream.metadata, stream, ended: false };
        api.calls.push(call);
        stream.on('cancelled', () => { call.ended = true; });
        api.notify();
        const header = stream.metadata.get('workload.spiffe.io');
        if ((opts.requireHeader ?? true) && !(header.length === 1 && header[0] === 'true')) {
          call.ended = true;
          stream.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'security header missing from request' });
          return;
        }
        if (api.latest) stream.write(api.latest);
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
    });
    return api;
  }

  private notify(): void {
    for (const w of [...this.waiters]) {
      if (this.calls.length >= w.n) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves once `n` calls have arrived in total. */
  waitForCalls(n: number): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  private open(): RecordedCall[] {
    return this.calls.filter((c) => !c.ended);
  }

  /** Sends a response on every open stream and remembers it for later calls. */
  push(response: FakeSvidResponse): void {
    this.latest = response;
    for (const c of this.open()) c.stream.write(response);
  }

  /** Ends every open stream with the given non-OK status. */
  fail(code: grpc.status, details = 'failed by test'): void {
    for (const c of this.open()) {
      c.ended = true;
      c.stream.emit('error', { code, details });
    }
  }

  /** Ends every open stream cleanly (status OK), as an agent restart would. */
  drop(): void {
    for (const c of this.open()) {
      c.ended = true;
      c.stream.end();
    }
  }

  async close(): Promise<void> {
    for (const c of this.open()) c.ended = true;
    this.server.forceShutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

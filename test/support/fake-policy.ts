// The policy controller's two APIs for tests: inbound WatchPort/GetPort by port, outbound Watch/Get by target.
import * as grpc from '@grpc/grpc-js';
import { serviceDefinition, tcpText, wireString } from './control-plane-codec.js';
import type { Wire } from './control-plane-codec.js';
import { FakeControlPlaneServer, RequestLog, SenderTable, peerSan } from './fake-destination.js';
import type { FakeTls, StreamSender } from './fake-destination.js';

export interface InboundRequest {
  readonly method: 'GetPort' | 'WatchPort';
  readonly workload: string;
  readonly port: number;
  readonly metadata: grpc.Metadata;
  readonly peerSan: string | undefined;
}

export interface OutboundRequest {
  readonly method: 'Get' | 'Watch';
  readonly sourceWorkload: string;
  /** The sender key: `ip:port` (IPv6 bracketed) for an address target, else the authority. */
  readonly target: string;
  readonly addr: Wire | undefined;
  readonly authority: string | undefined;
  readonly metadata: grpc.Metadata;
  readonly peerSan: string | undefined;
}

export interface FakePolicyOptions {
  readonly tls?: FakeTls;
  /** Serve InboundServerPolicies (default true); without it calls fail UNIMPLEMENTED, as on old control planes. */
  readonly inbound?: boolean;
  /** Serve OutboundPolicies (default true). */
  readonly outbound?: boolean;
}

type Call = grpc.ServerWritableStream<Wire, Wire>;
type UnaryCall = grpc.ServerUnaryCall<Wire, Wire>;

/**
 * `io.linkerd.proxy.inbound.InboundServerPolicies` and `io.linkerd.proxy.outbound.OutboundPolicies`
 * driven by the test through `inbound(port)` and `outbound(target)` senders. Policies are full
 * replacements, so `publish` is the usual way to feed them.
 */
export class FakePolicy extends FakeControlPlaneServer {
  readonly inboundLog = new RequestLog<InboundRequest>();
  readonly outboundLog = new RequestLog<OutboundRequest>();
  /** Inbound streams by port (decimal string keys). */
  readonly ports = new SenderTable();
  /** Outbound streams by target. */
  readonly targets = new SenderTable();

  private constructor(tls: FakeTls | undefined, private readonly serves: { inbound: boolean; outbound: boolean }) {
    super(tls);
  }

  static async start(opts: FakePolicyOptions = {}): Promise<FakePolicy> {
    const fake = new FakePolicy(opts.tls, { inbound: opts.inbound ?? true, outbound: opts.outbound ?? true });
    await fake.listen(0);
    return fake;
  }

  get inboundRequests(): readonly InboundRequest[] {
    return this.inboundLog.items;
  }

  get outboundRequests(): readonly OutboundRequest[] {
    return this.outboundLog.items;
  }

  inbound(port: number): StreamSender {
    return this.ports.sender(String(port));
  }

  /** `ip:port` (IPv6 as `[addr]:port`) or an authority, exactly as the proxy will send it. */
  outbound(target: string): StreamSender {
    return this.targets.sender(target);
  }

  protected override register(server: grpc.Server): void {
    if (this.serves.inbound) {
      const record = (method: InboundRequest['method'], call: Call | UnaryCall): string => {
        const port = Number(call.request.port ?? 0);
        this.inboundLog.add({ method, workload: wireString(call.request.workload), port, metadata: call.metadata, peerSan: peerSan(call) });
        return String(port);
      };
      server.addService(serviceDefinition('io.linkerd.proxy.inbound.InboundServerPolicies'), {
        WatchPort: (call: Call) => this.ports.serve(record('WatchPort', call), call),
        GetPort: (call: UnaryCall, cb: grpc.sendUnaryData<Wire>) => this.ports.serveUnary(record('GetPort', call), cb),
      });
    }
    if (this.serves.outbound) {
      const record = (method: OutboundRequest['method'], call: Call | UnaryCall): string => {
        const req = call.request;
        const addr = req.addr as Wire | undefined;
        const authority = typeof req.authority === 'string' ? req.authority : undefined;
        const target = tcpText(addr) ?? authority ?? '';
        this.outboundLog.add({
          method,
          sourceWorkload: wireString(req.sourceWorkload),
          target,
          addr,
          authority,
          metadata: call.metadata,
          peerSan: peerSan(call),
        });
        return target;
      };
      server.addService(serviceDefinition('io.linkerd.proxy.outbound.OutboundPolicies'), {
        Watch: (call: Call) => this.targets.serve(record('Watch', call), call),
        Get: (call: UnaryCall, cb: grpc.sendUnaryData<Wire>) => this.targets.serveUnary(record('Get', call), cb),
      });
    }
  }

  protected override cutStreams(): void {
    this.ports.cutAll();
    this.targets.cutAll();
  }
}

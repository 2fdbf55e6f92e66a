// Test-side codec for the Linkerd control-plane APIs: grpc-js method definitions and clients built from our protobufjs schemas.
import * as grpc from '@grpc/grpc-js';
import { ipv6Value } from '../../src/discovery/net-decode.js';
import { isIPv4, isIPv6 } from 'node:net';
import type protobuf from 'protobufjs';
import { protoType } from '../../src/proto/load.js';
import { serviceDefinition } from '../../src/devmesh/grpc/service-definition.js';

/** A message as plain data: the shape `Type.fromObject` accepts and `DECODE_OPTIONS` produces. */
export type Wire = Record<string, unknown>;

/**
 * How every control-plane message is turned into plain data, here and in the proxy's decoders.
 *
 * - `longs: String`: 64-bit integers arrive as decimal strings. Not `Number`: the halves of an
 *   `io.linkerd.proxy.net.IPv6` are fixed64 and most real addresses (e.g. fd00:10:244:1::5) need
 *   all 64 bits, which a double cannot hold. Read them with `BigInt(s)`; Duration `seconds` with
 *   `Number(s)`.
 * - `enums: String`: enum values by name (`'GET'`, `'HTTPS'`).
 * - `bytes: Buffer`: bytes fields stay Buffers (protobufjs decodes Buffer input into Buffers).
 * - `defaults: false`: a field at its proto3 default is *absent*: missing string = `''`,
 *   number = 0, bool = false, repeated = `[]`, map = `{}`, message = unset. Oneof members are
 *   the exception: they carry presence, so `{ ipv4: 0 }` (0.0.0.0) and `{ registered: 'GET' }`
 *   survive.
 * - `oneofs: true`: each set oneof also appears as a property naming its arm, e.g.
 *   `ProxyProtocol.kind === 'detect'`, `IPAddress.ip === 'ipv4'`. An arm this schema does not
 *   know leaves the oneof property absent.
 */
export const DECODE_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: false,
  oneofs: true,
};

/** A decoded string field: absent means the empty string. */
export function wireString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function encodeMessage(typeName: string, value: Wire): Buffer {
  const type = protoType(typeName);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

export function decodeMessage(typeName: string, bytes: Uint8Array): Wire {
  const type = protoType(typeName);
  return type.toObject(type.decode(bytes), DECODE_OPTIONS);
}

/** grpc-js definitions for every method of a service in our schemas (the dev control plane's). */
export { serviceDefinition };

/** The outcome of a call, as a client sees it. */
export interface CallStatus {
  readonly code: grpc.status;
  readonly details: string;
}

/** A minimal client for one control-plane service (tests only; the proxy has its own). */
export class ControlPlaneClient {
  private readonly client: grpc.Client;
  private readonly methods: grpc.ServiceDefinition;

  constructor(serviceName: string, address: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
    this.methods = serviceDefinition(serviceName);
    this.client = new grpc.Client(address, credentials, options);
  }

  serverStream(method: string, request: Wire, metadata = new grpc.Metadata()): grpc.ClientReadableStream<Wire> {
    const m = this.method(method);
    return this.client.makeServerStreamRequest<Wire, Wire>(m.path, m.requestSerialize, m.responseDeserialize, request, metadata);
  }

  unary(method: string, request: Wire, metadata = new grpc.Metadata()): Promise<Wire> {
    const m = this.method(method);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<Wire, Wire>(m.path, m.requestSerialize, m.responseDeserialize, request, metadata, (err, value) => {
        if (err) reject(err);
        else resolve(value ?? {});
      });
    });
  }

  close(): void {
    this.client.close();
  }

  private method(name: string): grpc.MethodDefinition<Wire, Wire> {
    const m = this.methods[name] as grpc.MethodDefinition<Wire, Wire> | undefined;
    if (!m) throw new Error(`no method ${name}`);
    return m;
  }
}

/** Buffers a client stream's messages and its final status, so tests can await either. */
export class StreamReader {
  readonly messages: Wire[] = [];
  status: CallStatus | undefined;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly stream: grpc.ClientReadableStream<Wire>) {
    stream.on('data', (m: Wire) => {
      this.messages.push(m);
      this.wake();
    });
    // 'status' always comes last; 'error' repeats it for non-OK codes and must be consumed.
    stream.on('error', () => {});
    stream.on('status', (s: grpc.StatusObject) => {
      this.status = { code: s.code, details: s.details };
      this.wake();
    });
  }

  /** Resolves with the n-th message (1-based), failing if the call ends first. */
  async message(n: number): Promise<Wire> {
    await this.until(() => this.messages.length >= n || this.status !== undefined);
    const m = this.messages[n - 1];
    if (m === undefined) throw new Error(`stream ended (${this.status?.code}: ${this.status?.details}) before message ${n}`);
    return m;
  }

  async ended(): Promise<CallStatus> {
    await this.until(() => this.status !== undefined);
    return this.status as CallStatus;
  }

  cancel(): void {
    this.stream.cancel();
  }

  private until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (ready()) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

// ---- Building and reading the net.* messages --------------------------------------------------

/**
 * `io.linkerd.proxy.net.IPAddress` for an IP literal, in the decoded shape (zero IPv6 halves
 * left out, as DECODE_OPTIONS would) so it can serve as input and as expected output.
 */
export function ipAddress(text: string): Wire {
  if (isIPv4(text)) return { ipv4: text.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) };
  if (!isIPv6(text)) throw new Error(`not an IP literal: ${text}`);
  const value = ipv6Value(text);
  const first = value >> 64n;
  const last = value & 0xffffffffffffffffn;
  return { ipv6: { ...(first === 0n ? {} : { first: first.toString() }), ...(last === 0n ? {} : { last: last.toString() }) } };
}

export function tcpAddress(ip: string, port: number): Wire {
  return { ip: ipAddress(ip), port };
}

/** `io.linkerd.proxy.net.IPNetwork` for `addr/len`. */
export function ipNetwork(cidr: string): Wire {
  const slash = cidr.lastIndexOf('/');
  return { ip: ipAddress(cidr.slice(0, slash)), prefixLen: Number(cidr.slice(slash + 1)) };
}

/** Canonical text of a decoded IPAddress, or undefined when neither arm is set. */
export function ipText(wire: Wire | undefined): string | undefined {
  if (wire?.ipv4 !== undefined) {
    const v = Number(wire.ipv4);
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  }
  const v6 = wire?.ipv6 as { first?: string | number; last?: string | number } | undefined;
  if (v6 === undefined) return undefined;
  const value = (BigInt(v6.first ?? 0) << 64n) | BigInt(v6.last ?? 0);
  const hextets: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) hextets.push(((value >> shift) & 0xffffn).toString(16));
  // The URL parser prints IPv6 in the usual compressed, lower-case form.
  return new URL(`http://[${hextets.join(':')}]/`).hostname.slice(1, -1);
}

/** `ip:port` (IPv6 bracketed) of a decoded TcpAddress. */
export function tcpText(wire: Wire | undefined): string | undefined {
  const ip = ipText(wire?.ip as Wire | undefined);
  if (ip === undefined) return undefined;
  const port = Number(wire?.port ?? 0);
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** `google.protobuf.Duration` for a number of milliseconds. */
export function duration(ms: number): Wire {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}


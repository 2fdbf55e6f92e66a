// The opaque transport header (`transport.l5d.io/v1`): preface, 4-byte length and protobuf, encoded and decoded incrementally.
import type protobuf from 'protobufjs';
import { messageOf } from '../core/errors.js';
import { protoType } from '../proto/load.js';
import { isValidDnsName } from '../tls/dns-name.js';

/** The ALPN protocol a client offers, and the server selects, when a transport header follows. */
export const TRANSPORT_HEADER_ALPN = 'transport.l5d.io/v1';

/** The 23 ASCII bytes every header starts with. */
export const TRANSPORT_HEADER_PREFACE = 'transport.l5d.io/v1\r\n\r\n';

/** The reader's buffer: preface, length and message together must fit in it (as upstream's 64 KiB). */
export const TRANSPORT_HEADER_CAPACITY = 64 * 1024;

const PREFACE = Buffer.from(TRANSPORT_HEADER_PREFACE, 'latin1');
const PREFACE_LEN = PREFACE.length;
/** Preface plus the big-endian u32 message length. */
const FRAMING_LEN = PREFACE_LEN + 4;

/** The longest message length a header may declare. */
export const MAX_TRANSPORT_HEADER_MESSAGE_LEN = TRANSPORT_HEADER_CAPACITY - FRAMING_LEN;

export type SessionProtocol = 'http1' | 'http2';

export interface TransportHeader {
  /** The port the client meant to reach on this workload (1..65535). */
  readonly port: number;
  /** Set only on gateway connections: the host name to route by. */
  readonly name?: string;
  /** How the stream after the header is spoken; absent means opaque TCP. */
  readonly sessionProtocol?: SessionProtocol;
}

export type TransportHeaderFeed =
  /** More bytes are needed; `wanted` says how many at least. */
  | { readonly kind: 'incomplete' }
  /** The stream is not a valid header; the connection should be closed with `reason`. */
  | { readonly kind: 'error'; readonly reason: string }
  /** `rest` holds the bytes fed after the header (the start of the application stream). */
  | { readonly kind: 'header'; readonly header: TransportHeader; readonly rest: Buffer };

const INCOMPLETE: TransportHeaderFeed = Object.freeze({ kind: 'incomplete' });

let headerType: protobuf.Type | undefined;
function messageType(): protobuf.Type {
  headerType ??= protoType('transport.l5d.io.Header');
  return headerType;
}

/**
 * The bytes a client writes right after the TLS handshake. Throws RangeError for a port outside
 * 1..65535 or a name that is not a DNS name (the peer would refuse either).
 */
export function encodeTransportHeader(header: TransportHeader): Buffer {
  if (!isValidPort(header.port)) throw new RangeError(`transport header port must be 1..65535, not ${String(header.port)}`);
  if (header.name !== undefined && header.name !== '' && !isValidDnsName(header.name)) {
    throw new RangeError(`transport header name is not a DNS name: ${JSON.stringify(header.name)}`);
  }
  const type = messageType();
  const fields: Record<string, unknown> = { port: header.port };
  if (header.name !== undefined && header.name !== '') fields['name'] = header.name;
  if (header.sessionProtocol !== undefined) fields['sessionProtocol'] = { [header.sessionProtocol]: {} };
  const message = type.encode(type.fromObject(fields)).finish();
  if (message.length > MAX_TRANSPORT_HEADER_MESSAGE_LEN) throw new RangeError(`transport header message of ${message.length} bytes exceeds the peer's buffer`);
  const out = Buffer.allocUnsafe(FRAMING_LEN + message.length);
  PREFACE.copy(out, 0);
  out.writeUInt32BE(message.length, PREFACE_LEN);
  out.set(message, FRAMING_LEN);
  return out;
}

/**
 * Reads a header from chunks as they arrive. Chunks are kept, not joined, until the header is
 * complete, so a byte-at-a-time sender costs linear work. A wrong preface byte is an error as
 * soon as it arrives; so is a declared length that cannot fit TRANSPORT_HEADER_CAPACITY. Once
 * it has answered `error` or `header` the decoder is finished and must not be fed again.
 */
export class TransportHeaderDecoder {
  private chunks: Buffer[] = [];
  private have = 0;
  private prefaceMatched = 0;
  private messageLen: number | undefined;
  private finished = false;

  /** How many more bytes the decoder needs before it can answer; a reader never needs to read past the header. */
  get wanted(): number {
    if (this.finished) return 0;
    return this.messageLen === undefined ? FRAMING_LEN - this.have : FRAMING_LEN + this.messageLen - this.have;
  }

  /** Bytes fed so far. */
  get buffered(): number {
    return this.have;
  }

  feed(chunk: Buffer): TransportHeaderFeed {
    if (this.finished) throw new Error('transport header decoder already finished');
    for (let i = 0; i < chunk.length && this.prefaceMatched < PREFACE_LEN; i++) {
      if (chunk[i] !== PREFACE[this.prefaceMatched]) return this.fail('connection did not start with the transport header preface');
      this.prefaceMatched++;
    }
    if (chunk.length === 0) return INCOMPLETE;
    this.chunks.push(chunk);
    this.have += chunk.length;
    if (this.messageLen === undefined) {
      if (this.have < FRAMING_LEN) return INCOMPLETE;
      const len = this.lengthField();
      if (len > MAX_TRANSPORT_HEADER_MESSAGE_LEN) {
        return this.fail(`transport header length ${len} exceeds the ${TRANSPORT_HEADER_CAPACITY}-byte header buffer`);
      }
      this.messageLen = len;
    }
    const end = FRAMING_LEN + this.messageLen;
    if (this.have < end) return INCOMPLETE;
    const all = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.have);
    this.chunks = [];
    this.finished = true;
    const decoded = decodeHeaderMessage(all.subarray(FRAMING_LEN, end));
    if (typeof decoded === 'string') return { kind: 'error', reason: decoded };
    return { kind: 'header', header: decoded, rest: all.subarray(end) };
  }

  /** Why the connection fails if the peer's stream ends now (before a complete header). */
  endReason(): string {
    if (this.messageLen === undefined) {
      return this.have === 0
        ? 'connection closed before sending a transport header'
        : `connection closed after ${this.have} of the ${FRAMING_LEN} transport header preface and length bytes`;
    }
    return `connection closed after ${this.have - FRAMING_LEN} of ${this.messageLen} transport header message bytes`;
  }

  private fail(reason: string): TransportHeaderFeed {
    this.finished = true;
    this.chunks = [];
    return { kind: 'error', reason };
  }

  /** The u32 after the preface, which may straddle chunks. */
  private lengthField(): number {
    let value = 0;
    let offset = 0;
    let needed = 4;
    for (const c of this.chunks) {
      for (let i = 0; i < c.length && needed > 0; i++, offset++) {
        if (offset < PREFACE_LEN) continue;
        value = value * 256 + (c[i] ?? 0);
        needed--;
      }
      if (needed === 0) break;
    }
    return value;
  }
}

/**
 * Decodes the protobuf message (without preface or length). Returns the header, or the reason
 * it is refused: malformed wire data (truncated, bad UTF-8, wire types 6/7), a port outside
 * 1..65535, or a name that is not a DNS name. Unknown fields are skipped, as protobuf readers do.
 */
export function decodeHeaderMessage(bytes: Uint8Array): TransportHeader | string {
  let msg: { port?: number; name?: string; sessionProtocol?: { kind?: string } | null };
  try {
    msg = messageType().decode(bytes) as typeof msg;
  } catch (err) {
    return `malformed transport header message: ${messageOf(err)}`;
  }
  const port = msg.port ?? 0;
  if (!isValidPort(port)) return `invalid transport header port ${port}`;
  const name = msg.name ?? '';
  if (name !== '' && !isValidDnsName(name)) return `invalid transport header name ${JSON.stringify(name)}`;
  // The oneof getter names the member set last, as a protobuf reader keeps the last one.
  const kind = msg.sessionProtocol?.kind;
  const sessionProtocol: SessionProtocol | undefined = kind === 'http1' || kind === 'http2' ? kind : undefined;
  return {
    port,
    ...(name !== '' ? { name } : {}),
    ...(sessionProtocol !== undefined ? { sessionProtocol } : {}),
  };
}

function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

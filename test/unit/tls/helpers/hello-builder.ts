// Builds synthetic ClientHello records for parser edge cases (length fields can be overridden to lie).

export function u8(n: number): Buffer {
  return Buffer.from([n & 0xff]);
}

export function u16(n: number): Buffer {
  return Buffer.from([(n >> 8) & 0xff, n & 0xff]);
}

/** A vector with a u16 length prefix (or `length` if given, to lie). */
export function vec16(body: Buffer, length = body.length): Buffer {
  return Buffer.concat([u16(length), body]);
}

export function extension(type: number, data: Buffer, length = data.length): Buffer {
  return Buffer.concat([u16(type), u16(length), data]);
}

/** server_name extension with the given (name_type, name) entries. */
export function sniExtension(...entries: Array<string | { readonly type: number; readonly name: string | Buffer }>): Buffer {
  const list = Buffer.concat(entries.map((e) => {
    const { type, name } = typeof e === 'string' ? { type: 0, name: e } : e;
    const bytes = typeof name === 'string' ? Buffer.from(name, 'latin1') : name;
    return Buffer.concat([u8(type), vec16(bytes)]);
  }));
  return extension(0, vec16(list));
}

export function alpnExtension(...protocols: string[]): Buffer {
  const list = Buffer.concat(protocols.map((p) => Buffer.concat([u8(p.length), Buffer.from(p, 'latin1')])));
  return extension(16, vec16(list));
}

export interface HelloParts {
  readonly recordType?: number;
  readonly recordVersion?: readonly [number, number];
  readonly handshakeType?: number;
  readonly legacyVersion?: readonly [number, number];
  readonly sessionId?: Buffer;
  readonly cipherSuites?: Buffer;
  readonly compression?: Buffer;
  /** undefined ⇒ no extensions block at all (a bare TLS 1.2-style hello) */
  readonly extensions?: readonly Buffer[];
  readonly recordLength?: number;
  readonly handshakeLength?: number;
  readonly cipherSuitesLength?: number;
  readonly extensionsLength?: number;
}

export function buildClientHello(p: HelloParts = {}): Buffer {
  const suites = p.cipherSuites ?? Buffer.from([0x13, 0x01, 0x13, 0x02, 0x13, 0x03]);
  const sessionId = p.sessionId ?? Buffer.alloc(32, 0xab);
  const compression = p.compression ?? Buffer.from([0]);
  const parts = [
    Buffer.from(p.legacyVersion ?? [3, 3]),
    Buffer.alloc(32, 0x5a), // random
    u8(sessionId.length), sessionId,
    vec16(suites, p.cipherSuitesLength),
    u8(compression.length), compression,
  ];
  if (p.extensions !== undefined) {
    const exts = Buffer.concat([...p.extensions]);
    parts.push(vec16(exts, p.extensionsLength));
  }
  const body = Buffer.concat(parts);
  const hsLength = p.handshakeLength ?? body.length;
  const handshake = Buffer.concat([u8(p.handshakeType ?? 1), Buffer.from([(hsLength >> 16) & 0xff, (hsLength >> 8) & 0xff, hsLength & 0xff]), body]);
  const [major, minor] = p.recordVersion ?? [3, 1];
  return Buffer.concat([u8(p.recordType ?? 22), u8(major), u8(minor), u16(p.recordLength ?? handshake.length), handshake]);
}

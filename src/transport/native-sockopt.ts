// getsockopt/setsockopt on a Node socket's file descriptor through koffi (loaded lazily).
import { createRequire } from 'node:module';
import type net from 'node:net';
import type koffiModule from 'koffi';
import { ProxyError, messageOf } from '../core/errors.js';
import { loadEmbeddedAddon } from '../sea-assets.js';

type Koffi = typeof koffiModule;

export const SOL_SOCKET = 1;
export const SOL_IP = 0;
export const SOL_IPV6 = 41;
export const IPPROTO_TCP = 6;
export const SO_KEEPALIVE = 9;
export const TCP_NODELAY = 1;
export const TCP_KEEPIDLE = 4;
export const TCP_USER_TIMEOUT = 18;
/** SO_ORIGINAL_DST (IPv4) and IP6T_SO_ORIGINAL_DST (IPv6) share the number 80. */
export const SO_ORIGINAL_DST = 80;

/** koffi or libc could not be loaded (not Linux, or the prebuilt binding is missing). */
export class NativeUnavailableError extends ProxyError {
  constructor(reason: string, cause?: unknown) {
    super(`native socket options are unavailable: ${reason}`, 'native-unavailable', 'internal', { cause });
  }
}

/** A getsockopt/setsockopt call failed; `errno` is the symbolic name (e.g. ENOENT). */
export class SockoptError extends ProxyError {
  constructor(
    readonly call: 'getsockopt' | 'setsockopt',
    readonly errno: string,
    detail: string,
  ) {
    super(`${call}(${detail}) failed: ${errno}`, 'sockopt', 'internal');
  }
}

interface Bound {
  readonly koffi: Koffi;
  readonly getsockopt: (fd: number, level: number, name: number, val: Buffer, len: Uint32Array) => number;
  readonly setsockopt: (fd: number, level: number, name: number, val: Buffer, len: number) => number;
  readonly errnoNames: ReadonlyMap<number, string>;
}

let bound: Bound | undefined;
let loadFailure: NativeUnavailableError | undefined;

function bind(): Bound {
  if (bound !== undefined) return bound;
  if (loadFailure !== undefined) throw loadFailure;
  if (process.platform !== 'linux') {
    loadFailure = new NativeUnavailableError(`platform ${process.platform} is not Linux`);
    throw loadFailure;
  }
  try {
    // A synchronous require keeps lookups synchronous and lets this module import without koffi.
    // The single-file binary carries koffi's prebuilt addon itself (there is no node_modules).
    const required = (loadEmbeddedAddon('koffi.node') ?? createRequire(import.meta.url)('koffi')) as Koffi & { default?: Koffi };
    const koffi = required.default ?? required;
    const libc = koffi.load('libc.so.6');
    const errnoNames = new Map<number, string>();
    for (const [name, num] of Object.entries(koffi.os.errno)) {
      if (!errnoNames.has(num)) errnoNames.set(num, name);
    }
    bound = {
      koffi,
      getsockopt: libc.func('int getsockopt(int fd, int level, int name, void *val, void *len)') as Bound['getsockopt'],
      setsockopt: libc.func('int setsockopt(int fd, int level, int name, void *val, uint32_t len)') as Bound['setsockopt'],
      errnoNames,
    };
    return bound;
  } catch (err) {
    loadFailure = new NativeUnavailableError(`cannot load koffi/libc (${messageOf(err)})`, err);
    throw loadFailure;
  }
}

/** True when getsockopt/setsockopt can be called (Linux with koffi's binding present). */
export function nativeSockoptAvailable(): boolean {
  try {
    bind();
    return true;
  } catch {
    return false;
  }
}

/**
 * The OS file descriptor behind a TCP socket. Node keeps it on the private libuv handle;
 * this is the one place that reaches for it.
 */
export function socketFd(socket: net.Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new ProxyError(
      'socket has no file descriptor (it is closed, not yet connected, or not a plain TCP socket)',
      'no-fd',
    );
  }
  return fd;
}

function errnoName(b: Bound): string {
  const n = b.koffi.errno();
  return b.errnoNames.get(n) ?? `errno ${n}`;
}

/** Raw getsockopt: returns the bytes the kernel wrote (at most `size`). */
export function getsockoptBytes(fd: number, level: number, name: number, size: number): Buffer {
  const b = bind();
  const val = Buffer.alloc(size);
  const len = new Uint32Array([size]);
  if (b.getsockopt(fd, level, name, val, len) !== 0) {
    throw new SockoptError('getsockopt', errnoName(b), `fd ${fd}, level ${level}, option ${name}`);
  }
  return val.subarray(0, Math.min(size, len[0] ?? 0));
}

export function getsockoptInt(fd: number, level: number, name: number): number {
  const val = getsockoptBytes(fd, level, name, 4);
  if (val.length < 4) throw new SockoptError('getsockopt', 'EINVAL', `fd ${fd}, option ${name}: short value`);
  return readHostInt32(val);
}

export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  const b = bind();
  const val = Buffer.alloc(4);
  writeHostInt32(val, value);
  if (b.setsockopt(fd, level, name, val, 4) !== 0) {
    throw new SockoptError('setsockopt', errnoName(b), `fd ${fd}, level ${level}, option ${name}`);
  }
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads a C `int` in host byte order. */
export function readHostInt32(buf: Buffer, offset = 0): number {
  return littleEndian ? buf.readInt32LE(offset) : buf.readInt32BE(offset);
}

/** Reads a C `unsigned short` (e.g. sa_family) in host byte order. */
export function readHostUInt16(buf: Buffer, offset = 0): number {
  return littleEndian ? buf.readUInt16LE(offset) : buf.readUInt16BE(offset);
}

function writeHostInt32(buf: Buffer, value: number): void {
  if (littleEndian) buf.writeInt32LE(value, 0);
  else buf.writeInt32BE(value, 0);
}

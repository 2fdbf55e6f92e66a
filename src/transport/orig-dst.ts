// Where an accepted connection was originally headed: SO_ORIGINAL_DST, or an injected source.
import net from 'node:net';
import { ProxyError, messageOf } from '../core/errors.js';
import { normalizeMappedIPv4, socketAddr, type SocketAddr } from './addr.js';
import {
  SockoptError,
  SOL_IP,
  SOL_IPV6,
  SO_ORIGINAL_DST,
  getsockoptBytes,
  readHostUInt16,
  socketFd,
} from './native-sockopt.js';

export interface OrigDstSource {
  /** The original destination of an accepted socket; throws OrigDstError when unknown. */
  lookup(socket: net.Socket): SocketAddr;
}

/** The original destination could not be determined; the connection must be dropped. */
export class OrigDstError extends ProxyError {
  constructor(
    message: string,
    /** Symbolic errno of the failed getsockopt, e.g. ENOENT when no NAT entry exists. */
    readonly errno?: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'orig-dst', 'internal', options);
  }
}

const AF_INET = 2;
const AF_INET6 = 10;
const SOCKADDR_IN_LEN = 16;
const SOCKADDR_IN6_LEN = 28;

/**
 * Reads the pre-NAT destination recorded by conntrack for iptables-redirected sockets.
 * The family follows the client: IPv4 clients (including IPv4-mapped peers of a dual-stack
 * listener, whose conntrack entry is IPv4) use SOL_IP, IPv6 clients SOL_IPV6.
 */
export function linuxOrigDst(): OrigDstSource {
  return {
    lookup(socket) {
      const remote = socket.remoteAddress;
      if (remote === undefined) throw new OrigDstError('cannot read the original destination of a closed socket');
      const v6 = net.isIPv6(normalizeMappedIPv4(remote));
      let fd: number;
      try {
        fd = socketFd(socket);
      } catch (err) {
        throw new OrigDstError(`cannot read the original destination: ${messageOf(err)}`, undefined, { cause: err });
      }
      let raw: Buffer;
      try {
        raw = v6
          ? getsockoptBytes(fd, SOL_IPV6, SO_ORIGINAL_DST, SOCKADDR_IN6_LEN)
          : getsockoptBytes(fd, SOL_IP, SO_ORIGINAL_DST, SOCKADDR_IN_LEN);
      } catch (err) {
        const errno = err instanceof SockoptError ? err.errno : undefined;
        const what = v6 ? 'IP6T_SO_ORIGINAL_DST' : 'SO_ORIGINAL_DST';
        throw new OrigDstError(`${what} lookup failed: ${messageOf(err)}`, errno, { cause: err });
      }
      return parseSockaddr(raw);
    },
  };
}

/** Decodes a struct sockaddr_in / sockaddr_in6 (port and address in network byte order). */
export function parseSockaddr(raw: Buffer): SocketAddr {
  if (raw.length < 4) throw new OrigDstError(`sockaddr too short (${raw.length} bytes)`);
  const family = readHostUInt16(raw, 0);
  const port = raw.readUInt16BE(2);
  if (family === AF_INET) {
    if (raw.length < 8) throw new OrigDstError(`sockaddr_in too short (${raw.length} bytes)`);
    return socketAddr(`${raw[4]}.${raw[5]}.${raw[6]}.${raw[7]}`, port);
  }
  if (family === AF_INET6) {
    if (raw.length < 24) throw new OrigDstError(`sockaddr_in6 too short (${raw.length} bytes)`);
    return socketAddr(formatIPv6(raw.subarray(8, 24)), port);
  }
  throw new OrigDstError(`unexpected address family ${family} in original destination`);
}

/** RFC 5952 text form of 16 address bytes (longest zero run of ≥2 groups compressed). */
export function formatIPv6(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** An original-destination source computed by the caller, for tests and embedding. */
export function fixedOrigDst(fn: (socket: net.Socket) => SocketAddr): OrigDstSource {
  return { lookup: fn };
}

/**
 * Uses the accepted socket's local address: right when clients dial the proxy directly
 * (no iptables), as in tests and library use.
 */
export function localAddrOrigDst(): OrigDstSource {
  return {
    lookup(socket) {
      const { localAddress, localPort } = socket;
      if (localAddress === undefined || localPort === undefined) {
        throw new OrigDstError('cannot read the local address of a closed socket');
      }
      return socketAddr(localAddress, localPort);
    },
  };
}

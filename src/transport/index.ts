// The TCP edge of the proxy: addresses, listeners, connects, original destination, forwarding.
export {
  formatAddr,
  isLoopbackIp,
  localAddrOf,
  normalizeMappedIPv4,
  remoteAddrOf,
  socketAddr,
  type SocketAddr,
} from './addr.js';
export {
  ConnectError,
  connectTcp,
  connectWithBackoff,
  type BackoffConnectOptions,
  type ConnectOptions,
} from './connect.js';
export { abortSocket, forwardDuplex, type ForwardResult } from './duplex-forward.js';
export { ListenError, boundAddr, listenTcp, type ListenOptions } from './listen.js';
export { NativeUnavailableError, SockoptError, nativeSockoptAvailable } from './native-sockopt.js';
export {
  OrigDstError,
  fixedOrigDst,
  linuxOrigDst,
  localAddrOrigDst,
  type OrigDstSource,
} from './orig-dst.js';
export {
  applyAcceptOptions,
  applyConnectOptions,
  setUserTimeout,
  type SocketOptions,
} from './socket-options.js';

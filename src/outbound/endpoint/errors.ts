// Typed failures of outbound endpoint connections that the transport and TLS layers do not already name.
import { ProxyError } from '../../core/errors.js';
import { ConnectError } from '../../transport/connect.js';
import type { SocketAddr } from '../../transport/addr.js';

/** As upstream (io::ErrorKind::ConnectionRefused): outbound never dials the loopback interface. */
export const LOOPBACK_REFUSED_MESSAGE = 'Outbound proxy cannot initiate connections on the loopback interface';

/** A connection to a loopback address was refused before dialling (HTTP ⇒ 502, TCP ⇒ closed). */
export class LoopbackRefusedError extends ConnectError {
  constructor(addr: SocketAddr) {
    super(addr, 'ECONNREFUSED', LOOPBACK_REFUSED_MESSAGE);
  }
}

/** The endpoint needs mTLS but this proxy has no certificate yet (never once the listeners serve). */
export class NoClientCredentialsError extends ProxyError {
  constructor() {
    super('no identity credentials to originate mTLS with', 'identity not ready', 'internal');
  }
}

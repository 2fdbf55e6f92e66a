// The opaque-transport header codec: encoding per connection, and decoding what a peer sent.
import { TransportHeaderDecoder, encodeTransportHeader } from '../../src/transport/transport-header.js';
import type { MicroCase } from './harness.js';

export function transportHeaderCases(): MicroCase[] {
  const opaque = encodeTransportHeader({ port: 5432 });
  const http = Buffer.concat([encodeTransportHeader({ port: 8080, sessionProtocol: 'http1' }), Buffer.from('GET / HTTP/1.1\r\n')]);
  const gateway = encodeTransportHeader({ port: 8080, name: 'web.default.svc.cluster.local', sessionProtocol: 'http2' });
  return [
    { name: 'transport-header/encode port only', fn: () => encodeTransportHeader({ port: 5432 }) },
    { name: 'transport-header/encode port + name + session protocol', fn: () => encodeTransportHeader({ port: 8080, name: 'web.default.svc.cluster.local', sessionProtocol: 'http2' }) },
    { name: 'transport-header/decode port only', fn: () => new TransportHeaderDecoder().feed(opaque) },
    { name: 'transport-header/decode http1 + following bytes', fn: () => new TransportHeaderDecoder().feed(http) },
    { name: 'transport-header/decode port + name + session protocol', fn: () => new TransportHeaderDecoder().feed(gateway) },
  ];
}

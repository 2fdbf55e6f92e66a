// ClientHello parsing (SNI + ALPN) on a real ClientHello captured from Node's TLS client.
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { parseClientHello } from '../../src/tls/client-hello.js';
import type { MicroCase } from './harness.js';

/** Connects a TLS client to a plain TCP server and keeps the first bytes it sends. */
async function captureClientHello(): Promise<Buffer> {
  let resolveHello!: (b: Buffer) => void;
  const hello = new Promise<Buffer>((r) => (resolveHello = r));
  const server = net.createServer((s) => {
    s.once('data', (d: Buffer) => {
      resolveHello(d);
      s.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const client = tls.connect({ host: '127.0.0.1', port, servername: 'web.default.serviceaccount.identity.linkerd.cluster.local', ALPNProtocols: ['transport.l5d.io/v1', 'h2'], minVersion: 'TLSv1.3' });
  client.on('error', () => undefined);
  const bytes = await hello;
  client.destroy();
  server.close();
  return bytes;
}

export async function clientHelloCases(): Promise<MicroCase[]> {
  const hello = await captureClientHello();
  const plain = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  return [
    { name: `tls/parse ClientHello with SNI + ALPN (${hello.length} B)`, fn: () => parseClientHello(hello) },
    { name: 'tls/parse not-TLS first bytes', fn: () => parseClientHello(plain) },
  ];
}

// A loopback port nothing listens on (bound, then released).
import { once } from 'node:events';
import net from 'node:net';

export async function closedPortOf(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

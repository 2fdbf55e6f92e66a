// Before the loopback layout starts: every address it binds must be free, and a taken one is named with what it was for.
import net from 'node:net';
import { errnoOf } from '../core/errors.js';

export interface Binding {
  readonly host: string;
  readonly port: number;
  /** What the demo would run there, e.g. "the VM's proxy (inbound)". */
  readonly what: string;
}

/** Why `b` cannot be bound right now, or undefined when it can. */
export function probeBinding(b: Binding): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err) => {
      const code = errnoOf(err);
      const why =
        code === 'EADDRINUSE'
          ? 'is already in use (another demo still running? see: ss -ltnp)'
          : code === 'EADDRNOTAVAIL'
            ? 'is not an address of this machine (the loopback layout needs all of 127.0.0.0/8 on lo, as Linux has)'
            : code === 'EACCES'
              ? 'may not be bound by this user'
              : `cannot be bound (${code ?? err.message})`;
      resolve(`${b.host}:${b.port} for ${b.what} ${why}`);
    });
    server.listen({ host: b.host, port: b.port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Every problem with `bindings`, one line each (empty when all are free). */
export async function unavailableBindings(bindings: readonly Binding[]): Promise<string[]> {
  const found = await Promise.all(bindings.map(probeBinding));
  return found.filter((p): p is string => p !== undefined);
}

// Loopback helpers: free ports, waiting for a listener, one small HTTP/1 GET.
import net from 'node:net';
import http from 'node:http';

const taken = new Set<number>();

/** A port free a moment ago on host, never handed out twice in this run (configs bind their own). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.on('error', reject);
      srv.listen(0, host, () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

/** Resolves once host:port accepts a TCP connection; rejects after timeoutMs or when alive() turns false. */
export async function waitForPort(port: number, opts: { host?: string; timeoutMs?: number; alive?: () => boolean; what?: string | (() => string) } = {}): Promise<void> {
  const host = opts.host ?? '127.0.0.1';
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  // Described lazily: a child's output is only worth quoting once it has failed.
  const what = (): string => (typeof opts.what === 'function' ? opts.what() : (opts.what ?? 'nothing'));
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (opts.alive !== undefined && !opts.alive()) throw new Error(`${what()} exited before listening on ${host}:${port}`);
    if (Date.now() > deadline) throw new Error(`${what()}: not listening on ${host}:${port} after ${opts.timeoutMs ?? 15_000} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** GET url once (no keep-alive); resolves with status and body. */
export function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

/** Retries GET url until it answers 200 (a mesh path may need a moment for discovery). */
export async function waitForHttp200(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await httpGet(url, 2000);
      if (r.status === 200) return;
      last = `status ${r.status}: ${r.body.slice(0, 200)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`GET ${url} never answered 200 (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

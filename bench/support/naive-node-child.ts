// The naive Node pair, one side per process: node:http/https servers forwarding with keep-alive Agents, and net/tls pipes for opaque TCP.
// argv[2]: JSON NaiveArgs. Prints {"http":port,"tcp":port} once listening.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

export interface NaiveArgs {
  readonly role: 'outbound' | 'inbound';
  readonly httpPort: number;
  readonly tcpPort: number;
  /** Where to send: the peer's (outbound) or the origin's (inbound) HTTP and TCP ports. */
  readonly upstreamHttp: number;
  readonly upstreamTcp: number | undefined;
  readonly certPath: string;
  readonly keyPath: string;
  readonly caPath: string;
  readonly serverName: string;
}

const a = JSON.parse(process.argv[2] ?? '{}') as NaiveArgs;
const tlsOpts = {
  cert: readFileSync(a.certPath),
  key: readFileSync(a.keyPath),
  ca: readFileSync(a.caPath),
  minVersion: 'TLSv1.3' as const,
};

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function forwardHeaders(raw: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set((String(raw.connection ?? '')).toLowerCase().split(',').map((s) => s.trim()));
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(raw)) if (!HOP_BY_HOP.has(k) && !named.has(k) && v !== undefined) out[k] = v;
  return out;
}

const agent =
  a.role === 'outbound'
    ? new https.Agent({ keepAlive: true, maxSockets: 256, ...tlsOpts, servername: a.serverName })
    : new http.Agent({ keepAlive: true, maxSockets: 256 });
const request = a.role === 'outbound' ? https.request : http.request;

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const up = request({ host: '127.0.0.1', port: a.upstreamHttp, method: req.method, path: req.url, headers: forwardHeaders(req.headers), agent }, (ures) => {
    res.writeHead(ures.statusCode ?? 502, forwardHeaders(ures.headers));
    ures.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
}

const server =
  a.role === 'outbound'
    ? http.createServer({ keepAliveTimeout: 300_000 }, handle)
    : https.createServer({ ...tlsOpts, requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 300_000 }, handle);
server.listen(a.httpPort, '127.0.0.1');

function pipeBoth(x: net.Socket, y: net.Socket): void {
  x.pipe(y);
  y.pipe(x);
  x.on('error', () => y.destroy());
  y.on('error', () => x.destroy());
}

if (a.upstreamTcp !== undefined) {
  const port = a.upstreamTcp;
  const tcp =
    a.role === 'outbound'
      ? net.createServer((s) => pipeBoth(s, tls.connect({ host: '127.0.0.1', port, ...tlsOpts, servername: a.serverName })))
      : tls.createServer({ ...tlsOpts, requestCert: true, rejectUnauthorized: true }, (s) => pipeBoth(s, net.connect({ host: '127.0.0.1', port })));
  tcp.listen(a.tcpPort, '127.0.0.1');
}
process.once('SIGTERM', () => process.exit(0));

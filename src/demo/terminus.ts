// The demo's applications: a bb-terminus-like HTTP server and a small HTTP client that reports what answered (`demo-app serve|get`).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

/** What the walkthrough's bb terminus answers. */
export interface TerminusReply {
  readonly requestUID: string;
  readonly payload: string;
}

/** Answers every request with `{"requestUID": …, "payload": text}`, like `bb terminus --response-text`. */
export function startTerminus(host: string, port: number, text: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    const body = JSON.stringify({ requestUID: `in:http-sid:terminus-grpc:-1-h1:${port}-${randomUUID()}`, payload: text } satisfies TerminusReply);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** One request's outcome, as `demo-app get` prints it (one JSON object per line). */
export interface GetResult {
  readonly status: number;
  /** The terminus payload, or the first 200 characters of any other body. */
  readonly payload: string;
  readonly error?: string;
}

/** A proxy's outbound listener to send through, as `host:port`. */
export interface Via {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT` (IPv6 in brackets), or undefined. */
export function parseVia(text: string): Via | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/**
 * GET `url` from the proxy at `via` instead of the URL's host, as an app configured with an
 * ingress-mode proxy does: the request keeps the URL's Host and names the destination in
 * `l5d-dst-override` (`host:port`, port 80 when the URL has none).
 */
function getVia(url: URL, via: Via, timeoutMs: number): Promise<{ status: number; text: string }> {
  const port = url.port === '' ? 80 : Number(url.port);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: via.host, port: via.port, path: `${url.pathname}${url.search}`, headers: { host: url.host, 'l5d-dst-override': `${url.hostname}:${port}` }, signal: AbortSignal.timeout(timeoutMs), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end();
  });
}

async function fetchText(url: string, via: Via | undefined, timeoutMs: number): Promise<{ status: number; text: string }> {
  if (via !== undefined) return getVia(new URL(url), via, timeoutMs);
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, text: await res.text() };
}

async function getOnce(url: string, via: Via | undefined, timeoutMs: number): Promise<GetResult> {
  try {
    const { status, text } = await fetchText(url, via, timeoutMs);
    let payload = text.slice(0, 200);
    try {
      const j = JSON.parse(text) as Partial<TerminusReply>;
      if (typeof j.payload === 'string') payload = j.payload;
    } catch {
      // not the terminus: keep the text
    }
    return { status, payload };
  } catch (err) {
    const e = err as { code?: string; message: string; cause?: { code?: string; message?: string } };
    return { status: 0, payload: '', error: e.cause?.code ?? e.cause?.message ?? e.code ?? e.message };
  }
}

const USAGE = `usage: linkerd2-proxy-ts demo-app serve --port N --text TEXT [--host H]
       linkerd2-proxy-ts demo-app get URL [--count N] [--concurrency C] [--timeout-ms MS] [--raw] [--via HOST:PORT]
  --raw prints the body of one response as it is (exit 1 unless 2xx)
  --via sends to a proxy's outbound listener (ingress mode) with l5d-dst-override: <URL host>:<port>,
        e.g. demo-app get http://legacy-app.mixed-env.svc.cluster.local/ --via 127.18.2.2:4140
`;

/** `demo-app serve` runs until killed; `demo-app get` prints one JSON line per request and exits 0. */
export async function runDemoAppCli(args: readonly string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [mode, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        text: { type: 'string' },
        count: { type: 'string' },
        'timeout-ms': { type: 'string' },
        concurrency: { type: 'string' },
        raw: { type: 'boolean' },
        via: { type: 'string' },
      },
    });
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 64;
  }
  const v = parsed.values;
  if (mode === 'serve') {
    const port = Number(v.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535 || v.text === undefined) {
      err(`demo-app serve needs --port (1-65535) and --text\n${USAGE}`);
      return 64;
    }
    await startTerminus(v.host ?? '0.0.0.0', port, v.text);
    out(`listening on ${v.host ?? '0.0.0.0'}:${port}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    return 0;
  }
  if (mode === 'get') {
    const url = parsed.positionals[0];
    const count = v.count === undefined ? 1 : Number(v.count);
    const timeoutMs = v['timeout-ms'] === undefined ? 5000 : Number(v['timeout-ms']);
    if (url === undefined || !Number.isInteger(count) || count < 1 || !Number.isFinite(timeoutMs)) {
      err(`demo-app get needs a URL, and --count a positive integer\n${USAGE}`);
      return 64;
    }
    const via = v.via === undefined ? undefined : parseVia(v.via);
    if (v.via !== undefined && via === undefined) {
      err(`--via needs HOST:PORT, not ${JSON.stringify(v.via)}\n${USAGE}`);
      return 64;
    }
    if (v.raw === true) {
      const res = await fetchText(url, via, timeoutMs).catch(() => undefined);
      if (res === undefined) return 1;
      out(res.text);
      return res.status >= 200 && res.status < 300 ? 0 : 1;
    }
    const concurrency = v.concurrency === undefined ? 1 : Number(v.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      err(`--concurrency must be a positive integer\n${USAGE}`);
      return 64;
    }
    let started = 0;
    const worker = async (): Promise<void> => {
      while (started < count) {
        started++;
        out(JSON.stringify(await getOnce(url, via, timeoutMs)) + '\n');
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return 0;
  }
  err(USAGE);
  return 64;
}

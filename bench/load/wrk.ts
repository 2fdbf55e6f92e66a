// Closed-loop HTTP/1 loads with wrk: keep-alive max throughput, a new connection per request, 1 MiB bodies both ways.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runToEnd } from '../support/children.js';
import type { Endpoint } from '../configs/types.js';

export type WrkMode = 'keepalive' | 'new-conn' | 'body';

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly bytesRead: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly latencyUs: { readonly p50: number; readonly p99: number; readonly p999: number };
}

export const BODY_BYTES = 1024 * 1024;

/** wrk's Lua hooks: the request shape per mode, and a JSON summary (with p99.9) when done. */
function script(mode: WrkMode): string {
  const request = {
    keepalive: '',
    'new-conn': 'wrk.headers["Connection"] = "close"\n',
    body: `wrk.method = "POST"\nwrk.path = "/big"\nwrk.body = string.rep("b", ${BODY_BYTES})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`,
  }[mode];
  return `${request}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d,"p999":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
`;
}

const scripts = new Map<string, string>();

function scriptPath(dir: string, mode: WrkMode): string {
  const key = `${dir}|${mode}`;
  let p = scripts.get(key);
  if (p === undefined) {
    p = path.join(dir, `wrk-${mode}.lua`);
    writeFileSync(p, script(mode));
    scripts.set(key, p);
  }
  return p;
}

export interface WrkOptions {
  readonly wrk: string;
  readonly dir: string;
  readonly mode: WrkMode;
  readonly connections: number;
  readonly seconds: number;
  /** Command prefix, e.g. `ip netns exec NS`. */
  readonly prefix?: readonly string[];
}

export async function runWrk(ep: Endpoint, o: WrkOptions): Promise<WrkResult> {
  const urlPath = o.mode === 'body' ? '/big' : '/';
  const args = ['-t1', `-c${o.connections}`, `-d${Math.max(1, Math.round(o.seconds))}s`, '--timeout', '5s', '-s', scriptPath(o.dir, o.mode), `http://${ep.host}:${ep.port}${urlPath}`];
  const [cmd, ...rest] = [...(o.prefix ?? []), o.wrk, ...args];
  const { stdout } = await runToEnd('wrk', cmd!, rest, { timeoutMs: (o.seconds + 30) * 1000 });
  const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout.slice(-1000)}`);
  const j = JSON.parse(line.slice('WRKJSON '.length)) as Record<string, number>;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  return {
    requests: j.requests!,
    seconds: j.duration_us! / 1e6,
    bytesRead: j.bytes!,
    errors: j.connect! + j.read! + j.write! + j.timeout!,
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    latencyUs: { p50: j.p50!, p99: j.p99!, p999: j.p999! },
  };
}

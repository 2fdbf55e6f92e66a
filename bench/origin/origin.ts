// The origin every path ends at: nginx (one worker) when installed, else a node:http server; plus an iperf3 server.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { startChild, type Child } from '../support/children.js';
import { freePort, waitForPort, waitForHttp200 } from '../support/net.js';
import { installHint, type Tools } from '../support/tools.js';
import type { Origin } from '../configs/types.js';
import { BODY_BYTES } from '../load/wrk.js';

export const SMALL_BODY = 'hello from the bench origin\n';

export interface RunningOrigin {
  readonly origin: Origin;
  readonly children: readonly Child[];
}

function nginxOriginConf(dir: string, port: number, echo: string): string {
  return `load_module ${echo};
worker_processes 1;
master_process off;
daemon off;
pid ${dir}/origin.pid;
error_log stderr error;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path ${dir}/client-body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = / { return 200 "${SMALL_BODY.replace('\n', '\\n')}"; }
    # The whole request body is read before the answer starts, as an application that uses it would
    # (answering early makes streaming proxies drop the connection). POST to a static file answers
    # 405; error_page turns that into the file.
    location = /big {
      client_max_body_size 4m;
      client_body_buffer_size 2m;
      echo_read_request_body;
      echo_exec /big.bin;
    }
    location = /big.bin {
      internal;
      root ${dir};
      error_page 405 =200 $uri;
    }
  }
}
`;
}

/** `ports`: fixed ports (inside the bench's network namespace, where the manifests name them); default any free ones. */
export async function startOrigin(tools: Tools, scratch: string, root: string, preferNode: boolean, ports?: { http: number; tcp: number }): Promise<RunningOrigin> {
  const dir = path.join(scratch, 'origin');
  mkdirSync(dir, { recursive: true });
  const httpPort = ports?.http ?? (await freePort());
  const children: Child[] = [];
  let kind: string;
  if (tools.nginx.path !== undefined && tools.nginxEcho.path !== undefined && !preferNode) {
    writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(BODY_BYTES, 'r'));
    const conf = path.join(dir, 'nginx.conf');
    writeFileSync(conf, nginxOriginConf(dir, httpPort, tools.nginxEcho.path));
    const c = startChild('origin nginx', tools.nginx.path, ['-p', dir, '-c', conf, '-e', 'stderr']);
    children.push(c);
    kind = 'nginx (1 worker)';
    await waitForPort(httpPort, { alive: () => c.running, what: () => `origin nginx (${c.output()})` });
  } else {
    const c = startChild('origin node', process.execPath, [path.join(root, 'dist/bench/origin/node-origin-child.js'), String(httpPort)]);
    children.push(c);
    kind = preferNode ? 'node:http (--node-origin)' : `node:http (for the faster nginx origin: ${installHint([tools.nginx, tools.nginxEcho])})`;
    await waitForPort(httpPort, { alive: () => c.running, what: 'origin node' });
  }
  await waitForHttp200(`http://127.0.0.1:${httpPort}/`);
  let tcpPort: number | undefined;
  if (tools.iperf3.path !== undefined) {
    tcpPort = ports?.tcp ?? (await freePort());
    const c = startChild('iperf3 server', tools.iperf3.path, ['-s', '-4', '-B', '127.0.0.1', '-p', String(tcpPort)]);
    children.push(c);
    await waitForPort(tcpPort, { alive: () => c.running, what: 'iperf3 -s' });
  }
  return { origin: { host: '127.0.0.1', httpPort, tcpPort, kind }, children };
}

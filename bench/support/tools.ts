// Which external tools the bench can use, and the Debian packages that provide the missing ones.
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

export interface Tool {
  readonly name: string;
  /** The Debian package to `apt-get install` when it is missing. */
  readonly apt: string;
  /** Absolute path when found. */
  readonly path: string | undefined;
}

function which(cmd: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/local/sbin']);
  for (const dir of dirs) {
    if (dir === '') continue;
    const p = path.join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
export const NGINX_ECHO_MODULE = '/usr/lib/nginx/modules/ngx_http_echo_module.so';

export interface Tools {
  readonly wrk: Tool;
  readonly iperf3: Tool;
  readonly haproxy: Tool;
  readonly nginx: Tool;
  readonly openssl: Tool;
  readonly ip: Tool;
  readonly iptables: Tool;
  /** nginx's stream module (opaque TCP through the NGINX pair), a separate package. */
  readonly nginxStream: Tool;
  /** nginx's echo module: lets the origin read a whole request body before it answers. */
  readonly nginxEcho: Tool;
}

export function findTools(): Tools {
  const tool = (name: string, apt: string): Tool => ({ name, apt, path: which(name) });
  return {
    wrk: tool('wrk', 'wrk'),
    iperf3: tool('iperf3', 'iperf3'),
    haproxy: tool('haproxy', 'haproxy'),
    nginx: tool('nginx', 'nginx-light'),
    openssl: tool('openssl', 'openssl'),
    ip: tool('ip', 'iproute2'),
    iptables: tool('iptables', 'iptables'),
    nginxStream: { name: 'nginx stream module', apt: 'libnginx-mod-stream', path: existsSync(NGINX_STREAM_MODULE) ? NGINX_STREAM_MODULE : undefined },
    nginxEcho: { name: 'nginx echo module', apt: 'libnginx-mod-http-echo', path: existsSync(NGINX_ECHO_MODULE) ? NGINX_ECHO_MODULE : undefined },
  };
}

/** "apt-get install a b" for the given missing tools, or '' when none are missing. */
export function installHint(missing: readonly Tool[]): string {
  const pkgs = [...new Set(missing.filter((t) => t.path === undefined).map((t) => t.apt))];
  return pkgs.length === 0 ? '' : `apt-get install ${pkgs.join(' ')}`;
}

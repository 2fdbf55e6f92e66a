// An NGINX pair: outbound → mTLS (TLS 1.3, client certificates) → inbound → origin; upstream keep-alive; stream module for opaque TCP.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startChild, stopChild } from '../support/children.js';
import { freePort, waitForPort } from '../support/net.js';
import { installHint } from '../support/tools.js';
import type { BenchContext, MeshConfig } from './types.js';

interface Ports {
  outHttp: number;
  outTcp: number;
  inHttp: number;
  inTcp: number;
}

/** One process (master_process off), one worker's worth of work: the same budget as every other proxy here. */
function common(dir: string, streamModule: string | undefined): string {
  mkdirSync(dir, { recursive: true });
  return `${streamModule === undefined ? '' : `load_module ${streamModule};\n`}worker_processes 1;
master_process off;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 16384; }
`;
}

function httpCommon(dir: string): string {
  return `  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_max_body_size 0;
  client_body_temp_path ${dir}/client-body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # Stream bodies both ways, as the other proxies do (no request spooling, no temp files).
  proxy_request_buffering off;
  proxy_buffering off;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $http_host;
`;
}

function outboundConf(ctx: BenchContext, p: Ports, dir: string, stream: string | undefined): string {
  const { pki } = ctx;
  const tlsToPeer = (prefix: string): string => `    proxy_ssl_certificate ${pki.client.leaf.chainPath};
    proxy_ssl_certificate_key ${pki.client.leaf.keyPath};
    proxy_ssl_trusted_certificate ${pki.ca.certPath};
    proxy_ssl_verify on;
    proxy_ssl_verify_depth 2;
    proxy_ssl_name ${pki.server.name};
    proxy_ssl_server_name on;
    proxy_ssl_protocols TLSv1.3;
    proxy_ssl_session_reuse on;
    proxy_ssl_conf_command Groups X25519:P-256;
${prefix}`;
  return `${common(dir, stream)}http {
${httpCommon(dir)}  upstream peer { server 127.0.0.1:${p.inHttp}; keepalive 256; keepalive_requests 10000000; keepalive_timeout 300s; }
  server {
    listen 127.0.0.1:${p.outHttp} backlog=4096;
    location / {
      proxy_pass https://peer;
${tlsToPeer('')}    }
  }
}
${stream === undefined ? '' : `stream {
  server {
    listen 127.0.0.1:${p.outTcp};
    proxy_pass 127.0.0.1:${p.inTcp};
    proxy_ssl on;
${tlsToPeer('')}  }
}
`}`;
}

function inboundConf(ctx: BenchContext, p: Ports, dir: string, stream: string | undefined): string {
  const { pki, origin } = ctx;
  const tlsFromPeer = `    ssl_certificate ${pki.server.leaf.chainPath};
    ssl_certificate_key ${pki.server.leaf.keyPath};
    ssl_client_certificate ${pki.ca.certPath};
    ssl_verify_client on;
    ssl_protocols TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1;
`;
  return `${common(dir, stream)}http {
${httpCommon(dir)}  upstream app { server ${origin.host}:${origin.httpPort}; keepalive 256; keepalive_requests 10000000; keepalive_timeout 300s; }
  server {
    listen 127.0.0.1:${p.inHttp} ssl backlog=4096;
${tlsFromPeer}    location / { proxy_pass http://app; }
  }
}
${stream === undefined || origin.tcpPort === undefined ? '' : `stream {
  server {
    listen 127.0.0.1:${p.inTcp} ssl;
${tlsFromPeer}    proxy_pass ${origin.host}:${origin.tcpPort};
  }
}
`}`;
}

export const nginx: MeshConfig = {
  name: 'nginx',
  label: 'NGINX pair',
  unavailable: (ctx) => (ctx.tools.nginx.path === undefined ? `nginx not installed (${installHint([ctx.tools.nginx])})` : undefined),
  async start(ctx) {
    const bin = ctx.tools.nginx.path!;
    const stream = ctx.tools.nginxStream.path;
    const p: Ports = { outHttp: await freePort(), outTcp: await freePort(), inHttp: await freePort(), inTcp: await freePort() };
    const inDir = path.join(ctx.dir, 'nginx-inbound');
    const outDir = path.join(ctx.dir, 'nginx-outbound');
    writeFileSync(path.join(ctx.dir, 'nginx-inbound.conf'), inboundConf(ctx, p, inDir, stream));
    writeFileSync(path.join(ctx.dir, 'nginx-outbound.conf'), outboundConf(ctx, p, outDir, stream));
    const inbound = startChild('nginx inbound', bin, ['-p', inDir, '-e', 'stderr', '-c', path.join(ctx.dir, 'nginx-inbound.conf')]);
    const outbound = startChild('nginx outbound', bin, ['-p', outDir, '-e', 'stderr', '-c', path.join(ctx.dir, 'nginx-outbound.conf')]);
    await waitForPort(p.inHttp, { alive: () => inbound.running, what: () => `nginx inbound: ${inbound.output()}` });
    await waitForPort(p.outHttp, { alive: () => outbound.running, what: () => `nginx outbound: ${outbound.output()}` });
    const procs = [{ role: 'outbound', pgid: outbound.pid }, { role: 'inbound', pgid: inbound.pid }];
    const notes = ['master_process off (one process each); proxy_buffering and proxy_request_buffering off'];
    if (stream === undefined) notes.push(`no opaque TCP: the stream module is missing (${installHint([ctx.tools.nginxStream])})`);
    return {
      http: { host: '127.0.0.1', port: p.outHttp, procs },
      tcp: stream === undefined || ctx.origin.tcpPort === undefined ? undefined : { host: '127.0.0.1', port: p.outTcp, procs },
      notes,
      stop: async () => {
        await Promise.all([stopChild(outbound), stopChild(inbound)]);
      },
    };
  },
};

// A HAProxy pair: outbound (HTTP and TCP frontends) → mTLS (TLS 1.3, client certificates) → inbound → origin, upstream keep-alive.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startChild, stopChild } from '../support/children.js';
import { freePort, waitForPort } from '../support/net.js';
import { installHint } from '../support/tools.js';
import type { BenchContext, MeshConfig } from './types.js';

const GLOBAL = `global
  nbthread 1
  maxconn 8000
  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
  ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
  ssl-default-bind-options ssl-min-ver TLSv1.3
  ssl-default-server-options ssl-min-ver TLSv1.3
  ssl-default-bind-curves X25519:P-256
defaults
  mode http
  maxconn 8000
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
  option http-keep-alive
  http-reuse always
`;

interface Ports {
  outHttp: number;
  outTcp: number;
  inHttp: number;
  inTcp: number;
}

function outboundConf(ctx: BenchContext, p: Ports): string {
  const { pki } = ctx;
  const tlsToPeer = `ssl crt ${pki.client.combinedPath} ca-file ${pki.ca.certPath} verify required sni str(${pki.server.name}) verifyhost ${pki.server.name}`;
  return `${GLOBAL}
frontend out_http
  bind 127.0.0.1:${p.outHttp}
  default_backend peer_http
backend peer_http
  server peer 127.0.0.1:${p.inHttp} ${tlsToPeer} alpn http/1.1
frontend out_tcp
  mode tcp
  bind 127.0.0.1:${p.outTcp}
  default_backend peer_tcp
backend peer_tcp
  mode tcp
  server peer 127.0.0.1:${p.inTcp} ${tlsToPeer}
`;
}

function inboundConf(ctx: BenchContext, p: Ports): string {
  const { pki, origin } = ctx;
  const tlsFromPeer = `ssl crt ${pki.server.combinedPath} ca-file ${pki.ca.certPath} verify required`;
  return `${GLOBAL}
frontend in_http
  bind 127.0.0.1:${p.inHttp} ${tlsFromPeer} alpn http/1.1
  default_backend app_http
backend app_http
  server app ${origin.host}:${origin.httpPort}
${origin.tcpPort === undefined ? '' : `frontend in_tcp
  mode tcp
  bind 127.0.0.1:${p.inTcp} ${tlsFromPeer}
  default_backend app_tcp
backend app_tcp
  mode tcp
  server app ${origin.host}:${origin.tcpPort}
`}`;
}

export const haproxy: MeshConfig = {
  name: 'haproxy',
  label: 'HAProxy pair',
  unavailable: (ctx) => (ctx.tools.haproxy.path === undefined ? `haproxy not installed (${installHint([ctx.tools.haproxy])})` : undefined),
  async start(ctx) {
    const bin = ctx.tools.haproxy.path!;
    const p: Ports = { outHttp: await freePort(), outTcp: await freePort(), inHttp: await freePort(), inTcp: await freePort() };
    const inCfg = path.join(ctx.dir, 'haproxy-inbound.cfg');
    const outCfg = path.join(ctx.dir, 'haproxy-outbound.cfg');
    writeFileSync(inCfg, inboundConf(ctx, p));
    writeFileSync(outCfg, outboundConf(ctx, p));
    // -db: stay in the foreground, so the pid we watch is the one doing the work.
    const inbound = startChild('haproxy inbound', bin, ['-db', '-f', inCfg]);
    const outbound = startChild('haproxy outbound', bin, ['-db', '-f', outCfg]);
    await waitForPort(p.inHttp, { alive: () => inbound.running, what: () => `haproxy inbound: ${inbound.output()}` });
    await waitForPort(p.outHttp, { alive: () => outbound.running, what: () => `haproxy outbound: ${outbound.output()}` });
    const procs = [{ role: 'outbound', pgid: outbound.pid }, { role: 'inbound', pgid: inbound.pid }];
    return {
      http: { host: '127.0.0.1', port: p.outHttp, procs },
      tcp: ctx.origin.tcpPort === undefined ? undefined : { host: '127.0.0.1', port: p.outTcp, procs },
      notes: ['nbthread 1 per process; http-reuse always'],
      stop: async () => {
        await Promise.all([stopChild(outbound), stopChild(inbound)]);
      },
    };
  },
};

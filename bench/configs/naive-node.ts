// The naive Node pair: node:http + https.Agent keep-alive forwarding over mTLS, and net/tls pipes for opaque TCP.
import path from 'node:path';
import { startChild, stopChild } from '../support/children.js';
import { freePort, waitForPort } from '../support/net.js';
import type { NaiveArgs } from '../support/naive-node-child.js';
import type { MeshConfig } from './types.js';

export const naiveNode: MeshConfig = {
  name: 'naive-node',
  label: 'naive Node pair',
  unavailable: () => undefined,
  async start(ctx) {
    const { pki, origin } = ctx;
    const child = path.join(ctx.root, 'dist/bench/support/naive-node-child.js');
    const ports = { outHttp: await freePort(), outTcp: await freePort(), inHttp: await freePort(), inTcp: await freePort() };
    const inArgs: NaiveArgs = {
      role: 'inbound', httpPort: ports.inHttp, tcpPort: ports.inTcp, upstreamHttp: origin.httpPort, upstreamTcp: origin.tcpPort,
      certPath: pki.server.leaf.chainPath, keyPath: pki.server.leaf.keyPath, caPath: pki.ca.certPath, serverName: pki.server.name,
    };
    const outArgs: NaiveArgs = {
      ...inArgs, role: 'outbound', httpPort: ports.outHttp, tcpPort: ports.outTcp, upstreamHttp: ports.inHttp,
      upstreamTcp: origin.tcpPort === undefined ? undefined : ports.inTcp, certPath: pki.client.leaf.chainPath, keyPath: pki.client.leaf.keyPath,
    };
    const inbound = startChild('naive inbound', process.execPath, [child, JSON.stringify(inArgs)]);
    const outbound = startChild('naive outbound', process.execPath, [child, JSON.stringify(outArgs)]);
    await waitForPort(ports.inHttp, { alive: () => inbound.running, what: () => `naive inbound: ${inbound.output()}` });
    await waitForPort(ports.outHttp, { alive: () => outbound.running, what: () => `naive outbound: ${outbound.output()}` });
    const procs = [{ role: 'outbound', pgid: outbound.pid }, { role: 'inbound', pgid: inbound.pid }];
    return {
      http: { host: '127.0.0.1', port: ports.outHttp, procs },
      tcp: origin.tcpPort === undefined ? undefined : { host: '127.0.0.1', port: ports.outTcp, procs },
      notes: [],
      stop: async () => {
        await Promise.all([stopChild(outbound), stopChild(inbound)]);
      },
    };
  },
};

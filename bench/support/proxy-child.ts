// A proxy in its own process for benchmarks: every connection's original destination is argv[2].
import { startProxy } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { staticIdentity } from '../../src/identity/static-identity.js';
import { fixedOrigDst, socketAddr } from '../../src/transport/index.js';
import { TestPki } from '../../test/support/pki.js';
import { testCredentials, testProxyEnv } from '../../test/support/proxy-env.js';

const targetPort = Number(process.argv[2]);
const pki = new TestPki();
const { ca, creds } = testCredentials(pki);
const { config } = loadConfig(testProxyEnv(ca.certPem));
const dst = socketAddr('127.0.0.1', targetPort);
const proxy = await startProxy(config, { identity: staticIdentity(creds), origDst: fixedOrigDst(() => dst), allowOutboundLoopback: true });
await proxy.ready();
process.stdout.write(JSON.stringify({ inbound: proxy.inboundAddr.port, outbound: proxy.outboundAddrs[0]!.port, admin: proxy.adminAddr.port }) + '\n');
process.once('SIGTERM', () => {
  void proxy.shutdown().then(() => {
    pki.cleanup();
    process.exit(0);
  });
});

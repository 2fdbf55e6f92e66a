// The walkthrough's policy sequence through a real inbound proxy driven by a fake linkerd-policy:
// a Server with no authorizations refuses the VM's client, a MeshTLSAuthentication naming the
// client's SPIFFE id lets it in (no restart), and removing it again cuts the open connection.
import t from 'tap';
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProxy } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { fixedOrigDst, socketAddr } from '../../src/transport/index.js';
import { staticIdentity } from '../../src/identity/static-identity.js';
import { TestPki } from '../support/pki.js';
import { TEST_SERVER_NAME, testCredentials, testProxyEnv } from '../support/proxy-env.js';
import { echoServer } from '../support/net.js';
import { FakePolicy } from '../support/fake-policy.js';
import { detect, meshTlsIdentities, server } from '../unit/inbound/policy/helpers/harness.js';

const VM_ID = 'spiffe://root.linkerd.cluster.local/external-workload';

t.test('Server default deny, then MeshTLSAuthentication for the VM, then revoked', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const { ca, creds } = testCredentials(pki);
  const vm = pki.leaf(ca, { uris: [VM_ID] });
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const policy = await FakePolicy.start();
  t.teardown(() => policy.stop());
  const port = policy.inbound(echo.port);
  port.publish(server({ name: 'legacy-app', protocol: detect() }));

  const { config } = loadConfig(testProxyEnv(ca.certPem, { LINKERD2_PROXY_POLICY_SVC_ADDR: `127.0.0.1:${policy.port}` }));
  const target = socketAddr('127.0.0.1', echo.port);
  const proxy = await startProxy(config, { identity: staticIdentity(creds), origDst: fixedOrigDst(() => target) });
  t.teardown(() => proxy.shutdown());
  await proxy.ready();

  const connect = () =>
    new Promise<{ socket: tls.TLSSocket; echo: (s: string) => Promise<string> }>((resolve, reject) => {
      // From 127.0.0.2: servers always admit 127.0.0.1 (the localhost authorization), so the
      // policy under test must see another address.
      const tcp = net.connect({ host: '127.0.0.1', localAddress: '127.0.0.2', port: proxy.inboundAddr.port });
      const socket = tls.connect({ socket: tcp, servername: TEST_SERVER_NAME, ca: ca.certPem, cert: vm.certPem, key: vm.keyPem, checkServerIdentity: () => undefined });
      socket.once('error', reject);
      socket.once('secureConnect', () =>
        resolve({
          socket,
          echo: (text) =>
            new Promise((done) => {
              let got = '';
              const onData = (c: Buffer) => {
                got += c.toString();
                if (got.length >= text.length) finish();
              };
              const finish = () => {
                socket.off('data', onData);
                done(got);
              };
              socket.on('data', onData);
              socket.once('close', finish);
              socket.write(text);
            }),
        }),
      );
    });

  // The watch reaches the controller only on first use of the port (lazy), so the first
  // connection may still see the default policy; wait until the controller's Server is in force.
  const first = await connect();
  first.socket.on('error', () => undefined);
  await first.echo('probe');
  first.socket.destroy();
  let denied = false;
  for (let i = 0; i < 50 && !denied; i++) {
    const c = await connect();
    c.socket.on('error', () => undefined);
    denied = (await c.echo('ping')) === '';
    c.socket.destroy();
    if (!denied) await sleep(50);
  }
  t.ok(denied, 'Server with no authorizations: the VM is refused');
  t.equal(policy.inboundRequests[0]?.workload, '{"ns":"test","pod":"test"}', 'WatchPort names our workload');

  port.publish(server({ name: 'legacy-app', protocol: detect(), authorizations: [meshTlsIdentities('vm-allowed', [VM_ID])] }));
  let allowed = false;
  let open: Awaited<ReturnType<typeof connect>> | undefined;
  for (let i = 0; i < 50 && !allowed; i++) {
    open = await connect();
    open.socket.on('error', () => undefined);
    allowed = (await open.echo('hello')) === 'hello';
    if (!allowed) {
      open.socket.destroy();
      await sleep(50);
    }
  }
  t.ok(allowed, 'AuthorizationPolicy + MeshTLSAuthentication naming the VM: allowed, nothing restarted');

  const closed = new Promise<void>((r) => open!.socket.once('close', () => r()));
  t.ok(open, 'an allowed connection is open');
  port.publish(server({ name: 'legacy-app', protocol: detect() }));
  await closed;
  t.pass('revoking the authorization terminated the open connection');
  await sleep(20);
  t.match(await proxy.metrics.render(), /^inbound_tcp_authz_terminate_total\{[^}]*srv_name="legacy-app"[^}]*\} 1$/m);
});

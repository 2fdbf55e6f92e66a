// End to end, as on a VM: the walkthrough's iptables rules in a namespace, the real CLI under its
// own uid with a SPIFFE identity, and traffic from another namespace through both directions.
import t from 'tap';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestPki } from '../support/pki.js';
import { FakeWorkloadApi } from '../support/fake-workload-api.js';
import { createNetns, eventually, isRoot, nsRun, nsSpawn, vethPair } from '../support/netns.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/src/main.js');
const PROXY_UID = 2102;
// RFC 2544 benchmarking addresses: they exist only inside the namespaces made here.
const CLIENT_IP = '198.18.0.1';
const VM_IP = '198.18.0.2';
const SPIFFE_ID = 'spiffe://root.linkerd.cluster.local/external-workload';
const SERVER_NAME = 'external-workload.cluster.local';

const HTTP_SERVER = (body: string, host: string, port: number) =>
  `require('http').createServer((q,r)=>r.end(${JSON.stringify(body)}+' '+q.socket.remoteAddress)).listen(${port},${JSON.stringify(host)},()=>console.log('listening'))`;

{
  const skip = isRoot ? false : 'needs root: network namespaces, veth pairs and iptables';
  t.test('walkthrough capture rules: inbound and outbound TCP flow through the proxy', { skip }, async (t) => {
    const pki = new TestPki();
    t.teardown(() => pki.cleanup());
    const ca = pki.root();
    const leaf = pki.leaf(ca, { uris: [SPIFFE_ID], dns: [SERVER_NAME] });
    const spire = await FakeWorkloadApi.start({ initial: { svids: [{ spiffeId: SPIFFE_ID, x509Svid: leaf.chainDer, x509SvidKey: leaf.keyDer }] } });
    t.teardown(() => spire.close());
    // The proxy runs under its own uid, so it must be able to reach the agent socket.
    chmodSync(path.dirname(spire.socketPath), 0o755);
    chmodSync(spire.socketPath, 0o777);

    const client = await createNetns(t, 'client');
    const vm = await createNetns(t, 'vm');
    await vethPair({ ns: client, addr: CLIENT_IP }, { ns: vm, addr: VM_IP });

    const app = nsSpawn(t, vm, ['node', '-e', HTTP_SERVER('hello from the vm app, peer', '0.0.0.0', 8080)]);
    const remote = nsSpawn(t, client, ['node', '-e', HTTP_SERVER('hello from the client side, peer', CLIENT_IP, 9090)]);

    const rules = await nsRun(vm, 'node', [MAIN, 'iptables', 'apply', '--proxy-uid', String(PROXY_UID)]);
    t.equal(rules.code, 0, `iptables apply succeeded ${rules.stderr}`);

    const proxy = nsSpawn(t, vm, ['node', MAIN], {
      uid: PROXY_UID,
      env: {
        PATH: process.env.PATH,
        LINKERD2_PROXY_LOG: 'warn,linkerd=debug',
        LINKERD2_PROXY_IDENTITY_SERVER_ID: SPIFFE_ID,
        LINKERD2_PROXY_IDENTITY_SERVER_NAME: SERVER_NAME,
        LINKERD2_PROXY_IDENTITY_SPIRE_SOCKET: `unix://${spire.socketPath}`,
        LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: ca.certPem,
        LINKERD2_PROXY_DESTINATION_SVC_ADDR: 'localhost:8086',
        LINKERD2_PROXY_POLICY_SVC_ADDR: 'localhost:8090',
        LINKERD2_PROXY_POLICY_WORKLOAD: '{"ns":"mixed-env","external_workload":"external-workload"}',
        LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'all-unauthenticated',
      },
    });
    const metrics = async () => (await nsRun(vm, 'curl', ['-s', '--max-time', '2', 'http://127.0.0.1:4191/metrics'])).stdout;
    const ready = await eventually(async () => (await nsRun(vm, 'curl', ['-s', '--max-time', '1', 'http://127.0.0.1:4191/ready'])).stdout === 'ready\n', 20_000);
    t.ok(ready, 'the proxy became ready with its SVID');
    if (!ready) t.comment(proxy.output());
    t.ok(await eventually(async () => app.output().includes('listening') && remote.output().includes('listening')), 'apps listening');

    // Inbound: the client reaches the VM's real address; iptables hands the connection to 4143.
    const inbound = await nsRun(client, 'curl', ['-s', '--max-time', '5', `http://${VM_IP}:8080/`]);
    t.equal(inbound.stdout, 'hello from the vm app, peer 127.0.0.1', 'the reply came through the proxy (the app saw a loopback peer)');

    // Outbound: the VM's own traffic is redirected to 4140 and leaves as the proxy's uid.
    const outbound = await nsRun(vm, 'curl', ['-s', '--max-time', '5', `http://${CLIENT_IP}:9090/`]);
    t.equal(outbound.stdout, `hello from the client side, peer ${VM_IP}`, 'outbound traffic reached the other namespace');

    const text = await metrics();
    t.match(text, new RegExp(`^tcp_open_total\\{direction="inbound",peer="src",target_addr="${VM_IP}:8080",[^}]*\\} 1$`, 'm'), 'inbound connection counted for the original destination');
    t.match(text, new RegExp(`^tcp_read_bytes_total\\{direction="inbound",peer="src",target_addr="${VM_IP}:8080",[^}]*\\} [1-9]\\d*$`, 'm'), 'inbound bytes counted');
    t.match(text, new RegExp(`^tcp_open_total\\{direction="outbound",peer="src",target_addr="${CLIENT_IP}:9090",[^}]*\\} 1$`, 'm'), 'outbound connection passed through 4140');
    t.match(text, new RegExp(`^tcp_write_bytes_total\\{direction="outbound",peer="dst",target_addr="${CLIENT_IP}:9090",[^}]*\\} [1-9]\\d*$`, 'm'), 'outbound bytes counted');

    proxy.child.kill('SIGTERM');
    const [code] = await new Promise<[number | null]>((r) => proxy.child.once('exit', (c) => r([c])));
    t.equal(code, 0, 'SIGTERM: drained and exited 0');
  });
}

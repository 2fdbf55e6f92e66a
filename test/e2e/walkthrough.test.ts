// End to end, as root: the mesh-expansion walkthrough (`npm start`) in network namespaces, every step
// asserted, plus what the demo does not show: the wire is TLS, the metrics carry the identities, a
// non-mesh address is forwarded, and the mesh keeps serving with the control plane gone.
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runDemo } from '../../src/demo/cli.js';
import type { LocalMesh } from '../../src/demo/local-mesh.js';
import { run } from '../../src/demo/netns.js';
import { CONTROL_PLANE_IP } from '../../src/demo/topology.js';
import { LEGACY_APP, LEGACY_APP_CLUSTER } from '../../src/demo/walkthrough.js';

const isRoot = process.getuid?.() === 0;
// The walkthrough takes about a minute on a quiet machine; a loaded CI runner needs more.
t.setTimeout(480_000);
const VM_ID = 'spiffe://root.linkerd.cluster.local/external-workload';
const CLIENT_ID = 'client.mixed-env.serviceaccount.identity.linkerd.cluster.local';
const POD_ID = 'default.mixed-env.serviceaccount.identity.linkerd.cluster.local';

const show = (rs: readonly { status: number; error?: string }[]): string => rs.map((r) => (r.status === 0 ? `error ${r.error ?? ''}` : String(r.status))).join(',');
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

t.test('the walkthrough in namespaces: every step holds, and the mesh is encrypted, observable and resilient', { skip: isRoot ? false : 'needs root: network namespaces, veth pairs and iptables' }, async (t) => {
  const out: string[] = [];
  const captureDir = mkdtempSync(path.join(tmpdir(), 'l5dts-e2e-'));
  t.teardown(() => rmSync(captureDir, { recursive: true, force: true }));

  const inspect = async (mesh: LocalMesh): Promise<void> => {
    // 1. A capture on the bridge while traffic flows both ways: TLS records only, no plaintext HTTP.
    const pcap = path.join(captureDir, 'br0.pcap');
    const dump = (await import('node:child_process')).spawn('ip', ['netns', 'exec', mesh.topology.hub, 'tcpdump', '-i', 'br0', '-U', '-s', '0', '-w', pcap, 'tcp'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1000));
    const viaClient = await mesh.get('client', LEGACY_APP, 10, 2);
    const viaVm = await mesh.get('vm', LEGACY_APP_CLUSTER, 5);
    await new Promise((r) => setTimeout(r, 500));
    dump.kill('SIGINT');
    await new Promise((r) => dump.once('exit', r));
    // After step 4 the pod's Server admits only the VM: the client pod's requests that land on the
    // pod are refused (403) by the pod's proxy, the ones on the VM are served.
    t.ok(viaClient.every((r) => r.status === 200 || r.status === 403) && viaVm.every((r) => r.status === 200), `traffic flowed during the capture (${show([...viaClient, ...viaVm])})`);
    const wire = readFileSync(pcap);
    t.ok(wire.length > 2000, `packets were captured (${wire.length} bytes)`);
    t.ok(wire.includes(Buffer.from([0x17, 0x03, 0x03])), 'TLS application-data records on the wire');
    for (const plain of ['HTTP/1.1', 'GET / ', 'hello-from', 'requestUID', 'l5d-orig-proto']) {
      t.notOk(wire.includes(Buffer.from(plain)), `no plaintext "${plain}" between the namespaces`);
    }

    // 2. Metrics name the peers' identities on both sides.
    const podMetrics = await mesh.metrics('pod');
    t.match(podMetrics, new RegExp(`^request_total\\{direction="inbound",[^}]*tls="true",client_id="${esc(VM_ID)}"[^}]*\\} [1-9]`, 'm'), "the pod's inbound counts the VM's requests with its SPIFFE id");
    t.match(podMetrics, new RegExp(`^inbound_http_authz_deny_total\\{[^}]*srv_name="in-cluster-endpoint"[^}]*tls="true",client_id="${esc(VM_ID)}"[^}]*\\} [1-9]`, 'm'), "the pod's inbound counted the refusals of step 3");
    const vmMetrics = await mesh.metrics('vm');
    t.match(vmMetrics, new RegExp(`^request_total\\{direction="inbound",[^}]*tls="true",client_id="${esc(CLIENT_ID)}"[^}]*\\} [1-9]`, 'm'), "the VM's inbound counts the client pod's requests with its identity");
    t.match(vmMetrics, new RegExp(`^request_total\\{direction="outbound",[^}]*tls="true",server_id="${esc(POD_ID)}"[^}]*\\} [1-9]`, 'm'), "the VM's outbound names the pod's identity as server_id");
    const clientMetrics = await mesh.metrics('client');
    t.match(clientMetrics, new RegExp(`^request_total\\{direction="outbound",[^}]*tls="true",server_id="${esc(VM_ID)}"[^}]*\\} [1-9]`, 'm'), "the client's outbound names the VM's SPIFFE id as server_id");
    t.match(vmMetrics, /^tcp_open_total\{direction="inbound",peer="src",target_addr="198\.18\.0\.2:80",[^}]*tls="true"[^}]*\} [1-9]/m, 'inbound TCP accepts counted per original destination, as TLS');

    // 3. An address outside the mesh (the control plane's host, outside the cluster networks) is forwarded as it is.
    const outside = http.createServer((req, res) => res.end(`outside saw ${req.socket.remoteAddress}`));
    await new Promise<void>((r) => outside.listen(0, CONTROL_PLANE_IP, r));
    const outsidePort = (outside.address() as net.AddressInfo).port;
    const [egress] = await mesh.get('vm', `http://${CONTROL_PLANE_IP}:${outsidePort}/`);
    outside.close();
    t.equal(egress?.payload, 'outside saw 198.18.0.2', 'the VM reached an address outside the mesh through its outbound proxy');
    t.match(await mesh.metrics('vm'), new RegExp(`^tcp_open_total\\{direction="outbound",peer="src",target_addr="${esc(CONTROL_PLANE_IP)}:${outsidePort}"`, 'm'), 'that connection passed through 4140');

    // 4. The control plane goes away: the proxies keep their last known endpoints and policies.
    const marks = { client: mesh.proxies.client.output().length, vm: mesh.proxies.vm.output().length, pod: mesh.proxies.pod.output().length };
    await mesh.controlPlane.close();
    const afterClient = await mesh.get('client', LEGACY_APP, 20, 4);
    const afterVm = await mesh.get('vm', LEGACY_APP_CLUSTER, 5);
    t.ok(afterClient.every((r) => r.status === 200 || r.status === 403), `client → legacy-app still answered without a control plane (${show(afterClient)})`);
    t.ok(afterClient.some((r) => r.status === 200) && afterClient.some((r) => r.status === 403), 'still balanced over the VM (200) and the pod (403: policy kept)');
    t.ok(afterVm.every((r) => r.status === 200), `VM → legacy-app-cluster still authorized and served (${show(afterVm)})`);
    if (![...afterClient, ...afterVm].every((r) => r.status !== 0)) {
      for (const role of ['client', 'vm', 'pod'] as const) t.comment(`${role} proxy after the control plane stopped:\n${mesh.proxies[role].output().slice(marks[role]).slice(-4000)}`);
    }

    // 5. SIGTERM: the VM's proxy drains and exits 0.
    t.equal(await mesh.proxies.vm.stop(10_000), 0, "the VM's proxy exits 0 on SIGTERM");
  };

  const result = await runDemo({ proxyLog: 'warn,linkerd=info', out: { write: (s: string) => out.push(s), isTTY: false }, path: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', isRoot, inspect });
  const text = out.join('');
  for (const o of result.outcomes) t.ok(o.ok, `${o.title}: ${o.detail}`);
  t.equal(result.outcomes.length, 6, 'every step of the walkthrough ran');
  t.ok(result.ok, 'the demo reports success');
  t.match(text, /6 of 6 steps held/, 'and says so');
  t.same(result.cleanupFailures, [], 'everything it created was removed');
  const left = await run('ip', ['netns', 'list']);
  t.notMatch(left.stdout, new RegExp(`l5d-demo-[a-z]+-${process.pid}\\b`), 'no namespace left behind');
  if (!result.ok) t.comment(text);
});

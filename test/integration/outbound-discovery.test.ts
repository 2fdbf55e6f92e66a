// Outbound through the real proxy: discovery per original destination, P2C balancing over Destination
// endpoints under load, endpoint churn and control-plane restarts, failfast, and the fallback paths.
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { socketAddr } from '../../src/transport/index.js';
import { meshedProxy } from '../support/meshed-proxy.js';
import { SERVICE_PATH, addUpdate, balancerBackend, removeUpdate, servicePolicy, weightedAddr } from '../support/outbound-wire.js';
import { TestPki } from '../support/pki.js';
import { testCredentials } from '../support/proxy-env.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds } = testCredentials(pki);

/** A Service's ClusterIP: never dialled; the proxy balances over the endpoints discovery names. */
const CLUSTER_IP = socketAddr('10.43.0.10', 80);

interface Origin {
  readonly port: number;
  served: number;
  close(): void;
}

async function origin(t: Test, name: string, delayMs = 0): Promise<Origin> {
  const sockets = new Set<net.Socket>();
  const o = { port: 0, served: 0, close: () => undefined as void };
  const server = http.createServer((req, res) => {
    o.served++;
    const reply = (): void => {
      res.setHeader('x-origin', name);
      res.end(name);
    };
    if (delayMs > 0) setTimeout(reply, delayMs);
    else reply();
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  o.close = () => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  t.teardown(o.close);
  return Object.assign(o, { port: (server.address() as net.AddressInfo).port });
}

function agent(t: Test, connections = 8): Agent {
  const a = new Agent({ keepAliveTimeout: 10_000, connections });
  t.teardown(() => a.close());
  return a;
}

async function get(port: number, dispatcher: Agent, headers: Record<string, string> = {}): Promise<{ status: number; origin: string; body: string; headers: http.IncomingHttpHeaders }> {
  const res = await request(`http://127.0.0.1:${port}/`, { dispatcher, headers: { host: 'web.test.svc.cluster.local', ...headers } });
  const body = await res.body.text();
  return { status: res.statusCode, origin: String(res.headers['x-origin'] ?? ''), body, headers: res.headers };
}

/** Runs `concurrency` request loops until `stop()`; every response is recorded. */
function load(port: number, dispatcher: Agent, concurrency: number): { results: { status: number; origin: string }[]; failures: string[]; stop(): Promise<void> } {
  const results: { status: number; origin: string }[] = [];
  const failures: string[] = [];
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        const r = await get(port, dispatcher);
        results.push(r);
        if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  });
  return {
    results,
    failures,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

t.test('the policy controller and Destination are asked per original destination; requests spread by load', async (t) => {
  const fast = await origin(t, 'fast');
  const slow = await origin(t, 'slow', 40);
  const mesh = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP });
  mesh.policy.outbound('10.43.0.10:80').publish(servicePolicy([balancerBackend()]));
  mesh.dst.getSender(SERVICE_PATH).publish(addUpdate([weightedAddr('127.0.0.1', fast.port), weightedAddr('127.0.0.1', slow.port)]));

  const dispatcher = agent(t);
  const first = await get(mesh.outboundPort, dispatcher);
  t.equal(first.status, 200, 'answered by an endpoint of the Service');
  const watch = mesh.policy.outboundRequests[0];
  t.equal(watch?.target, '10.43.0.10:80', 'OutboundPolicies.Watch names the original destination');
  t.equal(watch?.sourceWorkload, '{"ns":"test","pod":"test"}', 'source_workload = LINKERD2_PROXY_POLICY_WORKLOAD');
  t.ok(mesh.dst.requests.some((r) => r.method === 'Get' && r.path === SERVICE_PATH), 'Destination.Get for the backend authority');
  t.notOk(mesh.dst.requests.some((r) => r.method === 'GetProfile'), 'no GetProfile outside DESTINATION_PROFILE_NETWORKS');

  const l = load(mesh.outboundPort, dispatcher, 8);
  await sleep(1500);
  await l.stop();
  t.same(l.failures, [], 'no request failed');
  t.ok(fast.served > slow.served * 2, `the slow endpoint got measurably less traffic (fast ${fast.served}, slow ${slow.served})`);
  t.ok(slow.served > 0, 'the slow endpoint still got some (P2C, not exclusion)');
  const text = await mesh.proxy.metrics.render();
  t.match(text, new RegExp(`^request_total\\{direction="outbound",authority="echo.test.svc.cluster.local:80",target_addr="127.0.0.1:${fast.port}"`, 'm'), 'request_total per endpoint');
});

t.test('an endpoint removed during load: zero failed requests, and it gets no more traffic', async (t) => {
  const a = await origin(t, 'a');
  const b = await origin(t, 'b');
  const mesh = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP });
  mesh.policy.outbound('10.43.0.10:80').publish(servicePolicy([balancerBackend()]));
  const eps = mesh.dst.getSender(SERVICE_PATH);
  eps.publish(addUpdate([weightedAddr('127.0.0.1', a.port), weightedAddr('127.0.0.1', b.port)]));

  const dispatcher = agent(t);
  const l = load(mesh.outboundPort, dispatcher, 6);
  await sleep(500);
  eps.push(removeUpdate('127.0.0.1', b.port));
  eps.initial = [addUpdate([weightedAddr('127.0.0.1', a.port)])];
  await sleep(300);
  const servedByB = b.served;
  await sleep(700);
  await l.stop();
  t.same(l.failures, [], 'zero failed requests across the removal');
  t.ok(l.results.length > 50, `requests kept flowing (${l.results.length})`);
  t.equal(b.served, servedByB, 'the removed endpoint got nothing after the removal settled');
});

t.test('the control plane restarting during load: requests keep succeeding on the last known endpoints', async (t) => {
  const a = await origin(t, 'a');
  const mesh = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP });
  const policyStream = mesh.policy.outbound('10.43.0.10:80');
  policyStream.publish(servicePolicy([balancerBackend()]));
  const eps = mesh.dst.getSender(SERVICE_PATH);
  eps.publish(addUpdate([weightedAddr('127.0.0.1', a.port)]));

  const dispatcher = agent(t);
  t.equal((await get(mesh.outboundPort, dispatcher)).status, 200);
  const l = load(mesh.outboundPort, dispatcher, 4);
  await sleep(200);
  await Promise.all([mesh.dst.restart(), mesh.policy.restart()]);
  await sleep(500);
  const during = l.results.length;
  // Back up: the proxy reconnects and the new streams start from the same state.
  await eps.waitForStreams(2);
  await sleep(300);
  await l.stop();
  t.same(l.failures, [], 'no request failed while the control plane was away');
  t.ok(l.results.length > during, 'traffic continued after it came back');
  t.ok(mesh.dst.requests.filter((r) => r.method === 'Get').length >= 2, 'the Destination watch was re-established');
});

t.test('a Service with no endpoints: requests wait, then 504 after the queue failfast timeout', async (t) => {
  const mesh = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP });
  mesh.policy.outbound('10.43.0.10:80').publish(servicePolicy([balancerBackend(SERVICE_PATH, { failfastMs: 300 })]));
  const dispatcher = agent(t);
  const started = Date.now();
  const res = await get(mesh.outboundPort, dispatcher);
  const elapsed = Date.now() - started;
  t.equal(res.status, 504, 'gateway timeout');
  t.match(String(res.headers['l5d-proxy-error']), /fail-fast/, 'l5d-proxy-error says why');
  t.ok(elapsed >= 250, `it waited for the failfast timeout first (${elapsed}ms)`);
});

t.test('an address the controller does not know (NotFound) is forwarded to the original destination', async (t) => {
  const direct = await origin(t, 'direct');
  const target = socketAddr('127.0.0.1', direct.port);
  const mesh = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => target });
  mesh.policy.outbound(`127.0.0.1:${direct.port}`).rejectWith = { code: 5, details: 'not found' };
  const res = await get(mesh.outboundPort, agent(t));
  t.equal(res.status, 200);
  t.equal(res.origin, 'direct', 'answered by the original destination itself');
  t.notOk(mesh.dst.requests.some((r) => r.method === 'Get'), 'no Destination.Get for a forward');
});

t.test('DESTINATION_PROFILE_NETWORKS: GetProfile by IP; its endpoint is used when there is no policy, its opaque_protocol makes the port opaque', async (t) => {
  const direct = await origin(t, 'profiled');
  const echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  t.teardown(() => echo.close());
  const echoPort = (echo.address() as net.AddressInfo).port;
  let target = socketAddr('127.0.0.1', direct.port);
  const mesh = await meshedProxy(t, {
    trustAnchorsPem: ca.certPem,
    creds,
    outbound: () => target,
    env: { LINKERD2_PROXY_DESTINATION_PROFILE_NETWORKS: '127.0.0.0/8' },
  });
  // HTTP target: NotFound policy + a profile whose endpoint carries labels.
  mesh.policy.outbound(`127.0.0.1:${direct.port}`).rejectWith = { code: 5, details: 'not found' };
  mesh.dst.profileSender(`127.0.0.1:${direct.port}`).publish({ endpoint: weightedAddr('127.0.0.1', direct.port, { labels: { pod: 'profiled-pod' } }) });
  const res = await get(mesh.outboundPort, agent(t));
  t.equal(res.origin, 'profiled', 'served through the profile endpoint');
  const text = await mesh.proxy.metrics.render();
  t.match(text, /dst_pod="profiled-pod"/, 'the profile endpoint metadata labels the traffic');

  // Opaque target: the profile says opaque_protocol, so even an HTTP-looking stream is not parsed.
  target = socketAddr('127.0.0.1', echoPort);
  mesh.policy.outbound(`127.0.0.1:${echoPort}`).rejectWith = { code: 5, details: 'not found' };
  mesh.dst.profileSender(`127.0.0.1:${echoPort}`).publish({ opaqueProtocol: true, endpoint: weightedAddr('127.0.0.1', echoPort) });
  const raw = 'GET / HTTP/1.1\r\nhost: x\r\n\r\n';
  const echoed = await new Promise<string>((resolve, reject) => {
    const s = net.connect({ port: mesh.outboundPort, host: '127.0.0.1', allowHalfOpen: true });
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString()));
    s.on('end', () => resolve(got));
    s.on('error', reject);
    s.end(raw);
  });
  t.equal(echoed, raw, 'bytes were spliced as they are (opaque), not answered as HTTP');
  t.ok(mesh.dst.requests.some((r) => r.method === 'GetProfile' && r.path === `127.0.0.1:${echoPort}`), 'GetProfile by ip:port');
});

t.test('discovery refused for good (InvalidArgument) closes the connection', async (t) => {
  const mesh = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP });
  mesh.policy.outbound('10.43.0.10:80').rejectWith = { code: 3, details: 'invalid argument' };
  await t.rejects(get(mesh.outboundPort, agent(t)), 'the client sees its connection closed');
});

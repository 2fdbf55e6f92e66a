// loadConfig end to end: the VM example, defaults, deep freezing, and every problem reported in one error.
import t from 'tap';
import { ConfigError, DEFAULTS, loadConfig, portSetHas, type Config } from '../../../src/config/index.js';
import { K8S_ENV, TEST_ROOT_PEM, VM_ENV, withEnv } from './fixtures.js';

function problemsOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

t.test('the spec §1.5 VM environment', async (t) => {
  const { config, warnings } = loadConfig(VM_ENV);
  t.same(config.identity.serverId, { kind: 'uri', value: 'spiffe://root.linkerd.cluster.local/external-workload' });
  t.equal(config.identity.serverName, 'external-workload.cluster.local');
  t.same(config.identity.mode, {
    kind: 'spire',
    workloadApiAddress: '/tmp/spire-agent/public/api.sock',
    backoff: { minMs: 100, maxMs: 1000, jitter: 0.1 },
  });
  t.equal(config.identity.trustAnchorsPem, TEST_ROOT_PEM);
  t.equal(config.identity.trustAnchors.length, 1);

  const dst = config.controlPlane.destination;
  t.same(dst.addr, { host: 'linkerd-dst-headless.linkerd.svc.cluster.local.', port: 8086, hostKind: 'name' });
  const dstName = 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local';
  t.same(dst.tls, { kind: 'mtls', serverName: dstName, serverId: dstName });
  t.equal(dst.connect, config.outbound.connect, 'a remote control plane uses the outbound connect settings');
  t.same(dst.queue, { capacity: 100, failfastTimeoutMs: 3000 });
  t.same(config.controlPlane.policy.addr, { host: 'linkerd-policy.linkerd.svc.cluster.local.', port: 8090, hostKind: 'name' });
  t.same(config.controlPlane.policy.queue, { capacity: 100, failfastTimeoutMs: 10_000 });
  t.equal(config.controlPlane.policyWorkload, '{"ns":"mixed-env", "external_workload":"external-workload"}');
  t.equal(config.controlPlane.destinationContext, VM_ENV['LINKERD2_PROXY_DESTINATION_CONTEXT']);
  t.same(config.controlPlane.profileNetworks, [], 'no profile lookups by IP on the VM');
  t.same(config.controlPlane.profileSuffixes, ['svc.cluster.local.']);
  t.equal(config.inbound.ips, undefined, 'no INBOUND_IPS ⇒ allow all');

  t.same(config.listeners.inbound, { host: '0.0.0.0', port: 4143, family: 4 });
  t.same(config.listeners.outbound, [{ host: '127.0.0.1', port: 4140, family: 4 }]);
  t.same(config.listeners.admin, { host: '127.0.0.1', port: 4191, family: 4 });
  t.equal(config.listeners.tap, undefined);
  t.ok(portSetHas(config.inbound.policy.eagerPorts, 4191), 'the admin port policy is always discovered');
  t.notOk(portSetHas(config.inbound.policy.eagerPorts, 4143));

  t.same(
    [...warnings].sort(),
    [
      'LINKERD2_PROXY_IDENTITY_SPIRE_SOCKET has been deprecated; use LINKERD2_PROXY_IDENTITY_SPIRE_WORKLOAD_API_ADDRESS',
      'LINKERD2_PROXY_INBOUND_DEFAULT_POLICY was not set; using `all-unauthenticated`',
    ],
  );
});

t.test('every default matches spec §1.3', async (t) => {
  const { config: c } = loadConfig(VM_ENV);
  t.same(c.inbound.connect.backoff, { minMs: 100, maxMs: 10_000, jitter: 0.1 });
  t.same(c.outbound.connect.backoff, { minMs: 100, maxMs: 60_000, jitter: 0.1 });
  t.equal(c.inbound.connect.timeoutMs, 300);
  t.equal(c.outbound.connect.timeoutMs, 1000);
  t.equal(c.inbound.detectTimeoutMs, 10_000);
  t.equal(c.outbound.detectTimeoutMs, 10_000);
  t.same(c.inbound.connect.http1Pool, { maxIdlePerEndpoint: 10_000, idleTimeoutMs: 3000 });
  t.same(c.outbound.connect.http1Pool, { maxIdlePerEndpoint: 10_000, idleTimeoutMs: 3000 });
  t.equal(c.inbound.maxInFlight, 100_000);
  t.equal(c.outbound.maxInFlight, 100_000);
  t.same(c.inbound.httpQueue, { capacity: 10_000, failfastTimeoutMs: 1000 });
  t.same(c.outbound.httpQueue, { capacity: 10_000, failfastTimeoutMs: 3000 });
  t.same(c.outbound.tcpQueue, { capacity: 10_000, failfastTimeoutMs: 3000 });
  t.equal(c.inbound.discoveryIdleTimeoutMs, 90_000);
  t.equal(c.outbound.discoveryIdleTimeoutMs, 5000);
  t.equal(c.inbound.policy.defaultPolicy, 'all-unauthenticated');
  t.same(c.inbound.policy.opaquePorts.ranges, []);
  t.same(c.inbound.connect.http2, { initialStreamWindowSize: 65_535, initialConnectionWindowSize: 1_048_576 });
  for (const s of [c.inbound.server, c.outbound.server]) {
    t.same(s.http2.flowControl, { kind: 'fixed', initialStreamWindowSize: 65_535, initialConnectionWindowSize: 1_048_576 });
    t.equal(s.http2.keepAlive, undefined);
    t.equal(s.keepaliveMs, undefined);
    t.equal(s.userTimeoutMs, undefined);
    t.equal(s.backlog, undefined);
  }
  t.equal(c.inbound.connect.keepaliveMs, undefined);
  t.equal(c.controlPlane.profileInitialTimeoutMs, 500);
  t.same(c.controlPlane.streamLimits, { initialTimeoutMs: undefined, idleTimeoutMs: undefined, lifetimeMs: undefined });
  t.same(c.controlPlane.dns, { minTtlMs: undefined, maxTtlMs: undefined });
  t.equal(c.admin.metricsRetainIdleMs, 600_000);
  t.equal(c.admin.shutdownEndpointEnabled, false);
  t.equal(c.shutdownGracePeriodMs, 120_000);
  t.same(c.logging, { filter: 'warn,linkerd=info,hickory=error', format: 'plain', accessLog: undefined });
  t.equal(c.outbound.ingressMode, false);
  t.equal(c.outbound.disableInformationalHeaders, false);
  t.equal(c.outbound.metricsHostnameLabels, false);
  t.equal(c.inbound.metricsAuthorityLabels, false);
  t.equal(c.traceCollector, undefined);
  t.same(c.runtime, { coresMin: undefined, coresMax: undefined, coresMaxRatio: undefined });
  t.equal(DEFAULTS.identityMaxRefreshMs, 86_400_000);
});

t.test('the Linkerd-identity (Kubernetes) environment', async (t) => {
  const { config, warnings } = loadConfig(K8S_ENV);
  const id = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
  t.same(config.identity.serverId, { kind: 'dns', value: id });
  t.equal(config.identity.serverName, id);
  t.match(config.identity.mode, {
    kind: 'linkerd',
    dir: '/var/run/linkerd/identity/end-entity',
    tokenFile: '/var/run/secrets/tokens/linkerd-identity-token',
    minRefreshMs: 10_000,
    maxRefreshMs: 86_400_000,
    svc: { addr: { host: 'linkerd-identity-headless.linkerd.svc.cluster.local.', port: 8080 }, queue: { capacity: 100 } },
  });
  t.equal(config.controlPlane.policyWorkload, '{"ns":"emojivoto", "pod":"web-123"}\n', 'trailing newline kept verbatim');
  t.same(warnings, []);
});

t.test('the result is deeply frozen', async (t) => {
  const { config } = loadConfig(VM_ENV);
  const unfrozen: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (typeof v !== 'object' || v === null) return;
    if (!Object.isFrozen(v)) unfrozen.push(path);
    for (const [k, child] of Object.entries(v)) walk(child, `${path}.${k}`);
  };
  walk(config, 'config');
  t.same(unfrozen, []);
  t.throws(() => {
    (config.inbound as { maxInFlight: number }).maxInFlight = 1;
  }, TypeError);
  t.throws(() => {
    (config.listeners.outbound as unknown as unknown[]).push({});
  }, TypeError);
});

t.test('all problems are reported at once', async (t) => {
  const err = problemsOf(
    withEnv(VM_ENV, {
      LINKERD2_PROXY_INBOUND_CONNECT_TIMEOUT: '5',
      LINKERD2_PROXY_INBOUND_PORTS: '80,70000',
      LINKERD2_PROXY_SHUTDOWN_ENDPOINT_ENABLED: 'yes',
    }),
  );
  t.equal(err.exitCode, 64);
  t.equal(err.problems.length, 3);
  t.same(err.problems.map((p) => p.variable).sort(), [
    'LINKERD2_PROXY_INBOUND_CONNECT_TIMEOUT',
    'LINKERD2_PROXY_INBOUND_PORTS',
    'LINKERD2_PROXY_SHUTDOWN_ENDPOINT_ENABLED',
  ]);
  const timeout = err.problems.find((p) => p.variable === 'LINKERD2_PROXY_INBOUND_CONNECT_TIMEOUT');
  t.same(timeout, {
    variable: 'LINKERD2_PROXY_INBOUND_CONNECT_TIMEOUT',
    value: '5',
    expected: 'a duration like 300ms, 10s, 2m (a bare number only for 0)',
    message:
      'LINKERD2_PROXY_INBOUND_CONNECT_TIMEOUT="5" is not valid: expected a duration like 300ms, 10s, 2m (a bare number only for 0)',
  });
  const lines = err.message.split('\n');
  t.equal(lines.length, 4, 'a header line and one line per problem');
  for (const p of err.problems) t.ok(lines.some((l) => l.trim() === p.message), p.variable);
  t.match(err.message, /LINKERD2_PROXY_INBOUND_PORTS="80,70000" is not valid: .*65535/);
  t.match(err.message, /LINKERD2_PROXY_SHUTDOWN_ENDPOINT_ENABLED="yes" is not valid: expected true or false/);
  t.ok(Object.isFrozen(err.problems));
});

t.test('an empty environment lists every mandatory variable', async (t) => {
  const err = problemsOf({});
  const vars = err.problems.map((p) => p.variable);
  for (const v of [
    'LINKERD2_PROXY_DESTINATION_SVC_ADDR',
    'LINKERD2_PROXY_POLICY_SVC_ADDR',
    'LINKERD2_PROXY_POLICY_WORKLOAD',
    'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS',
    'LINKERD2_PROXY_IDENTITY_SERVER_ID',
    'LINKERD2_PROXY_IDENTITY_SERVER_NAME',
  ]) {
    t.ok(vars.includes(v), v);
  }
  t.match(err.message, /no destination service configured/);
  t.match(err.message, /no policy service configured/);
  t.ok(err.problems.every((p) => p.value === undefined));
});

t.test('long values are shortened in messages but kept in the problem', async (t) => {
  const bad = `junk${'x'.repeat(200)}`;
  const err = problemsOf(withEnv(VM_ENV, { LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: bad }));
  const p = err.problems[0]!;
  t.equal(p.value, bad);
  t.ok(p.message.length < 300);
  t.match(p.message, /^LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS="junkx+\.\.\." is not valid: no PEM certificate found; expected/);
});

t.test('unknown LINKERD2_PROXY_ variables are warned about; ignored chart variables are not', async (t) => {
  const { warnings } = loadConfig(
    withEnv(K8S_ENV, {
      LINKERD2_PROXY_INBOUND_CONECT_TIMEOUT: '1s',
      LINKERD2_PROXY_INBOUND_PORTS_REQUIRE_TLS: '25',
      LINKERD2_PROXY_TRACE_PROTOCOL: 'opentelemetry',
      HOME: '/root',
    }),
  );
  t.same(warnings, ['LINKERD2_PROXY_INBOUND_CONECT_TIMEOUT is set but is not a variable this proxy reads']);
});

t.test('process.env-shaped input works (undefined values are unset)', async (t) => {
  const env: Record<string, string | undefined> = { ...VM_ENV, LINKERD2_PROXY_INBOUND_LISTEN_ADDR: undefined };
  const { config }: { config: Config } = loadConfig(env);
  t.equal(config.listeners.inbound.port, 4143);
});

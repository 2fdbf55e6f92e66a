// Listener, inbound/outbound, backoff, HTTP/2, logging and runtime rules.
import t from 'tap';
import { ConfigError, loadConfig, portSetHas, type Config } from '../../../src/config/index.js';
import { VM_ENV, withEnv } from './fixtures.js';

function load(changes: Record<string, string | undefined>): { config: Config; warnings: string[] } {
  return loadConfig(withEnv(VM_ENV, changes));
}

function problemVars(changes: Record<string, string | undefined>): string[] {
  try {
    load(changes);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => p.variable);
    throw e;
  }
  return [];
}

t.test('outbound listen addresses', async (t) => {
  const dual = load({ LINKERD2_PROXY_OUTBOUND_LISTEN_ADDRS: '127.0.0.1:4140,[::1]:4140', LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:9999' });
  t.same(dual.config.listeners.outbound, [
    { host: '127.0.0.1', port: 4140, family: 4 },
    { host: '::1', port: 4140, family: 6 },
  ], '_ADDRS takes precedence');
  t.notOk(dual.warnings.some((w) => w.includes('OUTBOUND_LISTEN_ADDR')), 'no warning when both are set (as the chart does)');

  const single = load({ LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:4000' });
  t.same(single.config.listeners.outbound, [{ host: '127.0.0.1', port: 4000, family: 4 }]);
  t.ok(single.warnings.includes('LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR is deprecated; use LINKERD2_PROXY_OUTBOUND_LISTEN_ADDRS'));

  t.same(problemVars({ LINKERD2_PROXY_OUTBOUND_LISTEN_ADDRS: '127.0.0.1:1,127.0.0.1:2,127.0.0.1:3' }), [
    'LINKERD2_PROXY_OUTBOUND_LISTEN_ADDRS',
  ]);
  t.same(problemVars({ LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: 'localhost:4140' }), ['LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR']);
  const shadowed = load({ LINKERD2_PROXY_OUTBOUND_LISTEN_ADDRS: '127.0.0.1:4140', LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: 'junk' });
  t.ok(shadowed.warnings.some((w) => w.includes('is not valid and is ignored')), 'a malformed shadowed _ADDR only warns');
});

t.test('other listeners and tap', async (t) => {
  const { config } = load({
    LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '[::]:4143',
    LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '0.0.0.0:4191',
    LINKERD2_PROXY_CONTROL_LISTEN_ADDR: '[::]:4190',
    LINKERD2_PROXY_TAP_SVC_NAME: 'tap.linkerd-viz.serviceaccount.identity.linkerd.cluster.local',
  });
  t.same(config.listeners.inbound, { host: '::', port: 4143, family: 6 });
  t.same(config.listeners.tap, {
    addr: { host: '::', port: 4190, family: 6 },
    permittedClientId: { kind: 'dns', value: 'tap.linkerd-viz.serviceaccount.identity.linkerd.cluster.local' },
  });
  t.same(load({}).config.listeners.tap, undefined);
  t.same(problemVars({ LINKERD2_PROXY_INBOUND_LISTEN_ADDR: 'localhost:4143' }), ['LINKERD2_PROXY_INBOUND_LISTEN_ADDR']);
  t.same(problemVars({ LINKERD2_PROXY_CONTROL_LISTEN_ADDR: ':::4190' }), ['LINKERD2_PROXY_CONTROL_LISTEN_ADDR'], 'checked even with tap off');
});

t.test('default policy and cluster networks', async (t) => {
  for (const p of ['deny', 'all-authenticated', 'all-unauthenticated', 'audit'] as const) {
    const r = load({ LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: p });
    t.equal(r.config.inbound.policy.defaultPolicy, p);
    t.notOk(r.warnings.some((w) => w.includes('INBOUND_DEFAULT_POLICY')), `${p}: no warning`);
  }
  for (const p of ['cluster-authenticated', 'cluster-unauthenticated']) {
    t.same(problemVars({ LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: p }), ['LINKERD2_PROXY_INBOUND_DEFAULT_POLICY'], `${p} alone`);
    t.same(problemVars({ LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: p, LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS: '' }), [
      'LINKERD2_PROXY_INBOUND_DEFAULT_POLICY',
    ], `${p} with an empty network list`);
    const ok = load({ LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: p, LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS: '10.0.0.0/8' });
    t.equal(ok.config.inbound.policy.defaultPolicy, p);
    t.same(ok.config.inbound.policy.clusterNetworks, [{ family: 4, addr: '10.0.0.0', prefixLen: 8 }]);
  }
  for (const p of ['tls-unauthenticated', 'Deny', 'all-authenticated ', '']) {
    t.same(problemVars({ LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: p }), ['LINKERD2_PROXY_INBOUND_DEFAULT_POLICY'], JSON.stringify(p));
  }
  t.same(
    problemVars({ LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'cluster-authenticated', LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS: '10/8' }),
    ['LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS'],
    'a bad network list is reported once, not twice',
  );
});

t.test('inbound ports, opaque ports, gateway, IPs, authority labels', async (t) => {
  const { config } = load({
    LINKERD2_PROXY_INBOUND_PORTS: '8080, 9000-9002',
    LINKERD2_PROXY_INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION: '25,587,3306,4444,5432,6379,9300,11211',
    LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES: 'Cluster.Local.',
    LINKERD2_PROXY_INBOUND_IPS: '10.0.0.5, fd00::5',
    LINKERD2_PROXY_INBOUND_METRICS_AUTHORITY_LABELS: 'UNSAFE',
  });
  const pol = config.inbound.policy;
  t.same(pol.ports.ranges, [[8080, 8080], [9000, 9002]]);
  t.same(pol.eagerPorts.ranges, [[4143, 4143], [4191, 4191], [8080, 8080], [9000, 9002]], 'admin and (gateway) inbound ports added');
  t.ok(portSetHas(pol.opaquePorts, 3306));
  t.notOk(portSetHas(pol.opaquePorts, 3307));
  t.same(config.inbound.gatewaySuffixes, ['cluster.local.']);
  t.same(config.inbound.ips, ['10.0.0.5', 'fd00::5']);
  t.equal(config.inbound.metricsAuthorityLabels, true);
  t.equal(load({ LINKERD2_PROXY_INBOUND_METRICS_AUTHORITY_LABELS: '' }).config.inbound.metricsAuthorityLabels, false);
  t.same(problemVars({ LINKERD2_PROXY_INBOUND_METRICS_AUTHORITY_LABELS: 'safe' }), ['LINKERD2_PROXY_INBOUND_METRICS_AUTHORITY_LABELS']);
  t.same(problemVars({ LINKERD2_PROXY_INBOUND_IPS: '10.0.0.0/8' }), ['LINKERD2_PROXY_INBOUND_IPS']);
  t.equal(load({ LINKERD2_PROXY_INBOUND_IPS: '' }).config.inbound.ips, undefined, 'empty ⇒ allow all');
});

t.test('connect backoff triplet', async (t) => {
  const base = 'LINKERD2_PROXY_OUTBOUND_CONNECT_EXP_BACKOFF';
  t.same(load({ [`${base}_MIN`]: '1s', [`${base}_MAX`]: '10s' }).config.outbound.connect.backoff, { minMs: 1000, maxMs: 10_000, jitter: 0 });
  t.same(load({ [`${base}_MIN`]: '0', [`${base}_MAX`]: '1s', [`${base}_JITTER`]: '2.5' }).config.outbound.connect.backoff, {
    minMs: 0,
    maxMs: 1000,
    jitter: 2.5,
  });
  t.same(problemVars({ [`${base}_MIN`]: '1s' }), [`${base}_MAX`], 'MIN alone');
  t.same(problemVars({ [`${base}_MAX`]: '1s' }), [`${base}_MIN`], 'MAX alone');
  t.same(problemVars({ [`${base}_JITTER`]: '0.1' }), [`${base}_MIN`], 'JITTER alone');
  t.same(problemVars({ [`${base}_MIN`]: '2s', [`${base}_MAX`]: '1s' }), [`${base}_MAX`], 'MAX < MIN');
  t.same(problemVars({ [`${base}_MIN`]: '0', [`${base}_MAX`]: '0' }), [`${base}_MAX`], 'MAX must be non-zero');
  t.same(problemVars({ [`${base}_MIN`]: '1s', [`${base}_MAX`]: '2s', [`${base}_JITTER`]: '-1' }), [`${base}_JITTER`]);
  t.same(problemVars({ [`${base}_MIN`]: '1', [`${base}_MAX`]: '2s' }), [`${base}_MIN`], 'format problem only, no pairing noise');
  const inb = 'LINKERD2_PROXY_INBOUND_CONNECT_EXP_BACKOFF';
  t.same(load({ [`${inb}_MIN`]: '5ms', [`${inb}_MAX`]: '50ms', [`${inb}_JITTER`]: '0.2' }).config.inbound.connect.backoff, {
    minMs: 5,
    maxMs: 50,
    jitter: 0.2,
  });
});

t.test('socket options and limits per direction', async (t) => {
  const { config } = load({
    LINKERD2_PROXY_INBOUND_ACCEPT_KEEPALIVE: '10000ms',
    LINKERD2_PROXY_OUTBOUND_CONNECT_KEEPALIVE: '10s',
    LINKERD2_PROXY_INBOUND_ACCEPT_USER_TIMEOUT: '30s',
    LINKERD2_PROXY_OUTBOUND_CONNECT_USER_TIMEOUT: '30s',
    LINKERD2_PROXY_INBOUND_TCP_LISTEN_BACKLOG: '1024',
    LINKERD2_PROXY_MAX_IDLE_CONNS_PER_ENDPOINT: '7',
    LINKERD2_PROXY_OUTBOUND_MAX_IDLE_CONNS_PER_ENDPOINT: '8',
    LINKERD2_PROXY_INBOUND_MAX_IN_FLIGHT: '9',
    LINKERD2_PROXY_OUTBOUND_TCP_QUEUE_CAPACITY: '11',
    LINKERD2_PROXY_OUTBOUND_TCP_FAILFAST_TIMEOUT: '4s',
    LINKERD2_PROXY_INGRESS_MODE: 'true',
  });
  t.equal(config.inbound.server.keepaliveMs, 10_000);
  t.equal(config.outbound.connect.keepaliveMs, 10_000);
  t.equal(config.inbound.server.userTimeoutMs, 30_000);
  t.equal(config.outbound.connect.userTimeoutMs, 30_000);
  t.equal(config.inbound.server.backlog, 1024);
  t.equal(config.inbound.connect.http1Pool.maxIdlePerEndpoint, 7, 'inbound name has no INBOUND_ prefix');
  t.equal(config.outbound.connect.http1Pool.maxIdlePerEndpoint, 8);
  t.equal(config.inbound.maxInFlight, 9);
  t.same(config.outbound.tcpQueue, { capacity: 11, failfastTimeoutMs: 4000 });
  t.equal(config.outbound.ingressMode, true);
  t.equal(config.outbound.disableInformationalHeaders, true, 'defaults to ingress mode');
  const explicit = load({ LINKERD2_PROXY_INGRESS_MODE: 'true', LINKERD2_PROXY_OUTBOUND_DISABLE_INFORMATIONAL_HEADERS: 'false' });
  t.equal(explicit.config.outbound.disableInformationalHeaders, false);
  t.same(problemVars({ LINKERD2_PROXY_INBOUND_MAX_IN_FLIGHT: '-1', LINKERD2_PROXY_INGRESS_MODE: '1' }), [
    'LINKERD2_PROXY_INBOUND_MAX_IN_FLIGHT',
    'LINKERD2_PROXY_INGRESS_MODE',
  ]);
});

t.test('HTTP/2 settings', async (t) => {
  const { config, warnings } = load({
    LINKERD2_PROXY_HTTP2_INITIAL_STREAM_WINDOW_SIZE: '131072',
    LINKERD2_PROXY_INBOUND_SERVER_HTTP2_INITIAL_STREAM_WINDOW_SIZE: '1',
    LINKERD2_PROXY_INBOUND_SERVER_HTTP2_INITIAL_CONNECTION_WINDOW_SIZE: '2',
    LINKERD2_PROXY_INBOUND_SERVER_HTTP2_KEEP_ALIVE_TIMEOUT: '1s',
    LINKERD2_PROXY_INBOUND_SERVER_HTTP2_KEEP_ALIVE_INTERVAL: '2s',
    LINKERD2_PROXY_INBOUND_SERVER_HTTP2_MAX_CONCURRENT_STREAMS: '3',
    LINKERD2_PROXY_INBOUND_SERVER_HTTP2_MAX_FRAME_SIZE: '16384',
    LINKERD2_PROXY_INBOUND_SERVER_HTTP2_MAX_HEADER_LIST_SIZE: '5',
    LINKERD2_PROXY_INBOUND_SERVER_HTTP2_MAX_PENDING_ACCEPT_RESET_STREAMS: '6',
    LINKERD2_PROXY_INBOUND_SERVER_HTTP2_MAX_SEND_BUF_SIZE: '7',
    LINKERD2_PROXY_OUTBOUND_SERVER_HTTP2_ADAPTIVE_FLOW_CONTROL: 'true',
    LINKERD2_PROXY_OUTBOUND_SERVER_HTTP2_INITIAL_STREAM_WINDOW_SIZE: '9',
    LINKERD2_PROXY_OUTBOUND_SERVER_HTTP2_KEEP_ALIVE_TIMEOUT: '1s',
  });
  t.same(config.outbound.connect.http2, { initialStreamWindowSize: 131_072, initialConnectionWindowSize: 1_048_576 });
  t.equal(config.inbound.connect.http2, config.outbound.connect.http2, 'client windows shared by both directions');
  t.same(config.inbound.server.http2, {
    flowControl: { kind: 'fixed', initialStreamWindowSize: 1, initialConnectionWindowSize: 2 },
    keepAlive: { intervalMs: 2000, timeoutMs: 1000 },
    maxConcurrentStreams: 3,
    maxFrameSize: 16_384,
    maxHeaderListSize: 5,
    maxPendingAcceptResetStreams: 6,
    maxSendBufSize: 7,
  });
  t.same(config.outbound.server.http2.flowControl, { kind: 'adaptive' }, 'adaptive wins');
  t.equal(config.outbound.server.http2.keepAlive, undefined, 'keepalive needs both');
  t.ok(warnings.some((w) => w.startsWith('LINKERD2_PROXY_OUTBOUND_SERVER_HTTP2_KEEP_ALIVE_TIMEOUT is ignored')));
  t.ok(warnings.some((w) => w.startsWith('LINKERD2_PROXY_OUTBOUND_SERVER_HTTP2_INITIAL_STREAM_WINDOW_SIZE is ignored')));
  t.same(
    problemVars({
      LINKERD2_PROXY_HTTP2_INITIAL_CONNECTION_WINDOW_SIZE: '2147483648',
      LINKERD2_PROXY_INBOUND_SERVER_HTTP2_MAX_FRAME_SIZE: '100',
      LINKERD2_PROXY_OUTBOUND_SERVER_HTTP2_ADAPTIVE_FLOW_CONTROL: 'yes',
    }),
    [
      'LINKERD2_PROXY_HTTP2_INITIAL_CONNECTION_WINDOW_SIZE',
      'LINKERD2_PROXY_INBOUND_SERVER_HTTP2_MAX_FRAME_SIZE',
      'LINKERD2_PROXY_OUTBOUND_SERVER_HTTP2_ADAPTIVE_FLOW_CONTROL',
    ],
  );
});

t.test('admin, shutdown, logging, runtime', async (t) => {
  const { config, warnings } = load({
    LINKERD2_PROXY_SHUTDOWN_ENDPOINT_ENABLED: 'true',
    LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: '30s',
    LINKERD2_PROXY_METRICS_RETAIN_IDLE: '1h',
    LINKERD2_PROXY_LOG: 'off',
    LINKERD2_PROXY_LOG_FORMAT: ' JSON ',
    LINKERD2_PROXY_ACCESS_LOG: 'Apache',
    LINKERD2_PROXY_CORES_MIN: '0',
    LINKERD2_PROXY_CORES: '2',
    LINKERD2_PROXY_CORES_MAX: 'many',
    LINKERD2_PROXY_CORES_MAX_RATIO: '0.5',
  });
  t.same(config.admin, { shutdownEndpointEnabled: true, metricsRetainIdleMs: 3_600_000 });
  t.equal(config.shutdownGracePeriodMs, 30_000);
  t.same(config.logging, { filter: 'off', format: 'json', accessLog: 'apache' });
  t.same(config.runtime, { coresMin: 2, coresMax: undefined, coresMaxRatio: 0.5 }, 'CORES used when CORES_MIN is invalid');
  t.ok(warnings.some((w) => w.includes('LINKERD2_PROXY_CORES_MIN')));
  t.ok(warnings.some((w) => w.includes('LINKERD2_PROXY_CORES_MAX=')));

  const lenient = load({ LINKERD2_PROXY_LOG_FORMAT: 'yaml', LINKERD2_PROXY_ACCESS_LOG: 'common' });
  t.same([lenient.config.logging.format, lenient.config.logging.accessLog], ['plain', undefined], 'never fatal, as in Rust');
  t.equal(lenient.warnings.filter((w) => w.includes('LOG_FORMAT') || w.includes('ACCESS_LOG')).length, 2);
  t.same(problemVars({ LINKERD2_PROXY_SHUTDOWN_ENDPOINT_ENABLED: 'TRUE' }), ['LINKERD2_PROXY_SHUTDOWN_ENDPOINT_ENABLED']);
});

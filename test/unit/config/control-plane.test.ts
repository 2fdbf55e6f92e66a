// Control-plane rules: ADDR/NAME pairs, loopback ⇒ no TLS, mandatory services, stream-limit ordering.
import t from 'tap';
import { ConfigError, loadConfig } from '../../../src/config/index.js';
import { K8S_ENV, VM_ENV, withEnv } from './fixtures.js';

function problems(env: Record<string, string | undefined>): ConfigError['problems'] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const BASES = [
  'LINKERD2_PROXY_DESTINATION_SVC',
  'LINKERD2_PROXY_POLICY_SVC',
  'LINKERD2_PROXY_IDENTITY_SVC',
  'LINKERD2_PROXY_TRACE_COLLECTOR_SVC',
] as const;

t.test('ADDR and NAME must be specified together', async (t) => {
  for (const base of BASES) {
    const full = withEnv(K8S_ENV, {
      LINKERD2_PROXY_TRACE_COLLECTOR_SVC_ADDR: 'collector.linkerd-jaeger.svc.cluster.local.:55678',
      LINKERD2_PROXY_TRACE_COLLECTOR_SVC_NAME: 'collector.linkerd-jaeger.serviceaccount.identity.linkerd.cluster.local',
    });
    const noName = problems(withEnv(full, { [`${base}_NAME`]: undefined }));
    t.equal(noName.length, 1, `${base}: one problem`);
    t.equal(noName[0]?.variable, `${base}_NAME`);
    t.match(noName[0]?.message, `${base}_ADDR and ${base}_NAME must be specified together`);

    const noAddr = problems(withEnv(full, { [`${base}_ADDR`]: undefined }));
    t.equal(noAddr.length, 1, `${base}: one problem without ADDR`);
    t.equal(noAddr[0]?.variable, `${base}_ADDR`);
    t.match(noAddr[0]?.message, `${base}_ADDR and ${base}_NAME must be specified together`);
  }
});

t.test('a loopback ADDR means plaintext and needs no NAME', async (t) => {
  for (const addr of ['localhost.:8086', 'localhost:8086', '127.0.0.1:8086', '[::1]:8086']) {
    const { config } = loadConfig(
      withEnv(K8S_ENV, {
        LINKERD2_PROXY_DESTINATION_SVC_ADDR: addr,
        LINKERD2_PROXY_DESTINATION_SVC_NAME: undefined,
      }),
    );
    const dst = config.controlPlane.destination;
    t.same(dst.tls, { kind: 'none', reason: 'loopback' }, addr);
    t.equal(dst.connect, config.inbound.connect, `${addr}: inbound connect settings`);
    t.equal(dst.queue.failfastTimeoutMs, config.inbound.httpQueue.failfastTimeoutMs);
  }
  const { config } = loadConfig(
    withEnv(K8S_ENV, { LINKERD2_PROXY_IDENTITY_SVC_ADDR: 'localhost.:8080', LINKERD2_PROXY_IDENTITY_SVC_NAME: 'ignored.example' }),
  );
  t.match(config.identity.mode, { kind: 'linkerd', svc: { tls: { kind: 'none', reason: 'loopback' } } }, 'NAME ignored');
  const bad = problems(
    withEnv(K8S_ENV, { LINKERD2_PROXY_POLICY_SVC_ADDR: '127.0.0.1:8090', LINKERD2_PROXY_POLICY_SVC_NAME: 'not a name' }),
  );
  t.same(bad.map((p) => p.variable), ['LINKERD2_PROXY_POLICY_SVC_NAME'], 'a malformed NAME is still rejected');
});

t.test('mandatory services and workload', async (t) => {
  const noDst = problems(
    withEnv(K8S_ENV, { LINKERD2_PROXY_DESTINATION_SVC_ADDR: undefined, LINKERD2_PROXY_DESTINATION_SVC_NAME: undefined }),
  );
  t.same(noDst.map((p) => p.variable), ['LINKERD2_PROXY_DESTINATION_SVC_ADDR']);
  t.match(noDst[0]?.message, /^no destination service configured/);

  const noPolicy = problems(
    withEnv(K8S_ENV, { LINKERD2_PROXY_POLICY_SVC_ADDR: undefined, LINKERD2_PROXY_POLICY_SVC_NAME: undefined }),
  );
  t.same(noPolicy.map((p) => p.variable), ['LINKERD2_PROXY_POLICY_SVC_ADDR']);
  t.match(noPolicy[0]?.message, /^no policy service configured/);

  const noWorkload = problems(withEnv(K8S_ENV, { LINKERD2_PROXY_POLICY_WORKLOAD: undefined }));
  t.same(noWorkload.map((p) => p.variable), ['LINKERD2_PROXY_POLICY_WORKLOAD']);
  t.same(problems(withEnv(K8S_ENV, { LINKERD2_PROXY_POLICY_WORKLOAD: ' \n' })).map((p) => p.variable), [
    'LINKERD2_PROXY_POLICY_WORKLOAD',
  ]);
  const { config } = loadConfig(withEnv(K8S_ENV, { LINKERD2_PROXY_POLICY_WORKLOAD: 'default:web-123  ' }));
  t.equal(config.controlPlane.policyWorkload, 'default:web-123  ', 'sent verbatim');

  t.same(problems(withEnv(K8S_ENV, { LINKERD2_PROXY_DESTINATION_SVC_ADDR: 'no-port.example' })).map((p) => p.variable), [
    'LINKERD2_PROXY_DESTINATION_SVC_ADDR',
  ]);
});

t.test('control stream limits: empty = unset; initial ≤ idle ≤ lifetime', async (t) => {
  const env = (initial: string, idle: string, lifetime: string): Record<string, string> =>
    withEnv(VM_ENV, {
      LINKERD2_PROXY_CONTROL_STREAM_INITIAL_TIMEOUT: initial,
      LINKERD2_PROXY_CONTROL_STREAM_IDLE_TIMEOUT: idle,
      LINKERD2_PROXY_CONTROL_STREAM_LIFETIME: lifetime,
    });
  const { config } = loadConfig(env('1s', '2s', '3s'));
  const limits = { initialTimeoutMs: 1000, idleTimeoutMs: 2000, lifetimeMs: 3000 };
  t.same(config.controlPlane.streamLimits, limits);
  t.same(config.controlPlane.destination.streamLimits, limits);
  t.same(config.controlPlane.policy.streamLimits, limits);

  const none = loadConfig(env('', '', '')).config.controlPlane.streamLimits;
  t.same(none, { initialTimeoutMs: undefined, idleTimeoutMs: undefined, lifetimeMs: undefined });
  t.same(loadConfig(env('2s', '2s', '2s')).config.controlPlane.streamLimits.lifetimeMs, 2000, 'equal is fine');

  t.same(problems(env('3s', '1s', '')).map((p) => p.variable), ['LINKERD2_PROXY_CONTROL_STREAM_INITIAL_TIMEOUT']);
  t.same(problems(env('3s', '', '1s')).map((p) => p.variable), ['LINKERD2_PROXY_CONTROL_STREAM_INITIAL_TIMEOUT']);
  t.same(problems(env('', '3s', '1s')).map((p) => p.variable), ['LINKERD2_PROXY_CONTROL_STREAM_IDLE_TIMEOUT']);
  t.match(problems(env('', '3s', '1s'))[0]?.message, 'must not be greater than LINKERD2_PROXY_CONTROL_STREAM_LIFETIME');
  t.same(problems(env('1', '', '')).map((p) => p.variable), ['LINKERD2_PROXY_CONTROL_STREAM_INITIAL_TIMEOUT']);

  const loopback = loadConfig(
    withEnv(env('1s', '2s', '3s'), {
      LINKERD2_PROXY_DESTINATION_SVC_ADDR: '127.0.0.1:8086',
      LINKERD2_PROXY_DESTINATION_SVC_NAME: undefined,
    }),
  ).config.controlPlane;
  t.same(loopback.destination.streamLimits, none, 'limits apply only to non-loopback control planes');
  t.same(loopback.policy.streamLimits, limits);
});

t.test('destination discovery settings', async (t) => {
  const { config } = loadConfig(
    withEnv(VM_ENV, {
      LINKERD2_PROXY_DESTINATION_PROFILE_SUFFIXES: '.',
      LINKERD2_PROXY_DESTINATION_PROFILE_NETWORKS: '10.0.0.0/8,fd00::/8',
      LINKERD2_PROXY_DESTINATION_PROFILE_INITIAL_TIMEOUT: '1s',
      LINKERD2_PROXY_DNS_MIN_TTL: '5s',
      LINKERD2_PROXY_DNS_MAX_TTL: '1m',
    }),
  );
  const cp = config.controlPlane;
  t.same(cp.profileSuffixes, ['.']);
  t.same(cp.profileNetworks, [
    { family: 4, addr: '10.0.0.0', prefixLen: 8 },
    { family: 6, addr: 'fd00::', prefixLen: 8 },
  ]);
  t.equal(cp.profileInitialTimeoutMs, 1000);
  t.same(cp.dns, { minTtlMs: 5000, maxTtlMs: 60_000 });
  t.same(loadConfig(withEnv(VM_ENV, { LINKERD2_PROXY_DESTINATION_PROFILE_SUFFIXES: '' })).config.controlPlane.profileSuffixes, []);
});

t.test('trace collector pair is parsed and validated', async (t) => {
  const { config } = loadConfig(
    withEnv(VM_ENV, {
      LINKERD2_PROXY_TRACE_COLLECTOR_SVC_ADDR: 'collector.tracing.svc.cluster.local.:4317',
      LINKERD2_PROXY_TRACE_COLLECTOR_SVC_NAME: 'collector.tracing.serviceaccount.identity.linkerd.cluster.local',
    }),
  );
  t.match(config.traceCollector, { addr: { port: 4317 }, tls: { kind: 'mtls' } });
  t.same(problems(withEnv(VM_ENV, { LINKERD2_PROXY_TRACE_COLLECTOR_SVC_ADDR: 'bad' })).map((p) => p.variable), [
    'LINKERD2_PROXY_TRACE_COLLECTOR_SVC_ADDR',
  ]);
});

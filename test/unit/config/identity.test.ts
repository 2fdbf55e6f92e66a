// Identity mode selection (spec §1.4) both ways, with each fatal error, and the trust-anchor/local-name rules.
import t from 'tap';
import { ConfigError, loadConfig } from '../../../src/config/index.js';
import { K8S_ENV, TEST_ROOT_PEM, VM_ENV, withEnv } from './fixtures.js';

function problems(env: Record<string, string | undefined>): ConfigError['problems'] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const SPIRE_ADDR = 'LINKERD2_PROXY_IDENTITY_SPIRE_WORKLOAD_API_ADDRESS';

t.test('SPIRE mode', async (t) => {
  const base = withEnv(VM_ENV, { LINKERD2_PROXY_IDENTITY_SPIRE_SOCKET: undefined });
  const addr = (value: string): unknown =>
    loadConfig(withEnv(base, { [SPIRE_ADDR]: value })).config.identity.mode;
  t.match(addr('unix:///tmp/x.sock'), { kind: 'spire', workloadApiAddress: '/tmp/x.sock' }, 'unix:// stripped');
  t.match(addr('unix:/tmp/x.sock'), { workloadApiAddress: '/tmp/x.sock' }, 'unix: stripped');
  t.match(addr('/run/spire/agent.sock'), { workloadApiAddress: '/run/spire/agent.sock' });

  const { config, warnings } = loadConfig(
    withEnv(base, {
      [SPIRE_ADDR]: '/run/a.sock',
      LINKERD2_PROXY_IDENTITY_SPIRE_SOCKET: '/run/b.sock',
      LINKERD2_PROXY_IDENTITY_SPIRE_EXP_BACKOFF_MIN: '50ms',
      LINKERD2_PROXY_IDENTITY_SPIRE_EXP_BACKOFF_MAX: '5s',
      LINKERD2_PROXY_IDENTITY_SPIRE_EXP_BACKOFF_JITTER: '0.5',
      LINKERD2_PROXY_IDENTITY_DIR: '/unused',
    }),
  );
  t.same(config.identity.mode, {
    kind: 'spire',
    workloadApiAddress: '/run/a.sock',
    backoff: { minMs: 50, maxMs: 5000, jitter: 0.5 },
  });
  t.notOk(warnings.some((w) => w.includes('deprecated')), 'the new name wins without a deprecation warning');
  t.ok(warnings.includes('LINKERD2_PROXY_IDENTITY_DIR is ignored in SPIRE identity mode'));

  const dnsId = problems(withEnv(VM_ENV, { LINKERD2_PROXY_IDENTITY_SERVER_ID: 'external-workload.cluster.local' }));
  t.same(dnsId.map((p) => p.variable), ['LINKERD2_PROXY_IDENTITY_SERVER_ID']);
  t.match(dnsId[0]?.message, /^Spire support requires a SPIFFE TLS Id/);
  const httpId = problems(withEnv(VM_ENV, { LINKERD2_PROXY_IDENTITY_SERVER_ID: 'https://example.com/x' }));
  t.match(httpId[0]?.message, /^Spire support requires a SPIFFE TLS Id/);
  t.same(problems(withEnv(VM_ENV, { LINKERD2_PROXY_IDENTITY_SPIRE_SOCKET: 'unix:' })).map((p) => p.variable), [
    'LINKERD2_PROXY_IDENTITY_SPIRE_SOCKET',
  ]);
  t.same(
    problems(withEnv(VM_ENV, { LINKERD2_PROXY_IDENTITY_SPIRE_EXP_BACKOFF_MIN: '1s' })).map((p) => p.variable),
    ['LINKERD2_PROXY_IDENTITY_SPIRE_EXP_BACKOFF_MAX'],
    'SPIRE backoff is a triplet too',
  );
});

t.test('Linkerd identity mode', async (t) => {
  const { config } = loadConfig(
    withEnv(K8S_ENV, { LINKERD2_PROXY_IDENTITY_MIN_REFRESH: '1m', LINKERD2_PROXY_IDENTITY_MAX_REFRESH: '12h' }),
  );
  t.match(config.identity.mode, { kind: 'linkerd', minRefreshMs: 60_000, maxRefreshMs: 43_200_000 });

  for (const v of ['LINKERD2_PROXY_IDENTITY_DIR', 'LINKERD2_PROXY_IDENTITY_TOKEN_FILE', 'LINKERD2_PROXY_IDENTITY_SVC_ADDR']) {
    const missing = v === 'LINKERD2_PROXY_IDENTITY_SVC_ADDR' ? { [v]: undefined, LINKERD2_PROXY_IDENTITY_SVC_NAME: undefined } : { [v]: undefined };
    const p = problems(withEnv(K8S_ENV, missing));
    t.same(p.map((x) => x.variable), [v], `${v} required`);
    t.match(p[0]?.message, 'must be set in Linkerd identity mode');
  }
  t.same(problems(withEnv(K8S_ENV, { LINKERD2_PROXY_IDENTITY_DIR: '' })).map((p) => p.variable), ['LINKERD2_PROXY_IDENTITY_DIR']);

  const split = withEnv(K8S_ENV, {
    LINKERD2_PROXY_IDENTITY_LOCAL_NAME: undefined,
    LINKERD2_PROXY_IDENTITY_SERVER_ID: 'a.example',
    LINKERD2_PROXY_IDENTITY_SERVER_NAME: 'A.Example',
  });
  const c = loadConfig(split).config.identity;
  t.same([c.serverId, c.serverName], [{ kind: 'dns', value: 'a.example' }, 'a.example'], 'equal after lower-casing');

  const differ = problems(withEnv(split, { LINKERD2_PROXY_IDENTITY_SERVER_NAME: 'b.example' }));
  t.same(differ.map((p) => p.variable), ['LINKERD2_PROXY_IDENTITY_SERVER_ID']);
  t.match(differ[0]?.message, /^linkerd identity requires a TLS Id and server name to be the same/);
  const uri = problems(withEnv(split, { LINKERD2_PROXY_IDENTITY_SERVER_ID: 'spiffe://td/x' }));
  t.match(uri[0]?.message, /^linkerd identity requires a TLS Id and server name to be the same/, 'a URI id needs SPIRE');
});

t.test('local identity variables', async (t) => {
  const { warnings } = loadConfig(withEnv(K8S_ENV, { LINKERD2_PROXY_IDENTITY_SERVER_ID: 'other.example' }));
  t.ok(warnings.includes('LINKERD2_PROXY_IDENTITY_SERVER_ID is ignored because LINKERD2_PROXY_IDENTITY_LOCAL_NAME is set'));
  for (const bad of ['', 'trailing.dot.', 'spiffe://td/x', 'not a name']) {
    t.same(problems(withEnv(K8S_ENV, { LINKERD2_PROXY_IDENTITY_LOCAL_NAME: bad })).map((p) => p.variable), [
      'LINKERD2_PROXY_IDENTITY_LOCAL_NAME',
    ], JSON.stringify(bad));
  }
  t.same(problems(withEnv(VM_ENV, { LINKERD2_PROXY_IDENTITY_SERVER_NAME: 'bad name' })).map((p) => p.variable), [
    'LINKERD2_PROXY_IDENTITY_SERVER_NAME',
  ]);
  t.same(problems(withEnv(VM_ENV, { LINKERD2_PROXY_IDENTITY_SERVER_ID: 'dns.with.dot.' })).map((p) => p.variable), [
    'LINKERD2_PROXY_IDENTITY_SERVER_ID',
  ]);
});

t.test('identity can no longer be disabled', async (t) => {
  const p = problems(withEnv(K8S_ENV, { LINKERD2_PROXY_IDENTITY_DISABLED: 'disabled' }));
  t.same(p.map((x) => x.variable), ['LINKERD2_PROXY_IDENTITY_DISABLED']);
  t.doesNotThrow(() => loadConfig(withEnv(K8S_ENV, { LINKERD2_PROXY_IDENTITY_DISABLED: '' })), 'empty is fine');
});

t.test('trust anchors', async (t) => {
  t.same(problems(withEnv(K8S_ENV, { LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: undefined })).map((p) => p.variable), [
    'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS',
  ]);
  t.same(problems(withEnv(K8S_ENV, { LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: '' })).map((p) => p.variable), [
    'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS',
  ]);
  const junk = `-----BEGIN CERTIFICATE-----\n${Buffer.from('junk').toString('base64')}\n-----END CERTIFICATE-----\n`;
  const { config, warnings } = loadConfig(withEnv(K8S_ENV, { LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: junk + TEST_ROOT_PEM }));
  t.equal(config.identity.trustAnchors.length, 1);
  t.ok(warnings.includes('Skipped 1 invalid trust anchor(s) in LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS'));
});

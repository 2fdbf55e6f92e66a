// Every default policy × client TLS state × cluster/non-cluster address, for TCP and HTTP; opaque variants; the invalid policy.
import t from 'tap';
import {
  authorizeHttp,
  authorizeTcp,
  DEFAULT_POLICY_NAMES,
  defaultPolicyForPort,
  defaultServerPolicy,
  DENY_POLICY,
  invalidPolicy,
  invalidPolicyTimeoutMs,
  opaqueVariant,
  type DefaultPolicy,
  type ServerPolicy,
} from '../../../../src/policy/inbound/index.js';
import { CLUSTER_IPS, CLUSTER_NETWORKS, conn, EXTERNAL_IPS, request, TLS_CASES } from './fixtures.js';

const opts = { detectTimeoutMs: 4321, clusterNetworks: CLUSTER_NETWORKS };
type TlsCase = keyof typeof TLS_CASES;

/** The spec's table (§4.6): who each default policy admits. */
function expected(name: DefaultPolicy, tls: TlsCase, inCluster: boolean): boolean {
  switch (name) {
    case 'all-unauthenticated':
    case 'audit':
      return true;
    case 'all-authenticated':
      return tls === 'dnsId';
    case 'cluster-unauthenticated':
      return inCluster;
    case 'cluster-authenticated':
      return inCluster && tls === 'dnsId';
    case 'deny':
      return false;
  }
}

t.test('the six default policies have the specified shape', async (t) => {
  t.same([...DEFAULT_POLICY_NAMES].sort(), ['all-authenticated', 'all-unauthenticated', 'audit', 'cluster-authenticated', 'cluster-unauthenticated', 'deny']);
  for (const name of DEFAULT_POLICY_NAMES) {
    const p = defaultServerPolicy(name, opts);
    t.same(p.meta, { group: '', kind: 'default', name }, `${name}: meta`);
    t.equal(p.localRateLimit, undefined);
    if (name === 'deny') {
      t.same(p.protocol, { kind: 'opaque', tcpAuthorizations: [] }, 'deny is opaque with zero authorizations');
      continue;
    }
    const proto = p.protocol;
    if (proto.kind !== 'detect') throw new Error(`${name} must be detect`);
    t.equal(proto.timeoutMs, 4321, `${name}: INBOUND_DETECT_TIMEOUT`);
    t.equal(proto.tcpAuthorizations.length, 1, `${name}: one authorization`);
    t.same(proto.tcpAuthorizations[0]?.meta, { group: '', kind: 'default', name }, `${name}: authz named after the policy`);
    t.equal(proto.httpRoutes.length, 1);
    const route = proto.httpRoutes[0];
    t.same(route?.meta, { group: '', kind: 'default', name: 'default' }, `${name}: route "default"`);
    t.same(route?.hosts, []);
    t.same(route?.rules, [{ matches: [], filters: [] }], 'matches everything');
    t.equal(route?.authorizations[0], proto.tcpAuthorizations[0], 'the route uses the same authorization');
  }
  const clusterAuth = defaultServerPolicy('cluster-authenticated', opts).protocol;
  if (clusterAuth.kind !== 'detect') throw new Error('detect');
  t.same(clusterAuth.tcpAuthorizations[0]?.networks.map((n) => n.net), CLUSTER_NETWORKS);
  t.same(clusterAuth.tcpAuthorizations[0]?.authentication, { kind: 'tls-authenticated', identities: [], suffixes: [[]] });
  const all = defaultServerPolicy('all-unauthenticated', opts).protocol;
  if (all.kind !== 'detect') throw new Error('detect');
  t.same(all.tcpAuthorizations[0]?.networks.map((n) => `${n.net.addr}/${n.net.prefixLen}`), ['0.0.0.0/0', '::/0']);
});

t.test('TCP: every default policy × TLS state × address', async (t) => {
  for (const name of DEFAULT_POLICY_NAMES) {
    const policy = defaultServerPolicy(name, opts);
    for (const [tlsName, tls] of Object.entries(TLS_CASES) as [TlsCase, (typeof TLS_CASES)[TlsCase]][]) {
      for (const [ips, inCluster] of [[CLUSTER_IPS, true], [EXTERNAL_IPS, false]] as const) {
        for (const ip of ips) {
          const r = authorizeTcp(policy, conn(ip, tls));
          const want = expected(name, tlsName, inCluster);
          t.equal(r.allowed, want, `${name} ${tlsName} ${ip} ⇒ ${want ? 'allowed' : 'denied'}`);
          if (r.allowed) {
            t.equal(r.authz.meta.name, name);
            t.equal(r.audit, name === 'audit', `${name}: audit flag`);
          }
        }
      }
    }
  }
});

t.test('HTTP: every default policy × TLS state × address', async (t) => {
  const reqs = [request(), request({ method: 'POST', path: '/a/b', query: 'x=1', host: 'web.example.com:8080', headers: { 'x-y': 'z' } })];
  for (const name of DEFAULT_POLICY_NAMES) {
    const policy = defaultServerPolicy(name, opts);
    for (const [tlsName, tls] of Object.entries(TLS_CASES) as [TlsCase, (typeof TLS_CASES)[TlsCase]][]) {
      for (const [ips, inCluster] of [[CLUSTER_IPS, true], [EXTERNAL_IPS, false]] as const) {
        for (const ip of ips) {
          for (const req of reqs) {
            const r = authorizeHttp(policy, conn(ip, tls), req);
            const label = `${name} ${tlsName} ${ip} ${req.path}`;
            if (name === 'deny') {
              // Opaque: connections never reach HTTP; if asked, there is no route.
              t.same(r, { kind: 'not-found' }, `${label} ⇒ no route`);
              continue;
            }
            const want = expected(name, tlsName, inCluster);
            t.equal(r.kind, want ? 'allowed' : 'denied', `${label} ⇒ ${want ? 'allowed' : '403'}`);
            if (r.kind === 'allowed') {
              t.equal(r.route.meta.name, 'default');
              t.equal(r.authz.meta.name, name);
              t.equal(r.audit, name === 'audit');
            } else if (r.kind === 'denied') {
              t.equal(r.route.meta.name, 'default');
            }
          }
        }
      }
    }
  }
});

t.test('cluster policies without cluster networks admit nobody', async (t) => {
  const p = defaultServerPolicy('cluster-unauthenticated', { detectTimeoutMs: 1000, clusterNetworks: [] });
  t.equal(authorizeTcp(p, conn('10.0.0.1', TLS_CASES.dnsId)).allowed, false);
});

t.test('opaque variants keep meta and TCP authorizations', async (t) => {
  for (const name of DEFAULT_POLICY_NAMES) {
    const detect = defaultServerPolicy(name, opts);
    const opaque = defaultPolicyForPort(name, { ...opts, opaque: true });
    t.same(opaque.meta, detect.meta, `${name}: same meta`);
    t.equal(opaque.protocol.kind, 'opaque', `${name}: opaque`);
    const want = detect.protocol.kind === 'detect' || detect.protocol.kind === 'opaque' ? detect.protocol.tcpAuthorizations : [];
    if (opaque.protocol.kind === 'opaque') t.same(opaque.protocol.tcpAuthorizations, want);
    t.same(defaultPolicyForPort(name, { ...opts, opaque: false }), detect, `${name}: non-opaque port keeps detect`);
    for (const [tlsName, tls] of Object.entries(TLS_CASES) as [TlsCase, (typeof TLS_CASES)[TlsCase]][]) {
      t.equal(authorizeTcp(opaque, conn('10.1.1.1', tls)).allowed, expected(name, tlsName, true), `${name} opaque ${tlsName}`);
    }
    t.same(authorizeHttp(opaque, conn('10.1.1.1', TLS_CASES.dnsId), request()), { kind: 'not-found' }, 'opaque has no HTTP routes');
  }
  t.equal(opaqueVariant(DENY_POLICY), DENY_POLICY, 'deny is already opaque');
  const http: ServerPolicy = { meta: { group: 'policy.linkerd.io', kind: 'server', name: 'h' }, protocol: { kind: 'http1', routes: [] }, localRateLimit: undefined };
  t.same(opaqueVariant(http).protocol, { kind: 'opaque', tcpAuthorizations: [] }, 'an HTTP-only policy has nothing to admit opaque traffic');
  const tls: ServerPolicy = { ...http, protocol: { kind: 'tls', tcpAuthorizations: [] } };
  t.equal(opaqueVariant(tls).protocol.kind, 'opaque');
});

t.test('the invalid policy denies everything', async (t) => {
  const p = invalidPolicy(7000);
  t.same(p.meta, { group: '', kind: 'default', name: 'invalid' });
  if (p.protocol.kind !== 'detect') throw new Error('detect');
  t.equal(p.protocol.timeoutMs, 7000);
  t.same(p.protocol.tcpAuthorizations, []);
  t.equal(p.protocol.httpRoutes.length, 1);
  t.same(p.protocol.httpRoutes[0]?.authorizations, []);
  t.same(p.protocol.httpRoutes[0]?.rules[0]?.filters, [{ kind: 'internal-error', message: 'invalid server configuration' }]);
  for (const tls of Object.values(TLS_CASES)) {
    for (const ip of [...CLUSTER_IPS, ...EXTERNAL_IPS, '127.0.0.1', '::1']) {
      t.equal(authorizeTcp(p, conn(ip, tls)).allowed, false, `tcp ${ip}`);
      const r = authorizeHttp(p, conn(ip, tls), request({ path: '/anything', method: 'DELETE' }));
      t.equal(r.kind, 'denied', `http ${ip} ⇒ 403 (route found, no authorization)`);
    }
  }
  t.equal(invalidPolicyTimeoutMs(defaultServerPolicy('all-unauthenticated', opts)), 4321, 'timeout of the detect default');
  t.equal(invalidPolicyTimeoutMs(DENY_POLICY), 10_000, '10s when the default is deny');
});

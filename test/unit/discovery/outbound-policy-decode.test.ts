// OutboundPolicy bytes decode into the routing model; what the Rust proxy rejects is rejected, and synthesised policies have its shape.
import t from 'tap';
import { decodeMessage, duration, encodeMessage, tcpAddress } from '../../support/control-plane-codec.js';
import type { Wire } from '../../support/control-plane-codec.js';
import { decodeOutboundPolicy } from '../../../src/discovery/outbound-policy-decode.js';
import { invalidOutboundPolicy, origDstPolicy, profileEndpointPolicy } from '../../../src/discovery/outbound-fallback.js';
import { decodeProfile } from '../../../src/discovery/destination-decode.js';
import type { OutboundPolicy } from '../../../src/discovery/outbound-policy-types.js';

const TYPE = 'io.linkerd.proxy.outbound.OutboundPolicy';

function decode(value: Wire, warn: (m: string) => void = () => undefined): OutboundPolicy {
  return decodeOutboundPolicy(decodeMessage(TYPE, encodeMessage(TYPE, value)), warn);
}

const svcMeta = { resource: { group: 'core', kind: 'Service', name: 'web', namespace: 'emojivoto', port: 80 } };

function serviceBackend(load: Wire = { peakEwma: { defaultRtt: duration(30), decay: duration(10_000) } }): Wire {
  return {
    metadata: svcMeta,
    queue: { capacity: 100, failfastTimeout: duration(3000) },
    balancer: { discovery: { dst: { path: 'web.emojivoto.svc.cluster.local:80' } }, ...load },
  };
}

/** What a controller sends for an ordinary Service with no routes. */
function servicePolicy(backend: Wire = serviceBackend()): Wire {
  const httpRoute = {
    metadata: { default: 'http' },
    rules: [
      {
        matches: [{ path: { prefix: '/' } }],
        backends: { firstAvailable: { backends: [{ backend }] } },
        timeouts: { request: duration(5000) },
      },
    ],
  };
  return {
    metadata: svcMeta,
    protocol: {
      detect: {
        timeout: duration(10_000),
        opaque: { routes: [{ metadata: { default: 'opaq' }, rules: [{ backends: { firstAvailable: { backends: [{ backend }] } } }] }] },
        http1: { routes: [httpRoute] },
        http2: { routes: [httpRoute] },
      },
    },
  };
}

t.test('an ordinary Service policy: detect with opaque/HTTP routes to one P2C backend', async (t) => {
  const p = decode(servicePolicy());
  t.same(p.meta, { group: 'core', kind: 'Service', name: 'web', namespace: 'emojivoto', section: undefined, port: 80 });
  if (p.protocol.kind !== 'detect') {
    t.fail('expected detect');
    return;
  }
  t.equal(p.protocol.timeoutMs, 10_000);
  const rule = p.protocol.http1.routes[0]?.rules[0];
  t.same(rule?.matches, [{ path: { kind: 'prefix', prefix: '/' }, headers: [], queryParams: [], method: undefined }]);
  t.equal(rule?.timeouts.requestMs, 5000);
  const dist = rule?.distribution;
  if (dist?.kind !== 'first-available') {
    t.fail('expected first-available');
    return;
  }
  const backend = dist.backends[0]?.backend;
  t.same(backend?.dispatch, { kind: 'balancer', path: 'web.emojivoto.svc.cluster.local:80', load: { kind: 'peak-ewma', defaultRttMs: 30, decayMs: 10_000 } });
  t.same(backend?.queue, { capacity: 100, failfastTimeoutMs: 3000 });
  t.equal(p.protocol.opaque.route?.meta.name, 'opaq');
  t.equal(p.backends.length, 1, 'the same backend in every route is one object');
  t.equal(p.protocol.opaque.route?.rule.distribution.kind === 'first-available' ? p.protocol.opaque.route.rule.distribution.backends[0]?.backend : undefined, backend);
});

t.test('penalty peak EWMA takes documented defaults for absent fields', async (t) => {
  const p = decode(servicePolicy(serviceBackend({ penaltyPeakEwma: { penalty: duration(2000) } })));
  t.same(p.backends[0]?.dispatch, {
    kind: 'balancer',
    path: 'web.emojivoto.svc.cluster.local:80',
    load: { kind: 'penalty-peak-ewma', defaultRttMs: 30, decayMs: 10_000, penaltyMs: 2000, maxRetryAfterMs: 300_000, penaltyDecayMs: 10_000 },
  });
});

t.test('forward backends, backends without a dispatcher, forbidden opaque routes', async (t) => {
  const egress = decode({
    metadata: { default: 'egress-fallback' },
    protocol: {
      opaque: {
        routes: [
          {
            metadata: { default: 'egress-fallback' },
            rules: [
              {
                backends: {
                  randomAvailable: {
                    backends: [
                      { weight: 1, backend: { backend: { metadata: { default: 'egress-fallback' }, queue: { capacity: 100, failfastTimeout: duration(3000) }, forward: { addr: tcpAddress('93.184.215.14', 443) } } } },
                      { weight: 2, backend: { backend: { metadata: svcMeta, queue: { capacity: 1, failfastTimeout: duration(1) } } } },
                    ],
                  },
                },
                filters: [{ forbidden: {} }, { invalid: { message: 'nope' } }],
              },
            ],
          },
        ],
      },
    },
  });
  if (egress.protocol.kind !== 'opaque') {
    t.fail('expected opaque');
    return;
  }
  const rule = egress.protocol.route?.rule;
  t.same(rule?.filters, [{ kind: 'forbidden' }, { kind: 'invalid', message: 'nope' }]);
  if (rule?.distribution.kind !== 'random-available') {
    t.fail('expected random');
    return;
  }
  const [fwd, failing] = rule.distribution.backends;
  t.equal(fwd?.weight, 1);
  t.equal(fwd?.backend.backend.dispatch.kind === 'forward' ? fwd.backend.backend.dispatch.endpoint.key : undefined, '93.184.215.14:443');
  t.same(failing?.backend.backend.dispatch, { kind: 'fail', message: 'backend for Service emojivoto/web has no dispatcher' });
});

t.test('gRPC retries, HTTP filters and unified failure accrual', async (t) => {
  const backoff = { minBackoff: duration(100), maxBackoff: duration(1000), jitterRatio: 0.5, respectRetryAfterHint: true };
  const p = decode({
    metadata: svcMeta,
    protocol: {
      grpc: {
        failureAccrual: {
          unified: { successRateThreshold: 0.95, decay: duration(30_000), minRequests: 20, maxConsecutiveFailures: 7, backoff },
          ejection: { minReadyEndpoints: 2 },
        },
        routes: [
          {
            metadata: { resource: { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', name: 'r', namespace: 'emojivoto' } },
            hosts: [{ suffix: { reverseLabels: ['local', 'cluster'] } }],
            rules: [
              {
                matches: [{ rpc: { service: 'emojivoto.v1.EmojiService' } }],
                backends: { firstAvailable: { backends: [{ backend: serviceBackend() }] } },
                retry: { maxRetries: 3, conditions: { unavailable: true, deadineExceeded: true }, backoff },
                filters: [{ requestHeaderModifier: { set: { headers: [{ name: 'X-Env', value: Buffer.from('prod') }] } } }],
              },
            ],
          },
        ],
      },
    },
  });
  if (p.protocol.kind !== 'grpc') {
    t.fail('expected grpc');
    return;
  }
  t.same(p.protocol.failureAccrual, {
    kind: 'unified',
    successRateThreshold: 0.95,
    windowMs: 30_000,
    minRequests: 20,
    maxConsecutiveFailures: 7,
    backoff: { minMs: 100, maxMs: 1000, jitter: 0.5, respectRetryAfterHint: true },
    ejection: { minReadyEndpoints: 2 },
  });
  const rule = p.protocol.routes[0]?.rules[0];
  t.same(rule?.retry?.codes, [4, 14]);
  t.same(rule?.matches, [{ service: 'emojivoto.v1.EmojiService', method: undefined, headers: [] }]);
  t.same(rule?.filters, [{ kind: 'request-header-modifier', add: [], set: [['x-env', 'prod']], remove: [] }]);
  t.same(p.protocol.routes[0]?.hosts, [{ kind: 'suffix', reverseLabels: ['local', 'cluster'] }]);
});

t.test('what the Rust proxy rejects makes the whole policy invalid', async (t) => {
  const cases: [string, Wire][] = [
    ['no metadata', { protocol: servicePolicy().protocol }],
    ['no protocol kind', { metadata: svcMeta, protocol: {} }],
    ['detect without http2', { metadata: svcMeta, protocol: { detect: { timeout: duration(1000), opaque: {}, http1: {} } } }],
    ['backend without a queue', servicePolicy({ ...serviceBackend(), queue: undefined })],
    ['balancer without a load', servicePolicy({ metadata: svcMeta, queue: { capacity: 1, failfastTimeout: duration(1) }, balancer: { discovery: { dst: { path: 'x:1' } } } })],
    ['resource metadata with an empty namespace', { ...servicePolicy(), metadata: { resource: { group: 'core', kind: 'Service', name: 'web' } } }],
    [
      'two opaque routes',
      { metadata: svcMeta, protocol: { opaque: { routes: [{ metadata: { default: 'a' }, rules: [] }, { metadata: { default: 'b' }, rules: [] }] } } },
    ],
    ['an opaque route with no rule', { metadata: svcMeta, protocol: { opaque: { routes: [{ metadata: { default: 'a' }, rules: [] }] } } }],
    ['an empty first-available list', { metadata: svcMeta, protocol: { http1: { routes: [{ metadata: { default: 'h' }, rules: [{ backends: { firstAvailable: {} } }] }] } } }],
  ];
  for (const [name, wire] of cases) t.throws(() => decode(wire), { code: 'control_decode' }, name);
});

t.test('synthesised policies: fallback to the original destination, profile endpoint, invalid', async (t) => {
  const opts = { detectTimeoutMs: 10_000, queue: { capacity: 10_000, failfastTimeoutMs: 3000 } };
  const fallback = origDstPolicy({ host: '10.1.2.3', port: 8080, family: 4 }, opts);
  t.equal(fallback.meta.name, 'fallback');
  if (fallback.protocol.kind !== 'detect') {
    t.fail('expected detect');
    return;
  }
  const route = fallback.protocol.http1.routes[0];
  t.same(route?.rules[0]?.matches, [{ path: undefined, headers: [], queryParams: [], method: undefined }], 'match-all');
  const backend = fallback.backends[0];
  t.equal(backend?.dispatch.kind === 'forward' ? backend.dispatch.endpoint.key : undefined, '10.1.2.3:8080');
  t.equal(backend?.dispatch.kind === 'forward' ? backend.dispatch.endpoint.tlsIdentity : 'x', undefined, 'no metadata');
  t.same(backend?.queue, opts.queue);
  t.equal(fallback.protocol.opaque.route?.rule.distribution.kind, 'first-available');

  const profile = decodeProfile(
    {
      endpoint: {
        addr: tcpAddress('10.1.2.3', 8080),
        tlsIdentity: { dnsLikeIdentity: { name: 'web.default.serviceaccount.identity.linkerd.cluster.local' }, strategy: 'dnsLikeIdentity' },
      },
    },
    () => undefined,
  );
  const viaProfile = profileEndpointPolicy(profile, { host: '10.1.2.3', port: 8080, family: 4 }, opts);
  t.equal(viaProfile.meta.name, 'endpoint');
  const d = viaProfile.backends[0]?.dispatch;
  t.equal(d?.kind === 'forward' ? d.endpoint.tlsIdentity?.name : undefined, 'web.default.serviceaccount.identity.linkerd.cluster.local');

  const invalid = invalidOutboundPolicy(10_000);
  if (invalid.protocol.kind !== 'detect') {
    t.fail('expected detect');
    return;
  }
  t.same(invalid.protocol.http1.routes[0]?.rules[0]?.filters, [{ kind: 'internal-error', message: 'invalid client policy configuration' }]);
  t.same(invalid.protocol.opaque.route?.rule.filters, [{ kind: 'invalid', message: 'invalid client policy configuration' }]);
  t.equal(invalid.backends.length, 0);
});

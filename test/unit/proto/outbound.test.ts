// Outbound policy messages shaped like the policy controller's (v0.20) survive our encode/decode intact.
import t, { type Test } from 'tap';
import { decodeMessage, encodeMessage, tcpAddress } from '../../support/control-plane-codec.js';
import type { Wire } from '../../support/control-plane-codec.js';
import { roundTrip as sharedRoundTrip } from './round-trip.js';

const PKG = 'io.linkerd.proxy.outbound';

function roundTrip(t: Test, type: string, decoded: Wire): Wire {
  return sharedRoundTrip(t, `${PKG}.${type}`, decoded);
}

const ms = (n: number): Wire => (n >= 1000 ? { seconds: String(Math.floor(n / 1000)), ...(n % 1000 ? { nanos: (n % 1000) * 1e6 } : {}) } : { nanos: n * 1e6 });

function serviceBackend(name: string, port: number, load: Wire): Wire {
  return {
    metadata: { resource: { group: 'core', kind: 'Service', name, namespace: 'emojivoto', port }, kind: 'resource' },
    balancer: { discovery: { dst: { path: `${name}.emojivoto.svc.cluster.local:${port}` }, kind: 'dst' }, ...load },
    kind: 'balancer',
    queue: { capacity: 100, failfastTimeout: ms(3000) },
  };
}

const peakEwma: Wire = { peakEwma: { defaultRtt: ms(30), decay: ms(10000) }, load: 'peakEwma' };
const penaltyPeakEwma: Wire = {
  penaltyPeakEwma: { defaultRtt: ms(30), decay: ms(10000), penalty: ms(500), maxRetryAfter: ms(30000), penaltyDecay: ms(5000) },
  load: 'penaltyPeakEwma',
};
const backoff: Wire = { minBackoff: ms(1000), maxBackoff: ms(60000), jitterRatio: Math.fround(0.5), respectRetryAfterHint: true };
const firstAvailable = (backend: Wire): Wire => ({ firstAvailable: { backends: [{ backend }] }, kind: 'firstAvailable' });

const webBackend = serviceBackend('web-svc', 80, peakEwma);

function httpRoutes(backend: Wire): Wire[] {
  return [
    {
      metadata: { default: 'http', kind: 'default' },
      rules: [
        {
          matches: [{ path: { prefix: '/', kind: 'prefix' } }],
          backends: firstAvailable(backend),
          requestTimeout: ms(10000),
          timeouts: { response: ms(5000), request: ms(10000), idle: ms(60000) },
        },
      ],
    },
    {
      metadata: { resource: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'web-split', namespace: 'emojivoto' }, kind: 'resource' },
      hosts: [{ suffix: { reverseLabels: ['local', 'cluster', 'svc'] }, match: 'suffix' }],
      rules: [
        {
          matches: [{ path: { prefix: '/api', kind: 'prefix' }, method: { registered: 'GET', type: 'registered' } }],
          filters: [
            { responseHeaderModifier: { set: { headers: [{ name: 'cache-control', value: Buffer.from('no-store') }] } }, kind: 'responseHeaderModifier' },
            { requestHeaderModifier: { add: { headers: [{ name: 'x-route', value: Buffer.from('split') }] } }, kind: 'requestHeaderModifier' },
          ],
          backends: {
            randomAvailable: {
              backends: [
                { backend: { backend: serviceBackend('web-v1', 80, penaltyPeakEwma), requestTimeout: ms(2000) }, weight: 90 },
                { backend: { backend: serviceBackend('web-v2', 80, penaltyPeakEwma), filters: [{ failureInjector: { status: 500, message: 'canary chaos', ratio: { numerator: 1, denominator: 20 } }, kind: 'failureInjector' }] }, weight: 10 },
              ],
            },
            kind: 'randomAvailable',
          },
          retry: { maxRetries: 3, maxRequestBytes: 65536, conditions: { statusRanges: [{ start: 500, end: 599 }, { start: 429, end: 429 }] }, timeout: ms(1500), backoff },
          allowL5dRequestHeaders: true,
        },
      ],
    },
  ];
}

t.test('TrafficSpec by original destination address and by authority', async (t) => {
  roundTrip(t, 'TrafficSpec', {
    sourceWorkload: '{"ns":"emojivoto","pod":"vote-bot-5b7b9d8f7c-x2x4z"}\n',
    addr: { ...tcpAddress('10.96.12.7', 80), ip: { ipv4: 0x0a600c07, ip: 'ipv4' } },
    target: 'addr',
  });
  roundTrip(t, 'TrafficSpec', { sourceWorkload: '{"ns":"default","external_workload":"legacy-vm-1"}', authority: 'web-svc.emojivoto.svc.cluster.local:80', target: 'authority' });
});

t.test('a Service policy: detect → opaque + HTTP routes, P2C with (penalty) peak EWMA, failure accrual', async (t) => {
  roundTrip(t, 'OutboundPolicy', {
    protocol: {
      detect: {
        timeout: ms(10000),
        opaque: { routes: [{ metadata: { default: 'opaq', kind: 'default' }, rules: [{ backends: firstAvailable(webBackend) }] }] },
        http1: {
          routes: httpRoutes(webBackend),
          failureAccrual: { consecutiveFailures: { maxFailures: 7, backoff }, kind: 'consecutiveFailures' },
        },
        http2: {
          routes: httpRoutes(webBackend),
          failureAccrual: {
            unified: { successRateThreshold: 0.95, decay: ms(30000), minRequests: 20, maxConsecutiveFailures: 7, backoff },
            kind: 'unified',
            ejection: { minReadyEndpoints: 1 },
          },
        },
      },
      kind: 'detect',
    },
    metadata: { resource: { group: 'core', kind: 'Service', name: 'web-svc', namespace: 'emojivoto', port: 80 }, kind: 'resource' },
  });
});

t.test('a gRPC policy with retry conditions keyed by status code', async (t) => {
  roundTrip(t, 'OutboundPolicy', {
    protocol: {
      grpc: {
        routes: [
          {
            metadata: { resource: { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', name: 'emoji', namespace: 'emojivoto' }, kind: 'resource' },
            hosts: [{ exact: 'emoji-svc.emojivoto.svc.cluster.local', match: 'exact' }],
            rules: [
              {
                matches: [{ rpc: { service: 'emojivoto.v1.EmojiService', method: 'ListAll' } }],
                filters: [{ failureInjector: { code: 14, message: 'unavailable', ratio: { numerator: 1, denominator: 10 } }, kind: 'failureInjector' }],
                backends: firstAvailable(serviceBackend('emoji-svc', 8080, penaltyPeakEwma)),
                timeouts: { request: ms(3000) },
                retry: { maxRetries: 2, conditions: { cancelled: true, deadineExceeded: true, resourceExhausted: true, internal: true, unavailable: true }, timeout: ms(500), backoff },
              },
            ],
          },
        ],
        failureAccrual: { consecutiveFailures: { maxFailures: 7, backoff }, kind: 'consecutiveFailures' },
      },
      kind: 'grpc',
    },
    metadata: { resource: { group: 'core', kind: 'Service', name: 'emoji-svc', namespace: 'emojivoto', port: 8080 }, kind: 'resource' },
  });
});

t.test('egress-fallback (forward backend), TLS routes by SNI, and the undefined-port Forbidden policy', async (t) => {
  const forward: Wire = {
    metadata: { default: 'egress-fallback', kind: 'default' },
    forward: { addr: { ip: { ipv4: 0x5db8d822, ip: 'ipv4' }, port: 443 }, weight: 1 },
    kind: 'forward',
    queue: { capacity: 100, failfastTimeout: ms(3000) },
  };
  roundTrip(t, 'OutboundPolicy', {
    protocol: {
      detect: {
        timeout: ms(10000),
        opaque: { routes: [{ metadata: { default: 'egress-fallback', kind: 'default' }, rules: [{ backends: firstAvailable(forward) }] }] },
        http1: { routes: [{ metadata: { default: 'egress-fallback', kind: 'default' }, rules: [{ matches: [{ path: { prefix: '/', kind: 'prefix' } }], backends: firstAvailable(forward) }] }] },
        http2: { routes: [{ metadata: { default: 'egress-fallback', kind: 'default' }, rules: [{ backends: firstAvailable(forward) }] }] },
      },
      kind: 'detect',
    },
    metadata: { default: 'egress-fallback', kind: 'default' },
  });
  roundTrip(t, 'OutboundPolicy', {
    protocol: {
      tls: {
        routes: [
          {
            metadata: { resource: { group: 'gateway.networking.k8s.io', kind: 'TLSRoute', name: 'api', namespace: 'egress' }, kind: 'resource' },
            snis: [{ exact: 'api.example.com', match: 'exact' }, { suffix: { reverseLabels: ['org', 'example'] }, match: 'suffix' }],
            rules: [
              { backends: firstAvailable(forward), filters: [{ invalid: { message: 'backend has no port' }, kind: 'invalid' }] },
              { backends: { empty: {}, kind: 'empty' }, filters: [{ forbidden: {}, kind: 'forbidden' }] },
            ],
          },
        ],
      },
      kind: 'tls',
    },
    metadata: { resource: { group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'all-egress', namespace: 'egress' }, kind: 'resource' },
  });
  roundTrip(t, 'OutboundPolicy', {
    protocol: { opaque: { routes: [{ metadata: { default: 'undefined-port', kind: 'default' }, rules: [{ backends: { empty: {}, kind: 'empty' }, filters: [{ forbidden: {}, kind: 'forbidden' }] }] }] }, kind: 'opaque' },
    metadata: { resource: { group: 'core', kind: 'Service', name: 'web-svc', namespace: 'emojivoto', port: 9999 }, kind: 'resource' },
  });
});

t.test('v0.20 fields decode from hand-built bytes', async (t) => {
  // BalanceP2c{discovery{dst{path:"a"}}, penalty_peak_ewma(3){default_rtt{nanos:30_000_000}}}
  const p2c = Buffer.from([0x0a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0x61, 0x1a, 0x07, 0x0a, 0x05, 0x10, 0x80, 0x87, 0xa7, 0x0e]);
  t.same(decodeMessage(`${PKG}.Backend.BalanceP2c`, p2c), {
    discovery: { dst: { path: 'a' }, kind: 'dst' },
    penaltyPeakEwma: { defaultRtt: { nanos: 30000000 } },
    load: 'penaltyPeakEwma',
  });
  // FailureAccrual{unified(2){success_rate_threshold(1, double) 0.95, min_requests(3) 20}, ejection(3){min_ready_endpoints 1}}
  const threshold = Buffer.alloc(8);
  threshold.writeDoubleLE(0.95);
  const accrual = Buffer.concat([Buffer.from([0x12, 0x0b, 0x09]), threshold, Buffer.from([0x18, 0x14, 0x1a, 0x02, 0x08, 0x01])]);
  t.same(decodeMessage(`${PKG}.FailureAccrual`, accrual), {
    unified: { successRateThreshold: 0.95, minRequests: 20 },
    kind: 'unified',
    ejection: { minReadyEndpoints: 1 },
  });
  // ExponentialBackoff{respect_retry_after_hint(4): true}
  t.same(decodeMessage(`${PKG}.ExponentialBackoff`, Buffer.from([0x20, 0x01])), { respectRetryAfterHint: true });
  t.same(encodeMessage(`${PKG}.FailureAccrual`, { unified: { successRateThreshold: 0.95, minRequests: 20 }, ejection: { minReadyEndpoints: 1 } }), accrual);
});

// Destination Update / DestinationProfile bytes decode into the endpoint and profile values the proxy acts on.
import t from 'tap';
import { decodeMessage, encodeMessage, ipAddress, tcpAddress } from '../../support/control-plane-codec.js';
import type { Wire } from '../../support/control-plane-codec.js';
import { decodeProfile, decodeUpdate } from '../../../src/discovery/destination-decode.js';

const PKG = 'io.linkerd.proxy.destination';

/** Encodes like a controller, decodes like the proxy (wire bytes in between). */
function viaWire(type: string, value: Wire): Wire {
  return decodeMessage(`${PKG}.${type}`, encodeMessage(`${PKG}.${type}`, value));
}

function update(value: Wire, warnings: string[] = []) {
  return decodeUpdate(viaWire('Update', value), (m) => warnings.push(m));
}

const EW_ID = 'spiffe://root.linkerd.cluster.local/legacy-vm';

t.test('an ExternalWorkload endpoint: URI identity with server_name, h2, merged labels, exact IPv4', async (t) => {
  const u = update({
    add: {
      metricLabels: { service: 'legacy', namespace: 'mixed-env' },
      addrs: [
        {
          addr: tcpAddress('10.42.0.17', 8080),
          weight: 10000,
          metricLabels: { external_workload: 'legacy-vm-1', zone: 'eu-west-1a', zone_locality: 'Local', namespace: 'own' },
          tlsIdentity: { uriLikeIdentity: { uri: EW_ID }, serverName: { name: 'legacy-vm.cluster.local' } },
          protocolHint: { h2: {} },
          http2: { keepAlive: { interval: { seconds: 10 }, timeout: { seconds: 3 }, whileIdle: true } },
        },
      ],
    },
  });
  t.equal(u?.kind, 'add');
  if (u?.kind !== 'add') return;
  const [ep] = u.endpoints;
  t.same(ep?.addr, { host: '10.42.0.17', port: 8080, family: 4 });
  t.equal(ep?.key, '10.42.0.17:8080');
  t.equal(ep?.weight, 10000);
  t.same(ep?.tlsIdentity, { kind: 'uri', name: EW_ID, serverName: 'legacy-vm.cluster.local' });
  t.equal(ep?.protocolHint, 'h2');
  t.equal(ep?.opaqueTransportPort, undefined);
  t.equal(ep?.zoneLocal, true, 'zone_locality is read case-insensitively');
  t.same(
    ep?.metricLabels,
    { service: 'legacy', namespace: 'own', external_workload: 'legacy-vm-1', zone: 'eu-west-1a', zone_locality: 'Local' },
    'set labels under the endpoint labels',
  );
  t.same(ep?.http2?.keepAlive, { intervalMs: 10_000, timeoutMs: 3_000, whileIdle: true });
});

t.test('IPv4 fixed32 is big-endian on every octet, including the high bit', async (t) => {
  for (const ip of ['0.0.0.0', '255.255.255.254', '192.168.1.2', '10.1.2.3']) {
    const u = update({ add: { addrs: [{ addr: tcpAddress(ip, 80) }] } });
    t.equal(u?.kind === 'add' ? u.endpoints[0]?.addr.host : undefined, ip);
  }
  // The value itself, as a controller computes it: 10.1.2.3 is 0x0A010203.
  const u = update({ add: { addrs: [{ addr: { ip: { ipv4: 0x0a010203 }, port: 1 } }] } });
  t.equal(u?.kind === 'add' ? u.endpoints[0]?.key : undefined, '10.1.2.3:1');
});

t.test('IPv6 from two 64-bit halves, exact beyond 2^53', async (t) => {
  for (const ip of ['fd00:10:244:1::5', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe', '::1', '2001:db8::8:800:200c:417a']) {
    const u = update({ remove: { addrs: [tcpAddress(ip, 443)] } });
    t.same(u, { kind: 'remove', addrs: [`[${ip}]:443`] }, ip);
  }
  // 0xffff000000000001: the low bit would be lost as a double.
  const halves = update({ remove: { addrs: [{ ip: { ipv6: { first: '18446462598732840961', last: '1' } }, port: 9 }] } });
  t.same(halves, { kind: 'remove', addrs: ['[ffff:0:0:1::1]:9'] });
});

t.test('identity rules: DNS doubles as SNI, URI without server_name is dropped, bad names ignored', async (t) => {
  const warnings: string[] = [];
  const dns = 'web.default.serviceaccount.identity.linkerd.cluster.local';
  const u = update(
    {
      add: {
        addrs: [
          { addr: tcpAddress('10.0.0.1', 80), tlsIdentity: { dnsLikeIdentity: { name: dns } } },
          { addr: tcpAddress('10.0.0.2', 80), tlsIdentity: { uriLikeIdentity: { uri: EW_ID } } },
          { addr: tcpAddress('10.0.0.3', 80), tlsIdentity: { dnsLikeIdentity: { name: 'not a name' } } },
        ],
      },
    },
    warnings,
  );
  if (u?.kind !== 'add') {
    t.fail('expected add');
    return;
  }
  t.same(u.endpoints[0]?.tlsIdentity, { kind: 'dns', name: dns, serverName: dns });
  t.equal(u.endpoints[1]?.tlsIdentity, undefined, 'URI identity needs a server name');
  t.equal(u.endpoints[2]?.tlsIdentity, undefined);
  t.equal(warnings.length, 2);
});

t.test('opaque hint with transport port; out-of-range ports are ignored', async (t) => {
  const u = update({
    add: {
      addrs: [
        { addr: tcpAddress('10.0.0.1', 5432), protocolHint: { opaque: {}, opaqueTransport: { inboundPort: 4143 } }, authorityOverride: { authorityOverride: 'db.default.svc.cluster.local:5432' } },
        { addr: tcpAddress('10.0.0.2', 5432), protocolHint: { opaqueTransport: { inboundPort: 65535 } } },
      ],
    },
  });
  if (u?.kind !== 'add') {
    t.fail('expected add');
    return;
  }
  t.equal(u.endpoints[0]?.protocolHint, 'opaque');
  t.equal(u.endpoints[0]?.opaqueTransportPort, 4143);
  t.equal(u.endpoints[0]?.authorityOverride, 'db.default.svc.cluster.local:5432');
  t.equal(u.endpoints[1]?.protocolHint, undefined);
  t.equal(u.endpoints[1]?.opaqueTransportPort, undefined);
});

t.test('no_endpoints, empty lists and endpoints without an address', async (t) => {
  t.same(update({ noEndpoints: { exists: true } }), { kind: 'no-endpoints', exists: true });
  t.same(update({ noEndpoints: { exists: false } }), { kind: 'no-endpoints', exists: false }, 'proto3 drops false; still "does not exist"');
  t.equal(update({ add: { addrs: [] } }), undefined);
  t.equal(update({}), undefined, 'an unset oneof is nothing to do');
  const warnings: string[] = [];
  t.equal(update({ add: { addrs: [{ weight: 1 }] } }, warnings), undefined, 'endpoint without addr skipped');
  t.equal(warnings.length, 1);
  const big = update({ add: { addrs: [{ addr: { ip: ipAddress('10.0.0.1'), port: 70000 } }] } }, warnings);
  t.equal(big, undefined, 'port above 65535 skipped');
});

t.test('a profile: routes, budget, split, endpoint, fully qualified name', async (t) => {
  const p = decodeProfile(
    viaWire('DestinationProfile', {
      fullyQualifiedName: 'books.default.svc.cluster.local',
      opaqueProtocol: true,
      retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: { seconds: 10 } },
      routes: [
        {
          condition: { all: { matches: [{ path: { regex: '/api/books/[^/]*' } }, { method: { registered: 'POST' } }] } },
          responseClasses: [{ condition: { status: { min: 500, max: 599 } }, isFailure: true }],
          metricsLabels: { route: 'books' },
          isRetryable: true,
          timeout: { seconds: 1, nanos: 500_000_000 },
        },
        { responseClasses: [] },
      ],
      dstOverrides: [
        { authority: 'books-v2.default.svc.cluster.local:80', weight: 900 },
        { authority: 'books-v3.default.svc.cluster.local:80', weight: 0 },
      ],
      endpoint: { addr: tcpAddress('10.42.0.9', 7000), weight: 10000 },
      parentRef: { resource: { group: 'core', kind: 'Service', name: 'books', namespace: 'default', port: 80 } },
    }),
    () => undefined,
  );
  t.equal(p.fullyQualifiedName, 'books.default.svc.cluster.local');
  t.equal(p.opaqueProtocol, true);
  t.same(p.retryBudget, { retryRatio: Math.fround(0.2), minRetriesPerSecond: 10, ttlMs: 10_000 });
  t.equal(p.routes.length, 1, 'route without condition dropped');
  t.same(p.routes[0]?.condition, {
    kind: 'all',
    matches: [
      { kind: 'path', regex: '^/api/books/[^/]*$' },
      { kind: 'method', method: 'POST' },
    ],
  });
  t.same(p.routes[0]?.responseClasses, [{ condition: { kind: 'status', min: 500, max: 599 }, isFailure: true }]);
  t.equal(p.routes[0]?.timeoutMs, 1500);
  t.same(p.dstOverrides.map((d) => [d.authority, d.weight]), [['books-v2.default.svc.cluster.local:80', 900]]);
  t.equal(p.endpoint?.key, '10.42.0.9:7000');
  t.equal(p.parentRef?.port, 80);
});

t.test('an empty profile (service without the port) decodes to defaults', async (t) => {
  const p = decodeProfile(viaWire('DestinationProfile', {}), () => undefined);
  t.same(p, {
    routes: [],
    retryBudget: undefined,
    dstOverrides: [],
    opaqueProtocol: false,
    fullyQualifiedName: undefined,
    endpoint: undefined,
    parentRef: undefined,
    profileRef: undefined,
  });
});

// Destination messages shaped like a 2024–2026 controller's survive our encode/decode intact.
import t, { type Test } from 'tap';
import { decodeMessage, encodeMessage, ipAddress, ipText } from '../../support/control-plane-codec.js';
import type { Wire } from '../../support/control-plane-codec.js';
import { roundTrip as sharedRoundTrip } from './round-trip.js';

const PKG = 'io.linkerd.proxy.destination';

function roundTrip(t: Test, type: string, decoded: Wire): Wire {
  return sharedRoundTrip(t, `${PKG}.${type}`, decoded);
}

/** What the controller sends for an ExternalWorkload behind a Service (mesh expansion). */
const externalWorkload: Wire = {
  addr: { ip: { ipv4: 0x0a2a0011, ip: 'ipv4' }, port: 8080 },
  weight: 10000,
  metricLabels: { external_workload: 'legacy-vm-1', zone: 'eu-west-1a', zone_locality: 'remote' },
  tlsIdentity: {
    uriLikeIdentity: { uri: 'spiffe://root.linkerd.cluster.local/legacy-vm' },
    strategy: 'uriLikeIdentity',
    serverName: { name: 'legacy-vm.default.svc.cluster.local' },
  },
  protocolHint: { h2: {}, protocol: 'h2' },
  http2: { keepAlive: { interval: { seconds: '10' }, timeout: { seconds: '3' }, whileIdle: true } },
};

/** A meshed pod on an opaque port, IPv6. */
const opaquePod: Wire = {
  addr: { ip: { ...ipAddress('fd00:10:244:1::5'), ip: 'ipv6' }, port: 5432 },
  weight: 10000,
  metricLabels: { pod: 'db-0', statefulset: 'db', serviceaccount: 'db', control_plane_ns: 'linkerd', zone_locality: 'local' },
  tlsIdentity: {
    dnsLikeIdentity: { name: 'db.default.serviceaccount.identity.linkerd.cluster.local' },
    strategy: 'dnsLikeIdentity',
    serverName: { name: 'db.default.serviceaccount.identity.linkerd.cluster.local' },
  },
  protocolHint: { opaque: {}, protocol: 'opaque', opaqueTransport: { inboundPort: 4143 } },
  authorityOverride: { authorityOverride: 'db.default.svc.cluster.local:5432' },
  resourceRef: { resource: { group: 'core', kind: 'Pod', name: 'db-0', namespace: 'default' }, kind: 'resource' },
};

t.test('GetDestination carries path and the JSON context token byte for byte', async (t) => {
  roundTrip(t, 'GetDestination', {
    path: 'legacy.default.svc.cluster.local:8080',
    contextToken: '{"ns":"default", "nodeName":"vm-host-3", "external_workload":"legacy-vm-1"}\n',
  });
});

t.test('Update.add with an ExternalWorkload (URI identity + SNI + h2) and an opaque IPv6 pod', async (t) => {
  const back = roundTrip(t, 'Update', {
    add: { addrs: [externalWorkload, opaquePod], metricLabels: { service: 'legacy', namespace: 'default' } },
    update: 'add',
  });
  const addrs = (back.add as { addrs: { addr: { ip: Wire } }[] }).addrs;
  t.equal(ipText(addrs[0]?.addr.ip), '10.42.0.17');
  t.equal(ipText(addrs[1]?.addr.ip), 'fd00:10:244:1::5');
});

t.test('Update.remove, and no_endpoints whose exists=false decodes as an empty message', async (t) => {
  roundTrip(t, 'Update', { remove: { addrs: [{ ip: { ipv4: 0x0a2a0011, ip: 'ipv4' }, port: 8080 }] }, update: 'remove' });
  roundTrip(t, 'Update', { noEndpoints: { exists: true }, update: 'noEndpoints' });
  // proto3 drops false: a decoder must read a missing `exists` as "does not exist".
  t.same(decodeMessage(`${PKG}.Update`, encodeMessage(`${PKG}.Update`, { noEndpoints: { exists: false } })), { noEndpoints: {}, update: 'noEndpoints' });
});

t.test('DestinationProfile for a Service with ServiceProfile routes, budget and a traffic split', async (t) => {
  const back = roundTrip(t, 'DestinationProfile', {
    routes: [
      {
        condition: {
          all: {
            matches: [
              { path: { regex: '/api/books/[^/]*' }, match: 'path' },
              { method: { registered: 'GET', type: 'registered' }, match: 'method' },
              { not: { method: { unregistered: 'PURGE', type: 'unregistered' }, match: 'method' }, match: 'not' },
            ],
          },
          match: 'all',
        },
        responseClasses: [
          { condition: { any: { matches: [{ status: { min: 500, max: 599 }, match: 'status' }] }, match: 'any' }, isFailure: true },
        ],
        metricsLabels: { route: 'GET /api/books/{id}' },
        isRetryable: true,
        timeout: { seconds: '1', nanos: 500000000 },
      },
    ],
    // float32 on the wire: 0.2 comes back as the nearest float.
    retryBudget: { retryRatio: Math.fround(0.2), minRetriesPerSecond: 10, ttl: { seconds: '10' } },
    dstOverrides: [
      { authority: 'books-v1.default.svc.cluster.local:7002', weight: 9000 },
      { authority: 'books-v2.default.svc.cluster.local:7002', weight: 1000, backendRef: { resource: { group: 'core', kind: 'Service', name: 'books-v2', namespace: 'default', port: 7002 }, kind: 'resource' } },
    ],
    fullyQualifiedName: 'books.default.svc.cluster.local',
    parentRef: { resource: { group: 'core', kind: 'Service', name: 'books', namespace: 'default', port: 7002 }, kind: 'resource' },
    profileRef: { resource: { group: 'linkerd.io', kind: 'ServiceProfile', name: 'books.default.svc.cluster.local', namespace: 'default' }, kind: 'resource' },
  });
  t.not((back.retryBudget as Wire).retryRatio, 0.2, 'decoders must not compare the ratio with a double literal');
});

t.test('DestinationProfile for an ExternalWorkload IP: opaque, with the endpoint to dial directly', async (t) => {
  roundTrip(t, 'DestinationProfile', {
    retryBudget: { retryRatio: Math.fround(0.2), minRetriesPerSecond: 10, ttl: { seconds: '10' } },
    opaqueProtocol: true,
    endpoint: {
      ...externalWorkload,
      metricLabels: { external_workload: 'legacy-vm-1', namespace: 'default' },
      protocolHint: { opaque: {}, protocol: 'opaque', opaqueTransport: { inboundPort: 4143 } },
    },
  });
});

t.test('TlsIdentity of an ExternalWorkload decodes from hand-built bytes (uri_like_identity = 3, server_name = 4)', async (t) => {
  const uri = Buffer.from('spiffe://td/x');
  const sni = Buffer.from('x.td');
  const bytes = Buffer.concat([
    Buffer.from([0x1a, uri.length + 2, 0x0a, uri.length]), uri,
    Buffer.from([0x22, sni.length + 2, 0x0a, sni.length]), sni,
  ]);
  t.same(decodeMessage(`${PKG}.TlsIdentity`, bytes), { uriLikeIdentity: { uri: 'spiffe://td/x' }, strategy: 'uriLikeIdentity', serverName: { name: 'x.td' } });
  t.same(encodeMessage(`${PKG}.TlsIdentity`, { uriLikeIdentity: { uri: 'spiffe://td/x' }, serverName: { name: 'x.td' } }), bytes);
});

t.test('fields and oneof arms from newer schemas are skipped, not fatal', async (t) => {
  const known = encodeMessage(`${PKG}.TlsIdentity`, { dnsLikeIdentity: { name: 'web.default.serviceaccount.identity.linkerd.cluster.local' } });
  // field 7, length-delimited (unknown), then field 9 varint (unknown)
  const extra = Buffer.concat([known, Buffer.from([0x3a, 0x02, 0x08, 0x01, 0x48, 0x2a])]);
  t.same(decodeMessage(`${PKG}.TlsIdentity`, extra), {
    dnsLikeIdentity: { name: 'web.default.serviceaccount.identity.linkerd.cluster.local' },
    strategy: 'dnsLikeIdentity',
  });
  // ProtocolHint with only an unknown arm (field 4): the oneof looks unset.
  t.same(decodeMessage(`${PKG}.ProtocolHint`, Buffer.from([0x22, 0x00])), {});
});

// Our control-plane schemas load, resolve, and pin the field numbers newer control planes rely on.
import t from 'tap';
import protobuf from 'protobufjs';
import { PROTO_FILES, protoRoot, protoType } from '../../../src/proto/load.js';
import { serviceDefinition } from '../../support/control-plane-codec.js';

t.test('every schema file is loaded and all references resolve', async (t) => {
  for (const f of ['net.proto', 'meta.proto', 'http-types.proto', 'http-route.proto', 'grpc-route.proto', 'opaque-route.proto', 'tls-route.proto', 'destination.proto', 'inbound.proto', 'outbound.proto']) {
    t.ok(PROTO_FILES.includes(f), `${f} is listed`);
  }
  const root = protoRoot();
  t.doesNotThrow(() => root.resolveAll());
  // Duration comes from protobufjs' bundled well-known types.
  t.equal(protoType('io.linkerd.proxy.outbound.Queue').fields.failfastTimeout?.resolvedType?.fullName, '.google.protobuf.Duration');
});

t.test('method paths and streaming flags are the ones the control plane serves', async (t) => {
  const expect: [string, string, string, boolean][] = [
    ['io.linkerd.proxy.destination.Destination', 'Get', '/io.linkerd.proxy.destination.Destination/Get', true],
    ['io.linkerd.proxy.destination.Destination', 'GetProfile', '/io.linkerd.proxy.destination.Destination/GetProfile', true],
    ['io.linkerd.proxy.inbound.InboundServerPolicies', 'GetPort', '/io.linkerd.proxy.inbound.InboundServerPolicies/GetPort', false],
    ['io.linkerd.proxy.inbound.InboundServerPolicies', 'WatchPort', '/io.linkerd.proxy.inbound.InboundServerPolicies/WatchPort', true],
    ['io.linkerd.proxy.outbound.OutboundPolicies', 'Get', '/io.linkerd.proxy.outbound.OutboundPolicies/Get', false],
    ['io.linkerd.proxy.outbound.OutboundPolicies', 'Watch', '/io.linkerd.proxy.outbound.OutboundPolicies/Watch', true],
  ];
  for (const [service, method, path, streaming] of expect) {
    const def = serviceDefinition(service)[method];
    t.equal(def?.path, path);
    t.equal(def?.requestStream, false);
    t.equal(def?.responseStream, streaming, `${path} streaming=${streaming}`);
  }
});

function field(type: string, name: string): protobuf.Field {
  const f = protoType(type).fields[name];
  if (!f) throw new Error(`${type}.${name} missing`);
  return f;
}

t.test('fields added since 2024 have the v0.20 numbers, types and oneofs', async (t) => {
  const cases: [string, string, number, string, string | undefined][] = [
    ['io.linkerd.proxy.net.IPAddress', 'ipv4', 1, 'fixed32', 'ip'],
    ['io.linkerd.proxy.net.IPv6', 'first', 1, 'fixed64', undefined],
    ['io.linkerd.proxy.net.IPv6', 'last', 2, 'fixed64', undefined],
    ['io.linkerd.proxy.destination.TlsIdentity', 'uriLikeIdentity', 3, 'UriLikeIdentity', 'strategy'],
    ['io.linkerd.proxy.destination.TlsIdentity', 'serverName', 4, 'DnsLikeIdentity', undefined],
    ['io.linkerd.proxy.destination.WeightedAddr', 'http2', 8, 'Http2ClientParams', undefined],
    ['io.linkerd.proxy.destination.WeightedAddr', 'resourceRef', 9, 'io.linkerd.proxy.meta.Metadata', undefined],
    ['io.linkerd.proxy.destination.ProtocolHint', 'opaque', 3, 'Opaque', 'protocol'],
    ['io.linkerd.proxy.outbound.ProxyProtocol', 'tls', 6, 'Tls', 'kind'],
    ['io.linkerd.proxy.outbound.Backend.BalanceP2c', 'penaltyPeakEwma', 3, 'PenaltyPeakEwma', 'load'],
    ['io.linkerd.proxy.outbound.FailureAccrual', 'unified', 2, 'Unified', 'kind'],
    ['io.linkerd.proxy.outbound.FailureAccrual', 'ejection', 3, 'EjectionConfig', undefined],
    ['io.linkerd.proxy.outbound.FailureAccrual.Unified', 'successRateThreshold', 1, 'double', undefined],
    ['io.linkerd.proxy.outbound.ExponentialBackoff', 'respectRetryAfterHint', 4, 'bool', undefined],
    ['io.linkerd.proxy.outbound.GrpcRoute.Retry.Conditions', 'deadineExceeded', 4, 'bool', undefined],
    ['io.linkerd.proxy.inbound.ProxyProtocol.Detect', 'httpLocalRateLimit', 4, 'HttpLocalRateLimit', undefined],
    ['io.linkerd.proxy.inbound.Authn', 'meshTLS', 2, 'PermitMeshTLS', 'permit'],
  ];
  for (const [type, name, id, wireType, oneof] of cases) {
    const f = field(type, name);
    t.equal(f.id, id, `${type}.${name} = ${id}`);
    t.equal(f.type, wireType, `${type}.${name} is ${wireType}`);
    t.equal(f.partOf?.name, oneof, `${type}.${name} oneof ${oneof ?? '(none)'}`);
  }
  t.same(protoType('io.linkerd.proxy.destination.TlsIdentity').reserved, [[2, 2], 'k8s_pod_identity']);
  t.same(protoType('io.linkerd.proxy.outbound.OpaqueRoute').reserved, [[4, 4]]);
});

t.test('no oneof shares a name with a field of its message (decoders read the arm from it)', async (t) => {
  const clashes: string[] = [];
  const walk = (ns: protobuf.NamespaceBase): void => {
    for (const n of ns.nestedArray) {
      if (n instanceof protobuf.Type) {
        for (const o of n.oneofsArray) if (n.fields[o.name]) clashes.push(`${n.fullName}.${o.name}`);
      }
      if (n instanceof protobuf.Namespace) walk(n);
    }
  };
  walk(protoRoot());
  t.same(clashes, []);
});

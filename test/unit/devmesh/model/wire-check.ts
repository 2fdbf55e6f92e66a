// Test helpers: build snapshots from inline YAML, and put every Wire answer through protobufjs and the proxy's own decoders.
import type protobuf from 'protobufjs';
import { decodeUpdate } from '../../../../src/discovery/destination-decode.js';
import { decodeProfile } from '../../../../src/discovery/destination-decode.js';
import type { DestinationEndpoint, DestinationProfile } from '../../../../src/discovery/destination-types.js';
import { decodeOutboundPolicy } from '../../../../src/discovery/outbound-policy-decode.js';
import type { OutboundPolicy } from '../../../../src/discovery/outbound-policy-types.js';
import { messageCodec } from '../../../../src/discovery/wire.js';
import { parseManifests } from '../../../../src/devmesh/manifests/load.js';
import { buildSnapshot } from '../../../../src/devmesh/model/snapshot.js';
import type { MeshSettings, MeshSnapshot, Wire } from '../../../../src/devmesh/model/types.js';
import { decodeServer } from '../../../../src/policy/inbound/decode.js';
import type { ServerPolicy } from '../../../../src/policy/inbound/types.js';
import { protoType } from '../../../../src/proto/load.js';

/** A snapshot of inline YAML; manifest errors throw (a test's YAML must be right), warnings are kept. */
export function snapshotOf(yaml: string, settings: Partial<MeshSettings> = {}): MeshSnapshot {
  const s = snapshotWithProblems(yaml, settings);
  const errors = s.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new Error(`manifest errors: ${JSON.stringify(errors)}`);
  return s;
}

export function snapshotWithProblems(yaml: string, settings: Partial<MeshSettings> = {}): MeshSnapshot {
  return buildSnapshot(parseManifests([{ file: 'test.yaml', text: yaml }]), settings);
}

/**
 * Fields of `value` the schema does not have. protobufjs' fromObject silently drops unknown keys,
 * so a misspelt field would otherwise vanish on the wire without any test noticing.
 */
export function unknownFields(type: protobuf.Type, value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const field = type.fields[k];
    const p = path === '' ? k : `${path}.${k}`;
    if (field === undefined) {
      out.push(p);
      continue;
    }
    field.resolve();
    const sub = field.resolvedType;
    if (sub === null || !('fields' in sub)) continue;
    const msgType = sub;
    if (field.map) for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) out.push(...unknownFields(msgType, mv, `${p}[${mk}]`));
    else if (field.repeated) (v as unknown[]).forEach((item, i) => out.push(...unknownFields(msgType, item, `${p}[${i}]`)));
    else out.push(...unknownFields(msgType, v, p));
  }
  return out;
}

/** Encodes with fromObject and decodes as the proxy does; throws if the Wire has fields the schema lacks. */
export function roundTrip(typeName: string, wire: Wire): Record<string, unknown> {
  const unknown = unknownFields(protoType(typeName), wire);
  if (unknown.length > 0) throw new Error(`${typeName} has fields the schema does not know: ${unknown.join(', ')}`);
  const codec = messageCodec(typeName);
  return codec.decode(codec.encode(wire));
}

const failOnWarn = (m: string): never => {
  throw new Error(`decoder warning: ${m}`);
};

/** Destination endpoints as the proxy's Get client sees them (one `add` update). */
export function decodedEndpoints(setLabels: Readonly<Record<string, string>>, endpoints: readonly Wire[]): readonly DestinationEndpoint[] {
  if (endpoints.length === 0) return [];
  const update = roundTrip('io.linkerd.proxy.destination.Update', { add: { addrs: endpoints, metricLabels: setLabels } });
  const decoded = decodeUpdate(update, failOnWarn);
  if (decoded?.kind !== 'add') throw new Error('expected an add update');
  return decoded.endpoints;
}

export function decodedProfile(profile: Wire): DestinationProfile {
  return decodeProfile(roundTrip('io.linkerd.proxy.destination.DestinationProfile', profile), failOnWarn);
}

export function decodedOutbound(policy: Wire): OutboundPolicy {
  return decodeOutboundPolicy(roundTrip('io.linkerd.proxy.outbound.OutboundPolicy', policy), failOnWarn);
}

export function decodedInbound(server: Wire): ServerPolicy {
  return decodeServer(roundTrip('io.linkerd.proxy.inbound.Server', server));
}

/** The endpoints of a Get answer, decoded; fails the test on a refusal. */
export function getEndpoints(s: MeshSnapshot, path: string): readonly DestinationEndpoint[] {
  const a = s.destinationGet(path);
  if (a.kind !== 'endpoints') throw new Error(`Get ${path} refused: ${a.code} ${a.message}`);
  return decodedEndpoints(a.setLabels, a.endpoints);
}

export function getProfile(s: MeshSnapshot, path: string): DestinationProfile {
  const a = s.destinationProfile(path);
  if (a.kind !== 'profile') throw new Error(`GetProfile ${path} refused: ${a.code} ${a.message}`);
  return decodedProfile(a.profile);
}

export function getInbound(s: MeshSnapshot, workload: string, port: number): ServerPolicy {
  const a = s.inboundServer(workload, port);
  if (a.kind !== 'server') throw new Error(`inbound ${workload}:${port} refused: ${a.code} ${a.message}`);
  return decodedInbound(a.server);
}

export function getOutbound(s: MeshSnapshot, target: Parameters<MeshSnapshot['outboundPolicy']>[0], source = '{"ns":"default","pod":"client"}'): OutboundPolicy {
  const a = s.outboundPolicy(target, source);
  if (a.kind !== 'policy') throw new Error(`outbound refused: ${a.code} ${a.message}`);
  return decodedOutbound(a.policy);
}

export function podWorkload(namespace: string, pod: string): string {
  return JSON.stringify({ ns: namespace, pod });
}

export function ewWorkload(namespace: string, name: string): string {
  return JSON.stringify({ ns: namespace, external_workload: name });
}

/** A minimal ready ExternalWorkload manifest. */
export function ewYaml(opts: { name: string; ip: string; labels?: Record<string, string>; ports?: string; ready?: boolean; annotations?: Record<string, string>; ns?: string }): string {
  const labels = Object.entries(opts.labels ?? { app: 'web' }).map(([k, v]) => `    ${k}: "${v}"`).join('\n');
  const ann = Object.entries(opts.annotations ?? {}).map(([k, v]) => `    ${k}: "${v}"`).join('\n');
  return `apiVersion: workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata:
  name: ${opts.name}
  namespace: ${opts.ns ?? 'default'}
  labels:
${labels}
${ann === '' ? '' : `  annotations:\n${ann}\n`}spec:
  meshTLS:
    identity: spiffe://root.linkerd.cluster.local/${opts.name}
    serverName: ${opts.name}.cluster.local
  workloadIPs:
  - ip: ${opts.ip}
  ports:
${opts.ports ?? '  - port: 8080\n    name: http'}
status:
  conditions:
  - type: Ready
    status: "${opts.ready === false ? 'False' : 'True'}"
---
`;
}

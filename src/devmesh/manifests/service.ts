// Service (v1): type, clusterIP (given, None, or assigned later), selector, and ports with their targetPorts.
import { parseIp } from '../../config/ip.js';
import { PROTOCOLS } from './external-workload.js';
import { DNS_LABEL, at, intField, listField, portRef, recordField, recordItems, stringField, stringMapField, type Json, type ParseCtx } from './fields.js';
import { checkLinkerdAnnotations, readMetadata } from './metadata.js';
import type { ResourceSource, ServicePort, ServiceResource } from './types.js';

const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;

function readPorts(ctx: ParseCtx, spec: Json): ServicePort[] {
  const items = recordItems(ctx, spec, 'ports', 'spec');
  const ports: ServicePort[] = [];
  const names = new Set<string>();
  const seen = new Set<string>();
  for (const p of items) {
    const port = intField(ctx, p.value, 'port', p.path, { min: 1, max: 65535, required: true });
    const name = stringField(ctx, p.value, 'name', p.path, { pattern: { re: DNS_LABEL.re, expected: 'a DNS label' } });
    const protocol = stringField(ctx, p.value, 'protocol', p.path, { oneOf: PROTOCOLS }) ?? 'TCP';
    const appProtocol = stringField(ctx, p.value, 'appProtocol', p.path, { minLength: 1 });
    const raw = p.value.targetPort;
    const targetPort = raw === undefined || raw === null ? port : portRef(ctx, raw, at(p.path, 'targetPort'));
    if (items.length > 1 && name === undefined) ctx.error(at(p.path, 'name'), 'is required when a Service has more than one port');
    if (name !== undefined) {
      if (names.has(name)) ctx.error(at(p.path, 'name'), `${JSON.stringify(name)} is used by another port`);
      names.add(name);
    }
    if (port !== undefined) {
      const key = `${port}/${protocol}`;
      if (seen.has(key)) ctx.error(at(p.path, 'port'), `${port}/${protocol} is declared twice`);
      seen.add(key);
    }
    if (port === undefined || targetPort === undefined) continue;
    ports.push(Object.freeze({ ...(name === undefined ? {} : { name }), port, targetPort, protocol, ...(appProtocol === undefined ? {} : { appProtocol }) }));
  }
  return ports;
}

function readClusterIp(ctx: ParseCtx, spec: Json): string | undefined {
  const text = stringField(ctx, spec, 'clusterIP', 'spec');
  const list = listField(ctx, spec, 'clusterIPs', 'spec');
  const first = typeof list?.[0] === 'string' ? list[0] : undefined;
  if (text !== undefined && first !== undefined && first !== text) ctx.error('spec.clusterIPs[0]', 'must equal spec.clusterIP');
  const value = text ?? first;
  if (value === undefined || value === '') return undefined;
  if (value === 'None') return 'None';
  const ip = parseIp(value);
  if (ip === undefined) return ctx.error(text === undefined ? 'spec.clusterIPs[0]' : 'spec.clusterIP', `${JSON.stringify(value)} is not an IP address or None`);
  return ip.addr;
}

export function readService(ctx: ParseCtx, doc: Json, apiVersion: string, source: ResourceSource): ServiceResource | undefined {
  const meta = readMetadata(ctx, doc, true, DNS_LABEL);
  const spec = recordField(ctx, doc, 'spec', '', true);
  if (meta === undefined || spec === undefined) return undefined;
  const type = (stringField(ctx, spec, 'type', 'spec', { oneOf: TYPES }) ?? 'ClusterIP') as ServiceResource['type'];
  const clusterIP = readClusterIp(ctx, spec);
  const selectorMap = stringMapField(ctx, spec, 'selector', 'spec');
  const ports = readPorts(ctx, spec);
  if (ports.length === 0 && type !== 'ExternalName' && clusterIP !== 'None') ctx.error('spec.ports', 'must declare at least one port');
  const families = listField(ctx, spec, 'ipFamilies', 'spec');
  let ipFamilies: (4 | 6)[] | undefined;
  if (families !== undefined) {
    ipFamilies = [];
    families.forEach((f, i) => {
      if (f === 'IPv4') ipFamilies?.push(4);
      else if (f === 'IPv6') ipFamilies?.push(6);
      else ctx.error(at('spec.ipFamilies', i), `${JSON.stringify(f)} must be "IPv4" or "IPv6"`);
    });
  }
  const ipFamily = clusterIP === undefined || clusterIP === 'None' ? undefined : (parseIp(clusterIP)?.family ?? 4);
  if (ipFamily !== undefined && ipFamilies !== undefined && ipFamilies[0] !== ipFamily) ctx.error('spec.ipFamilies[0]', `must match the family of clusterIP ${clusterIP}`);
  const names = new Map<string, number[]>();
  for (const p of ports) if (p.name !== undefined) names.set(p.name, [p.port]);
  checkLinkerdAnnotations(ctx, 'metadata.annotations', meta.annotations, names);
  if (ctx.errors > 0) return undefined;
  return Object.freeze({
    kind: 'Service',
    apiVersion,
    meta,
    source,
    type,
    clusterIP,
    ipFamilies: ipFamilies === undefined ? (ipFamily === undefined ? undefined : Object.freeze([ipFamily])) : Object.freeze(ipFamilies),
    selector: Object.keys(selectorMap).length === 0 ? undefined : selectorMap,
    ports: Object.freeze(ports),
  });
}

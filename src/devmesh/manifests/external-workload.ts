// ExternalWorkload (workload.linkerd.io v1beta1 `meshTLS`, v1alpha1 `meshTls`): identity, IPs, ports, Ready.
import { isUri } from '../../discovery/endpoint-decode.js';
import { parseIp } from '../../config/ip.js';
import { isValidDnsName } from '../../config/dns-name.js';
import { at, intField, recordField, recordItems, stringField, type Json, type ParseCtx } from './fields.js';
import { checkLinkerdAnnotations, readMetadata } from './metadata.js';
import type { DeclaredPort, ExternalWorkloadResource, ResourceSource } from './types.js';

export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

/** Ports as `spec.ports` / `containerPorts` declare them; names must be unique. */
export function readDeclaredPorts(ctx: ParseCtx, o: Json, key: string, path: string, portKey: string): DeclaredPort[] {
  const ports: DeclaredPort[] = [];
  const names = new Set<string>();
  for (const p of recordItems(ctx, o, key, path)) {
    const port = intField(ctx, p.value, portKey, p.path, { min: 1, max: 65535, required: true });
    const name = stringField(ctx, p.value, 'name', p.path, { pattern: { re: /^(?=.{1,15}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, expected: 'a port name (at most 15 lower-case letters, digits and "-")' } });
    const protocol = stringField(ctx, p.value, 'protocol', p.path, { oneOf: PROTOCOLS }) ?? 'TCP';
    if (name !== undefined) {
      if (names.has(name)) ctx.error(at(p.path, 'name'), `${JSON.stringify(name)} is declared twice`);
      names.add(name);
    }
    if (port !== undefined) ports.push(Object.freeze({ ...(name === undefined ? {} : { name }), port, protocol }));
  }
  return ports;
}

/** Port names to numbers, TCP only (what Servers and opaque-ports annotations can name). */
export function tcpPortNames(ports: readonly DeclaredPort[]): Map<string, number[]> {
  const names = new Map<string, number[]>();
  for (const p of ports) {
    if (p.name === undefined || p.protocol !== 'TCP') continue;
    names.set(p.name, [...(names.get(p.name) ?? []), p.port]);
  }
  return names;
}


export function readExternalWorkload(ctx: ParseCtx, doc: Json, apiVersion: string, source: ResourceSource): ExternalWorkloadResource | undefined {
  const meta = readMetadata(ctx, doc, true);
  const spec = recordField(ctx, doc, 'spec', '', true);
  if (meta === undefined || spec === undefined) return undefined;
  const alpha = apiVersion.endsWith('/v1alpha1');
  const tlsKey = alpha ? 'meshTls' : 'meshTLS';
  const other = alpha ? 'meshTLS' : 'meshTls';
  if (spec[other] !== undefined && spec[tlsKey] === undefined) {
    return ctx.error(at('spec', other), `is spelled ${tlsKey} in ${apiVersion}`);
  }
  const tls = recordField(ctx, spec, tlsKey, 'spec', true);
  const tp = at('spec', tlsKey);
  const identity = tls && stringField(ctx, tls, 'identity', tp, { required: true, minLength: 1, maxLength: 253 });
  const serverName = tls && stringField(ctx, tls, 'serverName', tp, { required: true, minLength: 1, maxLength: 253 });
  // The controller always sends a URI identity and proxies drop unusable ones: reject them here.
  if (identity !== undefined && !isUri(identity)) ctx.error(at(tp, 'identity'), `${JSON.stringify(identity)} is not a URI (proxies expect a SPIFFE ID such as spiffe://root.linkerd.cluster.local/name)`);
  if (serverName !== undefined && !isValidDnsName(serverName)) ctx.error(at(tp, 'serverName'), `${JSON.stringify(serverName)} is not a DNS name (it is the SNI peers send)`);

  const ips: string[] = [];
  const ipItems = recordItems(ctx, spec, 'workloadIPs', 'spec');
  const maxIps = alpha ? 1 : 2;
  if (ipItems.length > maxIps) ctx.error(at('spec', 'workloadIPs'), `may hold at most ${maxIps} address${maxIps === 1 ? '' : 'es'} in ${apiVersion}`);
  for (const item of ipItems) {
    const text = stringField(ctx, item.value, 'ip', item.path, { required: true });
    if (text === undefined) continue;
    const ip = parseIp(text);
    if (ip === undefined) {
      ctx.error(at(item.path, 'ip'), `${JSON.stringify(text)} is not an IP address`);
      continue;
    }
    if (ips.some((other) => (parseIp(other)?.family ?? 0) === ip.family)) ctx.error(at(item.path, 'ip'), 'two entries must be one IPv4 and one IPv6 address');
    ips.push(ip.addr);
  }
  const ports = readDeclaredPorts(ctx, spec, 'ports', 'spec', 'port');
  checkLinkerdAnnotations(ctx, 'metadata.annotations', meta.annotations, tcpPortNames(ports));

  let ready = false;
  const status = recordField(ctx, doc, 'status', '');
  if (status !== undefined) {
    for (const c of recordItems(ctx, status, 'conditions', 'status')) {
      const type = stringField(ctx, c.value, 'type', c.path, { required: true, minLength: 1 });
      const st = stringField(ctx, c.value, 'status', c.path, { required: true, oneOf: ['True', 'False', 'Unknown'] });
      if (type === 'Ready' && st === 'True') ready = true;
    }
  }
  if (identity === undefined || serverName === undefined || ctx.errors > 0) return undefined;
  return Object.freeze({
    kind: 'ExternalWorkload',
    apiVersion,
    meta,
    source,
    identity,
    serverName,
    ips: Object.freeze(ips),
    ports: Object.freeze(ports),
    ready,
  });
}

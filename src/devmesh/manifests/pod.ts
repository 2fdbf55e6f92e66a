// Pod (v1) and Deployment (apps/v1): labels, pod spec (service account, container ports, HTTP probes), IPs.
import { parseIp } from '../../config/ip.js';
import { readDeclaredPorts, tcpPortNames } from './external-workload.js';
import { DNS_LABEL, at, intField, portRef, recordField, recordItems, stringField, stringMapField, type Json, type ParseCtx } from './fields.js';
import { checkLinkerdAnnotations, readIpsAnnotation, readMetadata } from './metadata.js';
import { readLabelSelector, selectorMatches } from './selector.js';
import type { DeclaredPort, DeploymentResource, HttpProbe, PodResource, PodSpecInfo, ResourceSource } from './types.js';

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'];

function readProbes(ctx: ParseCtx, c: Json, path: string, ports: readonly DeclaredPort[]): HttpProbe[] {
  const probes: HttpProbe[] = [];
  for (const key of PROBES) {
    const probe = recordField(ctx, c, key, path);
    const httpGet = probe && recordField(ctx, probe, 'httpGet', at(path, key));
    if (httpGet === undefined) continue;
    const hp = at(at(path, key), 'httpGet');
    const ref = portRef(ctx, httpGet.port, at(hp, 'port'));
    const rawPath = stringField(ctx, httpGet, 'path', hp) ?? '/';
    if (ref === undefined) continue;
    const port = typeof ref === 'number' ? ref : ports.find((p) => p.protocol === 'TCP' && p.name?.toLowerCase() === ref.toLowerCase())?.port;
    if (port === undefined) {
      ctx.warn(at(hp, 'port'), `names no port of this container; the probe is not authorized`);
      continue;
    }
    probes.push(Object.freeze({ port, path: rawPath.split('?')[0] ?? '/' }));
  }
  return probes;
}

/** A pod spec at `path` (a Pod's `spec` or a Deployment's `spec.template.spec`). */
export function readPodSpec(ctx: ParseCtx, spec: Json, path: string): PodSpecInfo {
  const ports: DeclaredPort[] = [];
  const probes: HttpProbe[] = [];
  const containers = recordItems(ctx, spec, 'containers', path, true);
  if (containers.length === 0 && spec.containers !== undefined) ctx.error(at(path, 'containers'), 'must not be empty');
  for (const c of [...containers, ...recordItems(ctx, spec, 'initContainers', path)]) {
    stringField(ctx, c.value, 'name', c.path, { required: true, pattern: DNS_LABEL });
    const own = readDeclaredPorts(ctx, c.value, 'ports', c.path, 'containerPort');
    ports.push(...own);
    probes.push(...readProbes(ctx, c.value, c.path, own));
  }
  const sa = stringField(ctx, spec, 'serviceAccountName', path, { pattern: DNS_LABEL }) ?? stringField(ctx, spec, 'serviceAccount', path, { pattern: DNS_LABEL });
  const hostname = stringField(ctx, spec, 'hostname', path, { pattern: DNS_LABEL });
  const subdomain = stringField(ctx, spec, 'subdomain', path, { pattern: DNS_LABEL });
  return Object.freeze({
    serviceAccount: sa ?? 'default',
    ports: Object.freeze(ports),
    probes: Object.freeze(probes),
    ...(hostname === undefined ? {} : { hostname }),
    ...(subdomain === undefined ? {} : { subdomain }),
  });
}

function portNames(spec: PodSpecInfo): Map<string, number[]> {
  return tcpPortNames(spec.ports);
}

export function readPod(ctx: ParseCtx, doc: Json, apiVersion: string, source: ResourceSource): PodResource | undefined {
  const meta = readMetadata(ctx, doc, true);
  const specDoc = recordField(ctx, doc, 'spec', '', true);
  if (meta === undefined || specDoc === undefined) return undefined;
  const spec = readPodSpec(ctx, specDoc, 'spec');
  checkLinkerdAnnotations(ctx, 'metadata.annotations', meta.annotations, portNames(spec));
  const ips = readIpsAnnotation(ctx, 'metadata.annotations', meta.annotations) ?? [];
  const families = ips.map((ip) => parseIp(ip)?.family);
  if (ips.length > 2 || new Set(families).size !== families.length) {
    ctx.error('metadata.annotations["devmesh.l5d.io/ips"]', 'a Pod has at most one IPv4 and one IPv6 address');
  }
  let ready = true;
  const status = recordField(ctx, doc, 'status', '');
  for (const c of status === undefined ? [] : recordItems(ctx, status, 'conditions', 'status')) {
    if (c.value.type === 'Ready' && c.value.status !== 'True') ready = false;
  }
  if (ctx.errors > 0) return undefined;
  return Object.freeze({ kind: 'Pod', apiVersion, meta, source, spec, ips: Object.freeze(ips), ready });
}

export function readDeployment(ctx: ParseCtx, doc: Json, apiVersion: string, source: ResourceSource): DeploymentResource | undefined {
  const meta = readMetadata(ctx, doc, true);
  const spec = recordField(ctx, doc, 'spec', '', true);
  if (meta === undefined || spec === undefined) return undefined;
  const replicas = intField(ctx, spec, 'replicas', 'spec', { min: 0, max: 1000 }) ?? 1;
  const sel = recordField(ctx, spec, 'selector', 'spec', true);
  const selector = sel === undefined ? undefined : readLabelSelector(ctx, sel, 'spec.selector');
  const template = recordField(ctx, spec, 'template', 'spec', true);
  const tmeta = template && recordField(ctx, template, 'metadata', 'spec.template');
  const labels = tmeta === undefined ? Object.freeze({}) : stringMapField(ctx, tmeta, 'labels', 'spec.template.metadata');
  const annotations = tmeta === undefined ? Object.freeze({}) : stringMapField(ctx, tmeta, 'annotations', 'spec.template.metadata');
  const tspec = template && recordField(ctx, template, 'spec', 'spec.template', true);
  const podSpec = tspec === undefined ? undefined : readPodSpec(ctx, tspec, 'spec.template.spec');
  if (selector !== undefined && Object.keys(selector.matchLabels).length + selector.matchExpressions.length === 0) {
    ctx.error('spec.selector', 'must not be empty');
  } else if (selector !== undefined && template !== undefined && !selectorMatches(selector, labels)) {
    ctx.error('spec.template.metadata.labels', 'do not match spec.selector');
  }
  if (podSpec !== undefined) checkLinkerdAnnotations(ctx, 'spec.template.metadata.annotations', annotations, portNames(podSpec));
  const ips =
    readIpsAnnotation(ctx, 'metadata.annotations', meta.annotations) ?? readIpsAnnotation(ctx, 'spec.template.metadata.annotations', annotations) ?? [];
  if (ips.length > replicas) ctx.warn('metadata.annotations["devmesh.l5d.io/ips"]', `lists ${ips.length} addresses for ${replicas} replica(s); the extra ones are unused`);
  if (ctx.errors > 0 || selector === undefined || podSpec === undefined) return undefined;
  return Object.freeze({
    kind: 'Deployment',
    apiVersion,
    meta,
    source,
    replicas,
    selector,
    template: Object.freeze({ labels, annotations, spec: podSpec }),
    ips: Object.freeze(ips),
  });
}

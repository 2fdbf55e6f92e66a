// The walkthrough's manifests for the loopback layout: its addresses moved into 127.18/16 and its app port 80 (root only) to 8080.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseAllDocuments, type Document, type YAMLMap } from 'yaml';
import { LOOPBACK_APP_PORT, loopbackIpOf } from './topology.js';

/** The port the walkthrough's apps listen on, which a non-root process cannot bind. */
const WALKTHROUGH_APP_PORT = 80;
const IPS_ANNOTATION = 'devmesh.l5d.io/ips';

/** One field the rewrite changed. */
export interface ManifestChange {
  readonly file: string;
  /** `Kind namespace/name`. */
  readonly resource: string;
  /** A dotted path into the resource. */
  readonly field: string;
  readonly from: string;
  readonly to: string;
}

type Note = (field: string, from: unknown, to: unknown) => void;

function mapAt(node: unknown, ...keys: string[]): YAMLMap | undefined {
  let cur = node;
  for (const k of keys) {
    if (!isMap(cur)) return undefined;
    cur = cur.get(k, true);
  }
  return isMap(cur) ? cur : undefined;
}

function seqItems(map: YAMLMap | undefined, key: string): YAMLMap[] {
  const seq = map?.get(key, true);
  return isSeq(seq) ? seq.items.filter((i): i is YAMLMap => isMap(i)) : [];
}

/** `devmesh.l5d.io/ips` lists addresses separated by commas (spaces allowed). */
function rewriteIpsAnnotation(metadata: YAMLMap | undefined, field: string, record: Note): void {
  const annotations = mapAt(metadata, 'annotations');
  const value = annotations?.get(IPS_ANNOTATION);
  if (annotations === undefined || typeof value !== 'string') return;
  const ips = value.split(',').map((ip) => ip.trim());
  if (ips.every((ip) => loopbackIpOf(ip) === ip)) return;
  const next = ips.map(loopbackIpOf).join(',');
  annotations.set(IPS_ANNOTATION, next);
  record(`${field}.annotations["${IPS_ANNOTATION}"]`, value, next);
}

/** Sets `map[key]` to the loopback app port when it is the walkthrough's app port. */
function movePort(map: YAMLMap, key: string, field: string, record: Note): void {
  if (map.get(key) !== WALKTHROUGH_APP_PORT) return;
  map.set(key, LOOPBACK_APP_PORT);
  record(field, WALKTHROUGH_APP_PORT, LOOPBACK_APP_PORT);
}

function rewriteContainers(podSpec: YAMLMap | undefined, field: string, record: Note): void {
  seqItems(podSpec, 'containers').forEach((c, i) => {
    seqItems(c, 'ports').forEach((p, j) => movePort(p, 'containerPort', `${field}.containers[${i}].ports[${j}].containerPort`, record));
  });
}

/** A Service keeps its own port; only where it sends traffic moves (a named targetPort follows the pod). */
function rewriteService(spec: YAMLMap | undefined, record: Note): void {
  seqItems(spec, 'ports').forEach((p, i) => {
    const field = `spec.ports[${i}].targetPort`;
    const target = p.get('targetPort');
    if (target === undefined || target === null) {
      if (p.get('port') !== WALKTHROUGH_APP_PORT) return;
      p.set('targetPort', LOOPBACK_APP_PORT);
      record(field, '(absent: the port, 80)', LOOPBACK_APP_PORT);
      return;
    }
    movePort(p, 'targetPort', field, record);
  });
}

function rewriteDocument(doc: Document, file: string, changes: ManifestChange[]): void {
  const root = doc.contents;
  if (!isMap(root)) return;
  const kind = root.get('kind');
  const metadata = mapAt(root, 'metadata');
  const text = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
  const resource = `${text(kind, '?')} ${text(metadata?.get('namespace'), 'default')}/${text(metadata?.get('name'), '?')}`;
  const record: Note = (field, from, to) => changes.push({ file, resource, field, from: String(from), to: String(to) });
  const spec = mapAt(root, 'spec');
  switch (kind) {
    case 'Pod':
      rewriteIpsAnnotation(metadata, 'metadata', record);
      rewriteContainers(spec, 'spec', record);
      return;
    case 'Deployment':
      rewriteIpsAnnotation(metadata, 'metadata', record);
      rewriteIpsAnnotation(mapAt(spec, 'template', 'metadata'), 'spec.template.metadata', record);
      rewriteContainers(mapAt(spec, 'template', 'spec'), 'spec.template.spec', record);
      return;
    case 'ExternalWorkload':
      seqItems(spec, 'workloadIPs').forEach((w, i) => {
        const ip = w.get('ip');
        if (typeof ip !== 'string' || loopbackIpOf(ip) === ip) return;
        w.set('ip', loopbackIpOf(ip));
        record(`spec.workloadIPs[${i}].ip`, ip, loopbackIpOf(ip));
      });
      seqItems(spec, 'ports').forEach((p, i) => movePort(p, 'port', `spec.ports[${i}].port`, record));
      return;
    case 'Service':
      rewriteService(spec, record);
      return;
    case 'Server':
      // A Server's port by number is the workload's port; by name it follows the container port.
      if (spec !== undefined) movePort(spec, 'port', 'spec.port', record);
      return;
    default:
  }
}

/**
 * Rewrites one manifest file's text for the loopback layout: Pod/Deployment `devmesh.l5d.io/ips`
 * and ExternalWorkload workloadIPs from 198.18.a.b to 127.18.a.b; the workload port 80 to 8080
 * (containerPort, ExternalWorkload ports, a numeric Server port, a Service targetPort given as a
 * number or absent). Service ports and named ports stay. Comments and layout are kept.
 */
export function rewriteManifestForLoopback(text: string, file: string): { text: string; changes: ManifestChange[] } {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return { text, changes: [] };
  const changes: ManifestChange[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    rewriteDocument(doc, file, changes);
  }
  if (changes.length === 0) return { text, changes };
  return { text: docs.map((d) => d.toString({ indentSeq: false, lineWidth: 0 })).join(''), changes };
}

/** Writes the rewritten copy of every `*.yaml` in `fromDir` to `toDir`; returns what changed. */
export function writeLoopbackManifests(fromDir: string, toDir: string): ManifestChange[] {
  mkdirSync(toDir, { recursive: true });
  const changes: ManifestChange[] = [];
  for (const f of readdirSync(fromDir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const r = rewriteManifestForLoopback(readFileSync(path.join(fromDir, f), 'utf8'), f);
    writeFileSync(path.join(toDir, f), r.text);
    changes.push(...r.changes);
  }
  return changes;
}

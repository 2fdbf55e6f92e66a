// buildSnapshot/loadSnapshot: one immutable MeshSnapshot answering every API call from the loaded manifests.
import { deepFreeze } from '../../config/freeze.js';
import { loadManifests } from '../manifests/load.js';
import type { DeclaredPort, ManifestResource, ManifestSet } from '../manifests/types.js';
import { resolvePolicies } from './authz.js';
import { buildCluster, type Cluster } from './cluster.js';
import { destinationGet, destinationProfile } from './destination.js';
import { inboundServer } from './inbound.js';
import { outboundPolicy } from './outbound.js';
import { resolveSettings, serviceAccountIdentity } from './settings.js';
import type { ManifestProblem, MeshSettings, MeshSnapshot, MeshWorkload, TrafficTarget } from './types.js';

/** Answers are computed once per snapshot and argument; a bound keeps odd callers from growing it without limit. */
const CACHE_LIMIT = 10_000;

function memo<A>(compute: (key: string) => A): (key: string) => A {
  const cache = new Map<string, A>();
  return (k) => {
    const hit = cache.get(k);
    if (hit !== undefined) return hit;
    const value = deepFreeze(compute(k));
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(k, value);
    return value;
  };
}

/** Declared TCP ports (the only ones a proxy serves). */
function tcpPorts(ports: readonly DeclaredPort[]): MeshWorkload['ports'] {
  return ports.filter((p) => p.protocol === 'TCP').map((p) => (p.name === undefined ? { port: p.port } : { name: p.name, port: p.port }));
}

/** The workloads that run a proxy: every ExternalWorkload and every meshed pod, in manifest order. */
function meshWorkloads(c: Cluster): MeshWorkload[] {
  const s = c.rs.settings;
  const all = [...c.ews, ...c.pods.filter((p) => p.meshed)].sort((a, b) => a.source.order - b.source.order || a.index - b.index);
  return all.map((w): MeshWorkload => {
    if (w.kind === 'external-workload') {
      return {
        kind: 'external-workload',
        namespace: w.namespace,
        name: w.name,
        ips: w.ips,
        labels: w.labels,
        identity: w.identity,
        serverName: w.serverName,
        ports: tcpPorts(w.ports),
      };
    }
    const identity = serviceAccountIdentity(s, w.namespace, w.spec.serviceAccount);
    return {
      kind: 'pod',
      namespace: w.namespace,
      name: w.name,
      ips: w.ips,
      labels: w.labels,
      identity,
      serverName: identity,
      serviceAccount: w.spec.serviceAccount,
      ports: tcpPorts(w.spec.ports),
    };
  });
}

/**
 * Computes the mesh from loaded manifests. `settings` override the stock Linkerd defaults
 * (a TypeError names an invalid one). Manifest problems, and those found while assembling the
 * cluster (address clashes, policies naming missing authentications), are in `problems`.
 */
export function buildSnapshot(manifests: ManifestSet | readonly ManifestResource[], settings: Partial<MeshSettings> = {}): MeshSnapshot {
  const set: ManifestSet = 'resources' in manifests ? manifests : { resources: manifests, problems: [] };
  const rs = resolveSettings(settings);
  const cluster = buildCluster(set, rs);
  const problems: ManifestProblem[] = [...cluster.problems];
  const policies = resolvePolicies(cluster, problems);
  const get = memo((path) => destinationGet(cluster, path));
  const profile = memo((path) => destinationProfile(cluster, path));
  const inbound = memo((k) => {
    const sep = k.lastIndexOf('\u0000');
    return inboundServer(cluster, policies, k.slice(0, sep), Number(k.slice(sep + 1)));
  });
  const outbound = memo((k) => {
    const { target, source } = JSON.parse(k) as { target: TrafficTarget; source: string };
    return outboundPolicy(cluster, target, source);
  });
  return Object.freeze({
    settings: rs.settings,
    problems: deepFreeze(problems),
    workloads: deepFreeze(meshWorkloads(cluster)),
    destinationGet: (path: string) => get(path),
    destinationProfile: (path: string) => profile(path),
    inboundServer: (workload: string, port: number) => inbound(`${workload}\u0000${port}`),
    outboundPolicy: (target: TrafficTarget, sourceWorkload: string) => outbound(JSON.stringify({ target, source: sourceWorkload })),
  });
}

/** Reads `paths` (files and directories of YAML) and builds their snapshot. */
export function loadSnapshot(paths: readonly string[], settings: Partial<MeshSettings> = {}): MeshSnapshot {
  return buildSnapshot(loadManifests(paths), settings);
}

// A hand-built MeshSnapshot for testing the servers without the manifest model: tables of answers, swapped by the test.
import type {
  DestinationAnswer, InboundAnswer, MeshSettings, MeshSnapshot, MeshWorkload, OutboundAnswer, ProfileAnswer, TrafficTarget,
} from '../../../../src/devmesh/model/types.js';

export const SETTINGS: MeshSettings = {
  clusterDomain: 'cluster.local',
  identityTrustDomain: 'cluster.local',
  controlPlaneNamespace: 'linkerd',
  clusterNetworks: ['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8'],
  defaultInboundPolicy: 'all-unauthenticated',
  defaultOpaquePorts: [25, 587, 3306, 4444, 5432, 6379, 9300, 11211],
};

export interface FakeTables {
  workloads?: MeshWorkload[];
  gets?: Record<string, DestinationAnswer>;
  profiles?: Record<string, ProfileAnswer>;
  /** Keyed `workload|port`. */
  inbound?: Record<string, InboundAnswer>;
  /** Keyed `ip:port` or the authority. */
  outbound?: Record<string, OutboundAnswer>;
}

const notFound = { kind: 'refused', code: 'NOT_FOUND', message: 'unknown' } as const;

export function fakeSnapshot(t: FakeTables): MeshSnapshot {
  return {
    settings: SETTINGS,
    problems: [],
    workloads: t.workloads ?? [],
    destinationGet: (path) => t.gets?.[path] ?? notFound,
    destinationProfile: (path) => t.profiles?.[path] ?? notFound,
    inboundServer: (workload, port) => t.inbound?.[`${workload}|${port}`] ?? notFound,
    outboundPolicy: (target: TrafficTarget) => t.outbound?.[target.kind === 'addr' ? `${target.ip}:${target.port}` : target.authority] ?? notFound,
  };
}

/** A loader whose answer the test replaces; `loads` counts rebuilds. */
export class FakeLoader {
  loads = 0;
  constructor(public tables: FakeTables = {}) {}
  readonly load = (): MeshSnapshot => {
    this.loads++;
    return fakeSnapshot(this.tables);
  };
}

export const EW: MeshWorkload = {
  kind: 'external-workload',
  namespace: 'mixed-env',
  name: 'external-workload',
  ips: ['10.0.0.5'],
  labels: { app: 'legacy-app' },
  identity: 'spiffe://root.linkerd.cluster.local/external-workload',
  serverName: 'external-workload.cluster.local',
  ports: [{ port: 80 }, { name: 'linkerd-proxy', port: 4143 }],
};

export const POD: MeshWorkload = {
  kind: 'pod',
  namespace: 'mixed-env',
  name: 'legacy-app-cluster',
  ips: ['10.0.0.6'],
  labels: { app: 'legacy-app' },
  identity: 'legacy-app.mixed-env.serviceaccount.identity.linkerd.cluster.local',
  serverName: 'legacy-app.mixed-env.serviceaccount.identity.linkerd.cluster.local',
  serviceAccount: 'legacy-app',
  ports: [{ name: 'http', port: 80 }],
};

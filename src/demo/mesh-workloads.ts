// What both demo layouts read from the control plane's first snapshot: manifest problems (shown), the legacy-app pod, each role's workload.
import type { DevControlPlane } from '../devmesh/index.js';
import type { Progress } from './progress.js';
import { LAYOUT, type Role } from './topology.js';

export interface MeshWorkloads {
  /** The legacy-app pod's name (its terminus answers hello-from-<name>). */
  readonly podName: string;
  /** The workload each role's proxy runs as, for `proxyEnv`. */
  readonly workloadOf: Readonly<Record<Role, string>>;
}

export function meshWorkloads(controlPlane: DevControlPlane, progress: Progress): MeshWorkloads {
  const snapshot = controlPlane.snapshot();
  for (const p of snapshot.problems) progress.info(`manifest ${p.severity}: ${p.file}${p.resource ? ` ${p.resource}` : ''}${p.field ? ` ${p.field}` : ''}: ${p.message}`);
  const pod = snapshot.workloads.find((w) => w.kind === 'pod' && w.labels.app === 'legacy-app');
  if (pod === undefined) throw new Error('examples/mesh-expansion has no legacy-app pod');
  return {
    podName: pod.name,
    workloadOf: { vm: LAYOUT.vm.workload, pod: `${pod.namespace}/${pod.name}`, client: LAYOUT.client.workload },
  };
}

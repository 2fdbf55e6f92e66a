// Finds the workload a user names as `ns/name`: a Pod or ExternalWorkload, or the one Pod of a Deployment.
import type { MeshSnapshot, MeshWorkload } from './model/types.js';

/**
 * Exact `namespace/name` first. Otherwise, since Deployment pods get generated names
 * (`legacy-app-78784c49cd-kmc2z`), a name that prefixes exactly one pod's name picks that pod.
 */
export function findWorkload(snapshot: MeshSnapshot, ref: string): MeshWorkload | undefined {
  const slash = ref.indexOf('/');
  const ns = ref.slice(0, slash);
  const name = ref.slice(slash + 1);
  if (slash <= 0 || name === '') return undefined;
  const inNs = snapshot.workloads.filter((w) => w.namespace === ns);
  const exact = inNs.find((w) => w.name === name);
  if (exact) return exact;
  const owned = inNs.filter((w) => w.kind === 'pod' && w.name.startsWith(`${name}-`));
  return owned.length === 1 ? owned[0] : undefined;
}

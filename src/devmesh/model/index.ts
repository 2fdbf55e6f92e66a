// The dev control plane's Kubernetes model: manifests in, MeshSnapshot (every API answer) out.
export { buildSnapshot, loadSnapshot } from './snapshot.js';
export { DEFAULT_MESH_SETTINGS, resolveSettings, serviceAccountIdentity, namespaceIdentity } from './settings.js';
export type { ResolvedSettings } from './settings.js';
export { parseWorkloadRef } from './workload-ref.js';
export type { WorkloadRef } from './workload-ref.js';
export { parseServiceName, DEFAULT_RETRY_BUDGET } from './destination.js';
export { MESHED_HTTP2, DEFAULT_WEIGHT } from './weighted-addr.js';
export type * from './types.js';

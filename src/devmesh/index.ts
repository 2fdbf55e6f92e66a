// The dev control plane's public API: start one from Kubernetes manifests, get each proxy's environment, close it.
import { loadSnapshot } from './model/index.js';
import { startWithLoader } from './dev-control-plane.js';
import type { DevControlPlane, DevControlPlaneOptions } from './dev-control-plane.js';
import type { SnapshotLoader } from './snapshot/snapshot-holder.js';

export type { DevControlPlane, DevControlPlaneOptions } from './dev-control-plane.js';
export type { ControlPlaneService } from './control-plane-servers.js';
export type { MeshSnapshot, MeshWorkload, ManifestProblem } from './model/types.js';
export { describeProblem } from './snapshot/snapshot-holder.js';
export { shellExports } from './proxy-env.js';

/**
 * Serves Destination, the two policy APIs, Identity (Certify) and any SPIFFE Workload API sockets
 * from the manifests in `opts.manifests`, rebuilding every answer when a manifest changes on disk.
 * `opts.loadSnapshot` replaces the manifest model (tests, embedders with their own source of truth).
 */
export function startDevControlPlane(opts: DevControlPlaneOptions & { readonly loadSnapshot?: SnapshotLoader }): Promise<DevControlPlane> {
  const settings = opts.directEndpoints === true ? { directEndpoints: true } : {};
  return startWithLoader(opts, opts.loadSnapshot ?? ((paths) => loadSnapshot(paths, settings)));
}

// Kubernetes manifests for the dev control plane: loading, validation and the typed resources.
export { applyInOrder, loadManifests, manifestFiles, parseManifestText, parseManifests } from './load.js';
export { SUPPORTED_KINDS, readDocument } from './resource.js';
export type { DocumentInput } from './resource.js';
export { selectorMatches, mapSelects, EMPTY_SELECTOR } from './selector.js';
export { parseCidr } from './authorization.js';
export * from './annotations.js';
export type * from './types.js';

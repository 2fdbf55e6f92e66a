// Turns one parsed YAML document into typed resources: dispatch on apiVersion/kind, `List` expansion, unknown kinds warned.
import type { ManifestProblem } from '../model/types.js';
import { readAuthorizationPolicy, readMeshTLSAuthentication, readNetworkAuthentication } from './authorization.js';
import { readExternalWorkload } from './external-workload.js';
import { DNS_LABEL, ParseCtx, isRecord, type Json } from './fields.js';
import { checkLinkerdAnnotations, readMetadata } from './metadata.js';
import { readDeployment, readPod } from './pod.js';
import { readServer } from './server.js';
import { readService } from './service.js';
import type { ManifestResource, ResourceSource } from './types.js';

type Reader = (ctx: ParseCtx, doc: Json, apiVersion: string, source: ResourceSource) => ManifestResource | undefined;

const POLICY_V1ALPHA1 = ['policy.linkerd.io/v1alpha1'];

const readNamespace: Reader = (ctx, doc, apiVersion, source) => {
  const meta = readMetadata(ctx, doc, false, DNS_LABEL);
  if (meta === undefined) return undefined;
  checkLinkerdAnnotations(ctx, 'metadata.annotations', meta.annotations);
  return ctx.errors > 0 ? undefined : Object.freeze({ kind: 'Namespace', apiVersion, meta, source });
};

const readServiceAccount: Reader = (ctx, doc, apiVersion, source) => {
  const meta = readMetadata(ctx, doc, true);
  return meta === undefined || ctx.errors > 0 ? undefined : Object.freeze({ kind: 'ServiceAccount', apiVersion, meta, source });
};

const KINDS: Readonly<Record<string, { readonly versions: readonly string[]; readonly read: Reader }>> = {
  ExternalWorkload: { versions: ['workload.linkerd.io/v1beta1', 'workload.linkerd.io/v1alpha1'], read: readExternalWorkload },
  Service: { versions: ['v1'], read: readService },
  Pod: { versions: ['v1'], read: readPod },
  Deployment: { versions: ['apps/v1'], read: readDeployment },
  Server: {
    versions: ['policy.linkerd.io/v1beta3', 'policy.linkerd.io/v1beta2', 'policy.linkerd.io/v1beta1', 'policy.linkerd.io/v1alpha1'],
    read: readServer,
  },
  AuthorizationPolicy: { versions: POLICY_V1ALPHA1, read: readAuthorizationPolicy },
  MeshTLSAuthentication: { versions: POLICY_V1ALPHA1, read: readMeshTLSAuthentication },
  NetworkAuthentication: { versions: POLICY_V1ALPHA1, read: readNetworkAuthentication },
  Namespace: { versions: ['v1'], read: readNamespace },
  ServiceAccount: { versions: ['v1'], read: readServiceAccount },
};

/** The kinds `readDocument` understands (anything else is skipped with a warning). */
export const SUPPORTED_KINDS: readonly string[] = Object.freeze(Object.keys(KINDS));

export interface DocumentInput {
  readonly file: string;
  readonly document: number;
  /** Hands out the next load position. */
  readonly nextOrder: () => number;
  readonly problems: ManifestProblem[];
}

/** Zero or more resources from one document; every problem goes to `input.problems`. */
export function readDocument(value: unknown, input: DocumentInput): ManifestResource[] {
  if (value === null || value === undefined) return [];
  const ctx = new ParseCtx(input.file, input.document, '', input.problems);
  if (!isRecord(value)) {
    ctx.error(undefined, 'is not a Kubernetes object (expected a map with apiVersion and kind)');
    return [];
  }
  const apiVersion = value.apiVersion;
  const kind = value.kind;
  if (typeof kind !== 'string' || kind === '') {
    ctx.error('kind', 'is required');
    return [];
  }
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    ctx.error('apiVersion', 'is required');
    return [];
  }
  if (kind === 'List' && apiVersion === 'v1') {
    const items = Array.isArray(value.items) ? (value.items as unknown[]) : [];
    return items.flatMap((item) => readDocument(item, input));
  }
  const named = new ParseCtx(input.file, input.document, kind, input.problems);
  const meta = isRecord(value.metadata) ? value.metadata : undefined;
  if (typeof meta?.name === 'string') named.named(typeof meta.namespace === 'string' ? meta.namespace : kind === 'Namespace' ? '' : 'default', meta.name);
  const known = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (known === undefined) {
    named.warn(undefined, `kind ${kind} (${apiVersion}) is not used by the dev control plane; skipped`);
    return [];
  }
  if (!known.versions.includes(apiVersion)) {
    named.error('apiVersion', `${kind} is supported as ${known.versions.join(', ')}, not ${apiVersion}`);
    return [];
  }
  const fresh = new ParseCtx(input.file, input.document, kind, input.problems);
  const source = Object.freeze({ file: input.file, document: input.document, order: input.nextOrder() });
  const resource = known.read(fresh, value, apiVersion, source);
  return resource === undefined ? [] : [resource];
}
